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

/// An endpoint at `url` whose receiver refuses until `back`, with `retry` as its schedule.
async fn failing_endpoint(
    world: &World,
    url: &str,
    ordering: &str,
    retry: serde_json::Value,
    back: DateTime<Utc>,
) -> authhooks::domain::endpoint::Endpoint {
    let (endpoint, _) = world
        .add_endpoint(json!({
            "url": url, "event_types": ["*"], "ordering": ordering, "retry": retry
        }))
        .await;
    down_until(world, url, back);
    endpoint
}

#[tokio::test]
async fn recover_sends_an_endpoints_waiting_retries_at_once() {
    let world = World::new();
    let start = world.now();
    let back = start + chrono::Duration::seconds(30);
    let default_schedule = json!({"schedule_secs": [5, 300, 1800, 7200]});
    let plain = "http://plain.test/hook";
    let lines = "http://lines.test/hook";
    let far = "http://far.test/hook";
    let plain_ep = failing_endpoint(&world, plain, "none", default_schedule.clone(), back).await;
    let lines_ep = failing_endpoint(&world, lines, "subject", default_schedule, back).await;
    // Its next try is two hours out: further than one queue delay, so it hops.
    let far_ep =
        failing_endpoint(&world, far, "none", json!({"schedule_secs": [7200]}), back).await;
    // An ordered one a day out: longer than one hold, so its due time waits in its claim.
    let far_lines = "http://far-lines.test/hook";
    let far_lines_ep = failing_endpoint(
        &world,
        far_lines,
        "subject",
        json!({"schedule_secs": [86400]}),
        back,
    )
    .await;
    let event = json!({
        "id": "evt_wait", "type": "user.updated", "subject": "u_1",
        "data": {"user": {"id": "u_1"}}
    });
    world.ingest(&event).await.unwrap();
    // The first attempt and the 5-second retry fail: the next waits for the 5-minute step.
    world.run_until(Duration::from_secs(30)).await;
    assert_eq!(world.sender.sent_to(plain).len(), 2);
    assert_eq!(world.sender.sent_to(lines).len(), 2);
    assert_eq!(world.sender.sent_to(far).len(), 1);
    assert_eq!(world.sender.sent_to(far_lines).len(), 1);

    world.clock.advance_to(back + chrono::Duration::seconds(10));
    let recovered_at = world.now();
    let mut brought_forward = 0;
    for endpoint in [&plain_ep, &lines_ep, &far_ep, &far_lines_ep] {
        let answer = world
            .system
            .admin
            .recover_endpoint(endpoint.id.as_str())
            .await
            .unwrap();
        assert_eq!(
            (answer.circuit.as_str(), answer.recovered_at),
            ("closed", recovered_at)
        );
        brought_forward += answer.brought_forward;
    }
    assert_eq!(
        brought_forward, 4,
        "each endpoint's waiting delivery brought forward"
    );
    // Without the clock moving on: every waiting retry is delivered now.
    while world.step().await {}
    for url in [plain, lines, far, far_lines] {
        let delivered = delivered_at(&world, url);
        assert_eq!(
            delivered.iter().map(|(_, at)| *at).collect::<Vec<_>>(),
            vec![recovered_at],
            "{url}: delivered at the recover, not at its scheduled retry"
        );
    }
    world.run_until_idle(DAY).await;
    assert_eq!(
        world.sender.sent().len(),
        2 + 2 + 1 + 1 + 4,
        "nothing sent twice"
    );
}

#[tokio::test]
async fn on_a_queue_that_cannot_bring_messages_forward_a_long_wait_ends_at_its_next_hop() {
    // As on SQS: delayed messages cannot be found, so the recover only closes the circuit
    // and records its time, and the worker cuts the wait short when the job next hops.
    let world = World::new();
    let system = world
        .builder()
        .with(|ports| {
            ports.recall = std::sync::Arc::new(authhooks::adapters::queues::Recalls(vec![]))
        })
        .build();
    let start = world.now();
    let back = start + chrono::Duration::seconds(30);
    let url = "http://far.test/hook";
    let endpoint =
        failing_endpoint(&world, url, "none", json!({"schedule_secs": [7200]}), back).await;
    world
        .ingest(&json!({"id": "evt_far", "type": "user.updated", "data": {}}))
        .await
        .unwrap();
    world.run_until(Duration::from_secs(30)).await;
    world.clock.advance_to(back);
    let answer = system
        .admin
        .recover_endpoint(endpoint.id.as_str())
        .await
        .unwrap();
    assert_eq!(answer.brought_forward, 0);
    world.run_until_idle(DAY).await;
    let delivered = delivered_at(&world, url);
    assert_eq!(delivered.len(), 1);
    let waited = delivered[0].1 - back;
    assert!(
        waited <= chrono::Duration::minutes(15),
        "delivered {} s after the recover: more than one 15-minute hop",
        waited.num_seconds()
    );
}
