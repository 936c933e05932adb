//! Counts the AWS requests an SDK client makes, by operation, and the DynamoDB write and
//! read request units they consume, via an SDK interceptor (no change to the adapters).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::GetItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// How a FIFO queue's URL ends inside a JSON request body.
const FIFO_URL_END: &[u8] = b".fifo\"";

/// Requests by "Service.Operation", and the largest item image each write sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub requests: BTreeMap<String, u64>,
    /// Bytes of the item (PutItem) or key plus updated values (UpdateItem) of each write.
    pub write_sizes: Vec<usize>,
    /// Strongly consistent reads (1 RRU per 4 KB) and eventually consistent ones (½).
    pub consistent_reads: u64,
    pub eventual_reads: u64,
    /// Bytes logged at `info` meanwhile (`log_bytes`).
    pub log_bytes: u64,
}

impl Counts {
    pub fn of(&self, service: &str) -> u64 {
        self.requests
            .iter()
            .filter(|(op, _)| op.starts_with(service))
            .map(|(_, n)| n)
            .sum()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<Mutex<Counts>>);

impl Counter {
    /// What was counted since the last take, and starts afresh.
    pub fn take(&self) -> Counts {
        let mut counts = self
            .0
            .lock()
            .map(|mut counts| std::mem::take(&mut *counts))
            .unwrap_or_default();
        counts.log_bytes = crate::log_bytes::take();
        counts
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "authhooks-bench request counter"
    }

    /// Every attempt is a billed request: counted from the JSON protocol's target header
    /// (`DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessageBatch`). Requests to a FIFO
    /// queue are billed at FIFO's price, so they are told apart (`sqs.fifo.…`) by the queue
    /// URL in the body: FIFO queue names, so URLs, end in `.fifo`.
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request();
        let target = request.headers().get("x-amz-target");
        let fifo = request
            .body()
            .bytes()
            .is_some_and(|body| body.windows(FIFO_URL_END.len()).any(|w| w == FIFO_URL_END));
        let op = match target.and_then(|t| t.split_once('.')) {
            Some((service, op)) if service.starts_with("DynamoDB") => format!("dynamodb.{op}"),
            Some((_, op)) if fifo => format!("sqs.fifo.{op}"),
            Some((_, op)) => format!("sqs.{op}"),
            None => "unknown".to_owned(),
        };
        let mut counts = self.0.lock().map_err(|_| "counter poisoned")?;
        *counts.requests.entry(op).or_insert(0) += 1;
        Ok(())
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input();
        let mut counts = self.0.lock().map_err(|_| "counter poisoned")?;
        if let Some(put) = input.downcast_ref::<PutItemInput>() {
            counts.write_sizes.push(item_size(put.item()));
        } else if let Some(update) = input.downcast_ref::<UpdateItemInput>() {
            let values = update.expression_attribute_values();
            counts
                .write_sizes
                .push(item_size(update.key()) + item_size(values));
        } else if let Some(delete) = input.downcast_ref::<DeleteItemInput>() {
            counts.write_sizes.push(item_size(delete.key()));
        } else if let Some(get) = input.downcast_ref::<GetItemInput>() {
            if get.consistent_read() == Some(true) {
                counts.consistent_reads += 1;
            } else {
                counts.eventual_reads += 1;
            }
        } else if let Some(batch) = input.downcast_ref::<BatchGetItemInput>() {
            // Billed as one GetItem per key asked for, found or not.
            for keys in batch.request_items().into_iter().flat_map(|m| m.values()) {
                let n = keys.keys().len() as u64;
                if keys.consistent_read() == Some(true) {
                    counts.consistent_reads += n;
                } else {
                    counts.eventual_reads += n;
                }
            }
        }
        Ok(())
    }
}

/// DynamoDB's item size: attribute names plus values (strings and binaries by length,
/// numbers ~1 byte per 2 digits + 1, collections 3 bytes plus 1 per element).
pub fn item_size(item: Option<&std::collections::HashMap<String, AttributeValue>>) -> usize {
    item.map(|map| map.iter().map(|(k, v)| k.len() + value_size(v)).sum())
        .unwrap_or(0)
}

pub fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.len().div_ceil(2) + 1,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| n.len().div_ceil(2) + 1).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, x)| 1 + k.len() + value_size(x))
                .sum::<usize>()
        }
        _ => 0,
    }
}

/// Write units of one write of `bytes` (1 per KB, rounded up, at least 1).
pub fn write_units(bytes: usize) -> u64 {
    (bytes.div_ceil(1024)).max(1) as u64
}
