//! Real deliveries through the pipeline after a secret rotation, checked by the independent
//! Python verifiers (standardwebhooks, svix) at the time each was sent: during the grace
//! period both the old and the new secret verify; after it, only the new one.

use std::time::Duration;

use serde_json::json;

use authhooks::domain::signature::Secret;
use authhooks_tests::oracle::verify_with_python_at;
use authhooks_tests::sender::status;
use authhooks_tests::{Sent, World};

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
const URL: &str = "http://rotating.test/hook";

fn event(id: &str) -> serde_json::Value {
    json!({"id": id, "type": "user.updated", "data": {"user": {"id": "u_1"}}})
}

/// Both reference libraries, at the instant the request was sent.
fn python_verifies(secret: &Secret, sent: &Sent) -> Result<(), String> {
    verify_with_python_at(&secret.expose(), &[sent.recorded()], sent.at)
}

/// Delivers one event through the pipeline and returns the request the receiver got.
async fn deliver(world: &World, id: &str) -> Sent {
    world.ingest(&event(id)).await.unwrap();
    world.run_until_idle(DAY).await;
    let sent = world.sender.sent();
    let last = sent.last().expect("a delivery").clone();
    assert_eq!(last.header("webhook-id"), Some(id));
    last
}

#[tokio::test]
async fn after_a_rotation_deliveries_verify_with_either_secret_until_the_grace_ends() {
    let world = World::new();
    let (endpoint, old) = world
        .add_endpoint(json!({"url": URL, "event_types": ["*"]}))
        .await;
    world.sender.script(URL, Box::new(|_| status(200)));

    // Rotated the way the admin API does it (POST /v1/endpoints/{id}/rotate-secret).
    // The world's admin keeps a rotated-out secret signing for the default grace, a DAY.
    let new = world
        .system
        .admin
        .rotate_secret(endpoint.id.as_str())
        .await
        .unwrap();
    assert_ne!(new, old);

    // Within the grace period a receiver still holding the old secret, and one already
    // switched to the new, must both accept the delivery.
    world.clock.advance(HOUR);
    let during = deliver(&world, "evt_during").await;
    python_verifies(&old, &during).unwrap_or_else(|e| {
        panic!("a delivery during the grace period must verify with the OLD secret: {e}")
    });
    python_verifies(&new, &during).unwrap_or_else(|e| {
        panic!("a delivery during the grace period must verify with the NEW secret: {e}")
    });

    // Once the 24 h grace has passed, the old secret no longer signs.
    world.clock.advance(DAY);
    let after = deliver(&world, "evt_after").await;
    python_verifies(&new, &after).unwrap_or_else(|e| {
        panic!("a delivery after the grace must verify with the new secret: {e}")
    });
    let refused = python_verifies(&old, &after)
        .expect_err("a delivery after the grace must not verify with the old secret");
    assert!(refused.contains("No matching signature"), "{refused}");
    assert_eq!(world.sender.sent().len(), 2);
}
