//! How fast deliveries resume once a receiver is back: jobs deferred by an open circuit go
//! as soon as it half-opens and its probes answer, not a whole open-timeout later, for
//! unordered and ordered endpoints alike.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

use authhooks::domain::outcome::{AttemptResult, TransportFailure};
use authhooks_tests::sender::status;
use authhooks_tests::World;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// Scripts `url` to refuse connections before `back` and answer 200 from then on.
fn down_until(world: &World, url: &str, back: DateTime<Utc>) {
    let clock = world.clock.clone();
    world.sender.script_requests(
        url,
        Box::new(move |_, _| {
            use authhooks::ports::Clock;
            if clock.now() < back {
                AttemptResult::Transport(TransportFailure::Connect("refused".into()))
            } else {
                status(200)
            }
        }),
    );
}

/// When each event (by id) first reached `url` with a 200.
fn delivered_at(world: &World, url: &str) -> Vec<(String, DateTime<Utc>)> {
    world
        .sender
        .sent_to(url)
        .into_iter()
        .filter(|s| matches!(s.result, AttemptResult::Response { status: 200, .. }))
        .map(|s| (s.header("webhook-id").unwrap_or_default().to_owned(), s.at))
        .collect()
}

#[tokio::test]
async fn a_receiver_down_17_s_gets_its_deliveries_within_one_open_timeout_of_coming_back() {
    let world = World::new();
    let start = world.now();
    let back = start + chrono::Duration::seconds(17);
    let (unordered, ordered) = ("http://plain.test/hook", "http://lines.test/hook");
    for (url, ordering) in [(unordered, "none"), (ordered, "subject")] {
        world
            .add_endpoint(json!({"url": url, "event_types": ["*"], "ordering": ordering}))
            .await;
        down_until(&world, url, back);
    }

    // An event a second, each about a subject of its own, while the receivers are down and
    // as they come back: five refusals open each circuit (60 s open-timeout, 3 probes).
    for s in 0..=17 {
        world.clock.advance_to(start + chrono::Duration::seconds(s));
        let event = json!({
            "id": format!("evt_{s:02}"), "type": "user.updated", "subject": format!("u_{s}"),
            "data": {"user": {"id": format!("u_{s}")}}
        });
        world.ingest(&event).await.unwrap();
        world.run_until(Duration::from_millis(999)).await;
    }
    world.run_until_idle(DAY).await;

    let open_timeout = chrono::Duration::seconds(60);
    for url in [unordered, ordered] {
        let delivered = delivered_at(&world, url);
        assert_eq!(delivered.len(), 18, "{url}: every event delivered once");
        let last = delivered.iter().map(|(_, at)| *at).max().unwrap();
        assert!(
            last - back <= open_timeout,
            "{url}: the last delivery came {} s after the receiver was back, more than one \
             open-timeout ({:?})",
            (last - back).num_seconds(),
            delivered
                .iter()
                .map(|(id, at)| format!("{id}@+{}s", (*at - start).num_seconds()))
                .collect::<Vec<_>>()
        );
    }
}
