//! Local mode forgets delivery records when they expire (DynamoDB's TTL, 7 days), so its
//! memory returns after a drain instead of growing by every delivery it ever made.

use std::time::Duration;

use serde_json::json;

use authhooks::ports::Clock;
use authhooks_tests::sender::status;
use authhooks_tests::World;

const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);

#[tokio::test]
async fn delivery_records_are_forgotten_when_they_expire_and_not_before() {
    let world = World::new();
    world
        .add_endpoint(json!({"url": "http://a.test/hook", "event_types": ["*"]}))
        .await;
    world
        .sender
        .script("http://a.test/hook", Box::new(|_| status(200)));
    let event = |n: u32| json!({"id": format!("evt_{n}"), "type": "user.created", "data": {}});
    for n in 0..200 {
        world.ingest(&event(n)).await.unwrap();
    }
    world.run_until_idle(Duration::from_secs(60)).await;
    assert_eq!(world.sender.sent().len(), 200);
    assert_eq!(world.state.records(), 200, "one record per delivery");

    // A day later, fifty more: their records expire a day after the first two hundred.
    world.clock.advance(Duration::from_secs(24 * 3600));
    for n in 200..250 {
        world.ingest(&event(n)).await.unwrap();
    }
    world.run_until_idle(Duration::from_secs(60)).await;
    assert_eq!(world.state.records(), 250);

    let first = world.now() - chrono::Duration::days(1);
    world.clock.advance_to(
        first + chrono::Duration::from_std(WEEK).unwrap() - chrono::Duration::seconds(1),
    );
    assert_eq!(world.state.forget_expired(world.clock.now()), 0);
    assert_eq!(
        world.state.records(),
        250,
        "nothing forgotten before it expires"
    );

    world.clock.advance(Duration::from_secs(60));
    assert_eq!(world.state.forget_expired(world.clock.now()), 200);
    assert_eq!(
        world.state.records(),
        50,
        "the later fifty are still remembered"
    );
    // They still stop a replay from being delivered twice.
    let replay = world.ingest(&event(230)).await.unwrap();
    assert!(replay[0].duplicate);

    world.clock.advance(Duration::from_secs(24 * 3600));
    assert_eq!(world.state.forget_expired(world.clock.now()), 50);
    assert_eq!(
        world.state.records(),
        0,
        "the store is empty after a drain and a week"
    );
}
