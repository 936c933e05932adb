//! Micro-benchmarks of the per-event domain work: signing, verifying, parsing a
//! submission, and choosing endpoints (`cargo bench -p authhooks --bench domain`).

use std::hint::black_box;

use authhooks::domain::endpoint::{Endpoint, UrlPolicy};
use authhooks::domain::endpoint_spec::parse_new;
use authhooks::domain::event::{parse_submission, EventLimits};
use authhooks::domain::ids::{DeliveryId, EndpointId, EventId};
use authhooks::domain::signature::{sign, signature_header, verify, Secret, SignedHeaders};
use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};

const NOW: i64 = 1_700_000_000;

/// A typical identity event: a user with a handful of profile fields (~400 bytes).
fn typical_event(n: usize) -> Value {
    json!({
        "id": format!("evt_{n:08}"),
        "type": "user.updated",
        "timestamp": "2023-11-14T22:13:20Z",
        "subject": format!("usr_{n}"),
        "tenant_id": "tenant_acme",
        "origin": "payload",
        "data": {
            "user": {
                "id": format!("usr_{n}"),
                "email": "ada.lovelace@example.com",
                "email_verified": true,
                "name": "Ada Lovelace",
                "roles": ["admin", "editor"],
                "updated_at": "2023-11-14T22:13:20Z",
                "changes": {"name": {"from": "Ada", "to": "Ada Lovelace"}},
                "locale": "en-GB"
            }
        }
    })
}

fn body(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

fn signing(c: &mut Criterion) {
    let one = Secret::generate([7; 32]);
    let two = Secret::generate([9; 32]);
    let payload = body(&typical_event(1));
    let mut g = c.benchmark_group("signature");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sign", |b| {
        b.iter(|| sign(black_box(&one), "msg_1", NOW, black_box(&payload)))
    });
    for secrets in [vec![&one], vec![&two, &one]] {
        // The producer signed with the older secret: with two, both MACs are computed.
        let header = signature_header([&one], "msg_1", NOW, &payload);
        let headers = SignedHeaders {
            id: "msg_1",
            timestamp: "1700000000",
            signature: &header,
        };
        let name = format!("verify_{}_secret", secrets.len());
        g.bench_function(name, |b| {
            b.iter(|| {
                verify(
                    secrets.iter().copied(),
                    black_box(&headers),
                    black_box(&payload),
                    NOW,
                    300,
                )
            })
        });
    }
    g.finish();
}

fn parsing(c: &mut Criterion) {
    let now = Utc.timestamp_opt(NOW, 0).single().unwrap_or_default();
    let limits = EventLimits::default();
    let single = body(&typical_event(1));
    let batch = body(&json!({"events": (0..100).map(typical_event).collect::<Vec<_>>()}));
    let mut g = c.benchmark_group("parse_validate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_event", |b| {
        b.iter(|| parse_submission(black_box(&single), &limits, now, &mut || 42))
    });
    g.throughput(Throughput::Elements(100));
    g.bench_function("batch_100", |b| {
        b.iter(|| parse_submission(black_box(&batch), &limits, now, &mut || 42))
    });
    g.finish();
}

/// 1 000 endpoints with mixed patterns: a quarter `*`, a quarter prefixes, a quarter
/// exact types (some matching), a quarter tenant-scoped or with an origin loop guard.
fn endpoints() -> Vec<Endpoint> {
    let now = Utc.timestamp_opt(NOW, 0).single().unwrap_or_default();
    let patterns = [
        json!({"event_types": ["*"]}),
        json!({"event_types": ["user.*", "session.*"]}),
        json!({"event_types": ["org.member.*"]}),
        json!({"event_types": ["user.created", "user.deleted"]}),
        json!({"event_types": ["user.updated"]}),
        json!({"event_types": ["*"], "tenant_id": "tenant_other"}),
        json!({"event_types": ["user.*"], "tenant_id": "tenant_acme"}),
        json!({"event_types": ["*"], "origin": "payload"}),
    ];
    (0..1000)
        .filter_map(|i| {
            let mut spec = patterns[i % patterns.len()].clone();
            spec["url"] = json!(format!("https://hooks{i}.example.com/in"));
            parse_new(
                &spec,
                &UrlPolicy::default(),
                now,
                &mut || i as u128,
                [3; 32],
            )
            .ok()
            .map(|(endpoint, _)| endpoint)
        })
        .collect()
}

fn matching(c: &mut Criterion) {
    let now = Utc.timestamp_opt(NOW, 0).single().unwrap_or_default();
    let endpoints = endpoints();
    assert_eq!(endpoints.len(), 1000, "every endpoint spec must parse");
    let events = parse_submission(
        &body(&typical_event(1)),
        &EventLimits::default(),
        now,
        &mut || 1,
    )
    .unwrap_or_default();
    let Some(event) = events.first() else {
        panic!("the typical event must parse");
    };
    let mut g = c.benchmark_group("filter");
    g.throughput(Throughput::Elements(endpoints.len() as u64));
    g.bench_function("one_event_1000_endpoints", |b| {
        b.iter(|| {
            endpoints
                .iter()
                .filter(|e| e.receives(black_box(event)))
                .count()
        })
    });
    g.finish();
}

/// A delivery id from its event and endpoint ids: once per delivery at ingest and again in
/// the worker's job (issue #17's profile put it at 3 % of local mode's time).
fn ids(c: &mut Criterion) {
    let event = EventId::parse("evt_01KBF3Y8Z0QF4XW9Q2T7H5M1RZ").unwrap_or_else(|e| panic!("{e}"));
    let endpoint =
        EndpointId::parse("ep_01KBF2AAAQ1M8T0V6F9R3X2YJD").unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("ids");
    g.bench_function("delivery_id_derive", |b| {
        b.iter(|| DeliveryId::derive(black_box(&event), black_box(&endpoint)))
    });
    g.finish();
}

criterion_group!(benches, signing, parsing, matching, ids);
criterion_main!(benches);
