//! An [`HttpSender`] built at its first delivery. The functions that assemble the whole
//! system but never deliver (ingest, admin, dlq) hold one of these, so their cold start
//! does not pay for a TLS client they never use; the worker builds its sender eagerly, so a
//! client that cannot be built fails its cold start instead of its first delivery.

use std::sync::OnceLock;
use std::time::Duration;

use async_trait::async_trait;

use super::sender::{HttpError, HttpSender, SenderConfig};
use crate::domain::outcome::{AttemptResult, TransportFailure};
use crate::ports::{OutgoingRequest, SendReport, Sender};

pub struct LazyHttpSender {
    config: SenderConfig,
    built: OnceLock<Result<HttpSender, HttpError>>,
}

impl LazyHttpSender {
    pub fn new(config: SenderConfig) -> Self {
        Self {
            config,
            built: OnceLock::new(),
        }
    }
}

#[async_trait]
impl Sender for LazyHttpSender {
    async fn send(&self, request: OutgoingRequest) -> SendReport {
        match self
            .built
            .get_or_init(|| HttpSender::new(self.config.clone()))
        {
            Ok(sender) => sender.send(request).await,
            Err(e) => SendReport {
                result: AttemptResult::Transport(TransportFailure::Other(e.to_string())),
                latency: Duration::ZERO,
            },
        }
    }
}
