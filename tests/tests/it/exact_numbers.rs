//! An event's `data` reaches the endpoint as the producer wrote it (issue #15): integers
//! beyond 64 bits and long decimals byte for byte, keys in their order, only the whitespace
//! between tokens dropped — through local mode's real HTTP sender, signed so that the
//! independent Python verifiers accept it; and a failure record keeps it on DynamoDB.

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use authhooks::domain::delivery::{DeliveryJob, FailureRecord};
use authhooks::domain::event::{parse_submission, EventLimits};
use authhooks::domain::ids::EndpointId;
use authhooks::domain::outcome::FailureReason;
use authhooks::ports::FailureStore;
use authhooks_tests::local::LocalServer;
use authhooks_tests::moto::aws_world;
use authhooks_tests::{verify_with_python, Receiver};

const ADMIN_TOKEN: &str = "exact-numbers-admin-token";
const INGEST_SECRET: &str = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// As a producer might write it: spaced out, keys unsorted, numbers no `f64` holds exactly.
const DATA: &str = r#"{ "u64_plus_one": 18446744073709551616,
  "i64_minus_one" : -9223372036854775809,
  "pi": 3.14159265358979323846264338327950288419716939937510,
  "tenth": 0.1000000000000000055511151231257827021181583404541015625,
  "exponent": 1.0E+2, "tiny": 1e-999, "zero": -0.0,
  "nested": {"z": [123456789012345678901234567890, 1.50], "a": "\u00e9 \" x"} }"#;

/// What the endpoint must receive as `data`.
const DELIVERED: &str = r#"{"u64_plus_one":18446744073709551616,"i64_minus_one":-9223372036854775809,"pi":3.14159265358979323846264338327950288419716939937510,"tenth":0.1000000000000000055511151231257827021181583404541015625,"exponent":1.0E+2,"tiny":1e-999,"zero":-0.0,"nested":{"z":[123456789012345678901234567890,1.50],"a":"\u00e9 \" x"}}"#;

fn event_text(id: &str) -> String {
    format!(r#"{{"id":"{id}","type":"user.updated","data":{DATA},"subject":"u_1"}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn numbers_beyond_64_bits_are_delivered_byte_exact_and_verify() {
    let local = LocalServer::start(ADMIN_TOKEN, INGEST_SECRET, 1).await;
    let receiver = Receiver::start().await;
    let created = local
        .create_endpoint(&json!({"url": receiver.url(), "event_types": ["user.*"]}))
        .await;
    let secret = created["secret"].as_str().unwrap().to_owned();

    let (status, answer, _) = local.ingest(event_text("evt_exact_1").as_bytes()).await;
    assert_eq!(status, 202, "{answer}");

    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    local.running.shutdown().await;
    let delivered = String::from_utf8(received[0].body.clone()).unwrap();
    assert!(
        delivered.contains(&format!(r#","data":{DELIVERED},"#)),
        "{delivered}"
    );
    verify_with_python(&secret, &received).unwrap();
}

fn failure(id: &str) -> FailureRecord {
    let at = Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0).unwrap();
    let event = parse_submission(
        event_text(id).as_bytes(),
        &EventLimits::default(),
        at,
        &mut || 7,
    )
    .unwrap()
    .remove(0);
    let job = DeliveryJob::new(event, EndpointId::parse("ep_exact").unwrap());
    FailureRecord::new(job, FailureReason::Exhausted, at)
}

#[tokio::test]
async fn a_failure_record_keeps_the_exact_data_on_dynamodb() {
    let world = aws_world().await;
    let record = failure("evt_exact_2");
    assert_eq!(record.job.event.data.as_str(), DELIVERED);
    assert!(world.failures.record(&record).await.unwrap());
    let stored = world.failures.get(&record.id).await.unwrap().unwrap();
    assert_eq!(stored.job.event.data.as_str(), DELIVERED);
    assert_eq!(stored, record);
}

/// `value` as serde_dynamo wrote it before jobs were stored as text.
fn attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(items) => AttributeValue::L(items.iter().map(attribute).collect()),
        Value::Object(map) => {
            AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), attribute(v))).collect())
        }
    }
}

#[tokio::test]
async fn a_failure_record_written_with_the_job_as_a_map_still_loads() {
    let world = aws_world().await;
    let mut record = failure("evt_exact_3");
    record.job.event.data = json!({"user": {"id": "u_1", "n": 42}})
        .as_object()
        .unwrap()
        .clone()
        .into();
    assert!(world.failures.record(&record).await.unwrap());
    let old = serde_json::to_value(&record.job).unwrap();
    world
        .dynamodb
        .update_item()
        .table_name(&world.tables.failures)
        .key("id", AttributeValue::S(record.id.clone()))
        .update_expression("SET job = :job")
        .expression_attribute_values(":job", attribute(&old))
        .send()
        .await
        .unwrap();
    let loaded = world.failures.get(&record.id).await.unwrap().unwrap();
    assert_eq!(loaded, record);
}
