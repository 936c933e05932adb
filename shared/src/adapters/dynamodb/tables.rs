//! Creates the tables with the key schemas documented in the module above (for tests
//! and local mode against any DynamoDB API; on AWS the SAM template makes them).

use std::time::Duration;

use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_dynamodb::Client;

use super::error::{build_error, sdk_error};
use crate::ports::PortError;

/// The `by_time` index of the failures table: every record under one partition.
pub const FAILURES_BY_TIME: &str = "by_time";
/// The `by_endpoint` index of the failures table.
pub const FAILURES_BY_ENDPOINT: &str = "by_endpoint";
/// The constant `kind` of every failure record, the partition of `by_time`.
pub const FAILURE_KIND: &str = "failure";
/// The sources table's `by_kind` index: the sources alone (their failed requests carry no
/// `kind`, so the index is sparse), which a list queries instead of scanning the table.
pub const SOURCES_BY_KIND: &str = "by_kind";
/// The `kind` of a source item, the partition of `by_kind`.
pub const SOURCE_KIND: &str = "source";
/// The state table's TTL attribute, in epoch seconds.
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// How long to wait for a new table to become active (on AWS, seconds; moto, at once).
const ACTIVE_WAIT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub endpoints: String,
    pub state: String,
    pub failures: String,
    pub delivery_log: String,
    pub sources: String,
}

impl TableNames {
    /// Each table named by `name` from its role (`endpoints`, `state`, `failures`,
    /// `delivery-log`), so a new table is named here and nowhere else.
    pub fn named(mut name: impl FnMut(&str) -> String) -> Self {
        Self {
            endpoints: name("endpoints"),
            state: name("state"),
            failures: name("failures"),
            delivery_log: name("delivery-log"),
            sources: name("sources"),
        }
    }
}

/// Creates the endpoints, state, failures, delivery log and sources tables (on-demand capacity, the
/// failures indexes, TTL on the state, delivery log and sources tables). Tables that already exist
/// are left as they are.
pub async fn create_tables(client: &Client, names: &TableNames) -> Result<(), PortError> {
    create_table(client, &names.endpoints, ("id", None), (Vec::new(), &[])).await?;
    create_table(client, &names.state, ("pk", None), (Vec::new(), &[])).await?;
    let indexes = vec![
        index(FAILURES_BY_TIME, "kind", "sort_key")?,
        index(FAILURES_BY_ENDPOINT, "endpoint_id", "sort_key")?,
    ];
    let attributes = ["kind", "endpoint_id", "sort_key"];
    create_table(
        client,
        &names.failures,
        ("id", None),
        (indexes, &attributes),
    )
    .await?;
    let no_index = (Vec::new(), &[][..]);
    create_table(client, &names.delivery_log, ("pk", Some("sk")), no_index).await?;
    let by_kind = vec![index(SOURCES_BY_KIND, "kind", "pk")?];
    create_table(
        client,
        &names.sources,
        ("pk", Some("sk")),
        (by_kind, &["kind"]),
    )
    .await?;
    enable_ttl(client, &names.state).await?;
    enable_ttl(client, &names.delivery_log).await?;
    enable_ttl(client, &names.sources).await
}

fn string_attribute(name: &str) -> Result<AttributeDefinition, PortError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build_error)
}

fn key_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement, PortError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(build_error)
}

/// An index on `partition` then `sort`, projecting every attribute so a list is one Query.
fn index(name: &str, partition: &str, sort: &str) -> Result<GlobalSecondaryIndex, PortError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key_element(partition, KeyType::Hash)?)
        .key_schema(key_element(sort, KeyType::Range)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(build_error)
}

async fn create_table(
    client: &Client,
    name: &str,
    (hash_key, range_key): (&str, Option<&str>),
    // The indexes, and the attributes their keys use beyond the table's own.
    (indexes, index_attributes): (Vec<GlobalSecondaryIndex>, &[&str]),
) -> Result<(), PortError> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute(hash_key)?)
        .key_schema(key_element(hash_key, KeyType::Hash)?);
    if let Some(range_key) = range_key {
        request = request
            .attribute_definitions(string_attribute(range_key)?)
            .key_schema(key_element(range_key, KeyType::Range)?);
    }
    for attribute in index_attributes {
        request = request.attribute_definitions(string_attribute(attribute)?);
    }
    for index in indexes {
        request = request.global_secondary_indexes(index);
    }
    match request.send().await {
        Ok(_) => {}
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(err) => return Err(sdk_error("CreateTable", err)),
    }
    client
        .wait_until_table_exists()
        .table_name(name)
        .wait(ACTIVE_WAIT)
        .await
        .map_err(|e| {
            PortError::Unavailable(format!(
                "table {name} not active: {}",
                DisplayErrorContext(e)
            ))
        })?;
    Ok(())
}

async fn enable_ttl(client: &Client, table: &str) -> Result<(), PortError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeTimeToLive", e))?;
    let status = current
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status());
    // Enabling it twice is an error, so only a table without TTL gets it.
    if matches!(
        status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ) {
        return Ok(());
    }
    let spec = TimeToLiveSpecification::builder()
        .attribute_name(TTL_ATTRIBUTE)
        .enabled(true)
        .build()
        .map_err(build_error)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(spec)
        .send()
        .await
        .map_err(|e| sdk_error("UpdateTimeToLive", e))?;
    Ok(())
}
