//! Ordered delivery per subject through the whole pipeline: a user created and renamed
//! three times in quick succession ends on the last name at a receiver that upserts, even
//! when first attempts fail (and, to show the case is real, not at an unordered endpoint
//! unless it checks sequences); retries held past one hold keep their time; a given-up
//! delivery lets its line go on and says so in its failure record.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{json, Value};

use authhooks::domain::order::{freshness, Freshness};
use authhooks::ports::{Clock, FailureFilter, PageRequest};
use authhooks_tests::sender::{status, Sent};
use authhooks_tests::World;

const ORDERED: &str = "http://ordered.test/users";
const UNORDERED: &str = "http://unordered.test/users";
const USERS: usize = 5;
const HOUR: Duration = Duration::from_secs(3600);

fn change(user: usize, round: usize) -> Value {
    let event_type = if round == 0 {
        "user.created"
    } else {
        "user.updated"
    };
    json!({
        "id": format!("evt_u{user}_r{round}"),
        "type": event_type,
        "subject": format!("u_{user}"),
        "data": {"user": {"id": format!("u_{user}"), "name": format!("name {round}")}}
    })
}

fn body(sent: &Sent) -> Value {
    serde_json::from_slice(&sent.body).unwrap()
}

fn delivered(sent: &Sent) -> bool {
    matches!(sent.result, authhooks::domain::outcome::AttemptResult::Response { status, .. } if (200..300).contains(&status))
}

/// What a receiver that upserts each 2xx'd event holds at the end: name per user. With
/// `guard`, it also drops anything whose sequence is not newer than what it applied.
fn final_names(sent: &[Sent], guard: bool) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    let mut applied: HashMap<String, u64> = HashMap::new();
    for request in sent.iter().filter(|s| delivered(s)) {
        let event = body(request);
        let subject = event["subject"].as_str().unwrap().to_owned();
        let sequence = event["sequence"]
            .as_u64()
            .expect("every delivery carries a sequence");
        if guard && freshness(applied.get(&subject).copied(), sequence) != Freshness::New {
            continue;
        }
        applied.insert(subject.clone(), sequence);
        names.insert(
            subject,
            event["data"]["user"]["name"].as_str().unwrap().to_owned(),
        );
    }
    names
}

/// Fails the first attempt of every other change (a receiver that hiccups), else 200.
fn hiccups(world: &World, url: &str) {
    world.sender.script_requests(
        url,
        Box::new(|request, _| {
            let event: Value = serde_json::from_slice(&request.body).unwrap();
            let id = event["id"].as_str().unwrap();
            let (user, round) = id
                .trim_start_matches("evt_u")
                .split_once("_r")
                .map(|(u, r)| (u.parse::<usize>().unwrap(), r.parse::<usize>().unwrap()))
                .unwrap();
            let attempt = request
                .headers
                .iter()
                .find(|(name, _)| name == "webhook-attempt")
                .map(|(_, value)| value.as_str());
            status(if (user + round) % 2 == 0 && attempt == Some("1") {
                503
            } else {
                200
            })
        }),
    );
}

#[tokio::test]
async fn rapid_renames_end_on_the_last_name_at_an_ordered_endpoint() {
    let world = World::new();
    for (url, ordering) in [(ORDERED, "subject"), (UNORDERED, "none")] {
        let (endpoint, _) = world
            .add_endpoint(json!({"url": url, "event_types": ["user.*"], "ordering": ordering}))
            .await;
        assert_eq!(endpoint.ordering.as_str(), ordering);
        hiccups(&world, url);
    }
    // Created and renamed three times, each change its own request, all at one instant.
    for round in 0..4 {
        for user in 0..USERS {
            world.ingest(&change(user, round)).await.unwrap();
        }
    }
    world.run_until_idle(HOUR).await;

    let last: BTreeMap<String, String> = (0..USERS)
        .map(|u| (format!("u_{u}"), "name 3".to_owned()))
        .collect();
    let ordered = world.sender.sent_to(ORDERED);
    assert_eq!(
        final_names(&ordered, false),
        last,
        "the ordered endpoint ends stale"
    );

    // Each subject's attempts went out in acceptance order, retries included: no attempt
    // of a later change before the earlier one was delivered.
    let mut rounds: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for request in &ordered {
        let event = body(request);
        let id = event["id"].as_str().unwrap();
        let round: usize = id.rsplit('r').next().unwrap().parse().unwrap();
        rounds
            .entry(event["subject"].as_str().unwrap().to_owned())
            .or_default()
            .push(round);
    }
    for (subject, rounds) in &rounds {
        assert!(
            rounds.windows(2).all(|w| w[0] <= w[1]),
            "{subject}: attempts in order {rounds:?}"
        );
    }
    // Sequences increase with acceptance order, per subject.
    for user in 0..USERS {
        let sequences: Vec<u64> = ordered
            .iter()
            .filter(|r| delivered(r))
            .map(body)
            .filter(|e| e["subject"] == format!("u_{user}"))
            .map(|e| e["sequence"].as_u64().unwrap())
            .collect();
        assert_eq!(sequences.len(), 4);
        assert!(sequences.windows(2).all(|w| w[0] < w[1]), "{sequences:?}");
    }

    // The same changes without ordering leave users stale at a plain upsert — the case is
    // real — and a receiver that checks sequences ends right anyway.
    let unordered = world.sender.sent_to(UNORDERED);
    let plain = final_names(&unordered, false);
    assert!(
        plain != last,
        "expected a stale user without ordering: {plain:?}"
    );
    assert_eq!(final_names(&unordered, true), last);
}

#[tokio::test]
async fn a_retry_longer_than_one_hold_keeps_its_time_and_its_line() {
    let world = World::new();
    world
        .add_endpoint(json!({
            "url": ORDERED, "event_types": ["user.*"],
            "retry": {"schedule_secs": [86400, 86400]}
        }))
        .await;
    // The first change fails once; the retry is due a day later, beyond one 12-hour hold.
    world.sender.script(
        ORDERED,
        Box::new(|n| status(if n == 1 { 500 } else { 200 })),
    );
    world.ingest(&change(1, 0)).await.unwrap();
    world.ingest(&change(1, 1)).await.unwrap();
    world.run_until_idle(72 * HOUR).await;

    let sent = world.sender.sent_to(ORDERED);
    let ids: Vec<String> = sent
        .iter()
        .map(|s| body(s)["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        ["evt_u1_r0", "evt_u1_r0", "evt_u1_r1"],
        "the second change waited"
    );
    let waited = sent[1].at - sent[0].at;
    assert!(
        waited >= chrono::Duration::hours(19),
        "the retry came after {waited}, not a day (±20 %)"
    );
    assert_eq!(
        sent[1]
            .headers
            .iter()
            .find(|(n, _)| n == "webhook-attempt")
            .unwrap()
            .1,
        "2"
    );
    let totals = world.worker_totals().totals;
    assert!(
        totals.held >= 1,
        "the long wait took more than one hold: {totals:?}"
    );
}

#[tokio::test]
async fn a_given_up_delivery_lets_its_line_go_on_and_says_so() {
    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({
            "url": ORDERED, "event_types": ["user.*"],
            "retry": {"schedule_secs": [1]}
        }))
        .await;
    // The first change never gets through; the later ones do.
    world.sender.script_requests(
        ORDERED,
        Box::new(|request, _| {
            let event: Value = serde_json::from_slice(&request.body).unwrap();
            status(if event["id"] == "evt_u1_r0" { 500 } else { 200 })
        }),
    );
    for round in 0..3 {
        world.ingest(&change(1, round)).await.unwrap();
    }
    world.run_until_idle(HOUR).await;

    let sent = world.sender.sent_to(ORDERED);
    let ids: Vec<String> = sent
        .iter()
        .map(|s| body(s)["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["evt_u1_r0", "evt_u1_r0", "evt_u1_r1", "evt_u1_r2"]);
    let failures = world
        .system
        .admin
        .list_failures(
            &FailureFilter::default(),
            authhooks::ports::PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(failures.items.len(), 1);
    let failure = &failures.items[0];
    assert_eq!(failure.endpoint_id, endpoint.id);
    let ordered = failure
        .ordered
        .as_ref()
        .expect("an ordered failure says so");
    assert_eq!(ordered.subject, "u_1");
    assert_eq!(ordered.sequence, body(&sent[0])["sequence"].as_u64());
    assert!(
        ordered.note.contains("later deliveries"),
        "{}",
        ordered.note
    );
}

#[tokio::test]
async fn a_two_day_outage_behind_an_open_circuit_loses_no_line() {
    let world = World::new();
    world
        .add_endpoint(json!({
            "url": ORDERED, "event_types": ["user.*"],
            "circuit": {"failure_threshold": 2, "success_threshold": 1, "open_timeout_secs": 60, "half_open_max_requests": 1}
        }))
        .await;
    // Down for two days, then up: the circuit stays open most of that time, so the lines'
    // heads are deferred again and again (each time a receive on the ordered queue).
    let clock = world.clock.clone();
    let back_at = world.now() + chrono::Duration::days(2);
    world.sender.script(
        ORDERED,
        Box::new(move |_| status(if clock.now() < back_at { 503 } else { 200 })),
    );
    for round in 0..3 {
        for user in 0..2 {
            world.ingest(&change(user, round)).await.unwrap();
        }
    }
    world.run_until_idle(10 * 24 * HOUR).await;

    let failures = world
        .system
        .admin
        .list_failures(&FailureFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(
        failures.items.is_empty(),
        "given up or redriven: {:?}",
        failures.items
    );
    let delivered: Vec<Sent> = world
        .sender
        .sent_to(ORDERED)
        .into_iter()
        .filter(delivered)
        .collect();
    assert_eq!(delivered.len(), 6);
    let last: BTreeMap<String, String> = (0..2)
        .map(|u| (format!("u_{u}"), "name 2".to_owned()))
        .collect();
    assert_eq!(final_names(&delivered, false), last);
}

#[tokio::test]
async fn a_job_behind_an_open_circuit_is_looked_at_less_often_the_longer_it_is_open() {
    use authhooks::domain::admission::EndpointState;
    use authhooks::domain::circuit::CircuitState;
    use authhooks::ports::EndpointStateStore;

    let world = World::new();
    let (endpoint, _) = world
        .add_endpoint(json!({
            "url": ORDERED, "event_types": ["user.*"],
            "circuit": {"failure_threshold": 5, "success_threshold": 1, "open_timeout_secs": 60, "half_open_max_requests": 1}
        }))
        .await;
    world.ingest(&change(1, 0)).await.unwrap();
    let mut came_back_after = Vec::new();
    // The circuit (re)opened just now, first after a moment's outage, then after a day's.
    for outage_hours in [0, 24] {
        let open = EndpointState {
            circuit: CircuitState::Open {
                opened_at: world.now(),
                open_since: world.now() - chrono::Duration::hours(outage_hours),
            },
            bucket: None,
            recovered_at: None,
        };
        let version = world.state.load(&endpoint.id).await.unwrap().version;
        assert!(world
            .state
            .save(&endpoint.id, &open, version)
            .await
            .unwrap());
        assert!(world.step().await);
        let totals = world.worker_totals().totals;
        assert_eq!(totals.deferred_circuit as usize, came_back_after.len() + 1);
        let back = world.ordered.next_visible_at().unwrap();
        came_back_after.push((back - world.now()).num_seconds());
        world.clock.advance_to(back);
    }
    // A minute (the circuit's next probe), then fifteen (a tenth of a day, capped).
    assert_eq!(came_back_after, [60, 15 * 60]);
    assert!(world.sender.sent_to(ORDERED).is_empty());
}

#[tokio::test]
async fn a_line_of_slow_deliveries_stops_within_the_batch_budget() {
    let world = World::new();
    world
        .add_endpoint(json!({"url": ORDERED, "event_types": ["user.*"], "timeout_ms": 30000}))
        .await;
    // Each delivery takes 15 s: a line of three would outlast the function.
    let clock = world.clock.clone();
    world.sender.script(
        ORDERED,
        Box::new(move |_| {
            clock.advance(Duration::from_secs(15));
            status(200)
        }),
    );
    for round in 0..3 {
        world.ingest(&change(1, round)).await.unwrap();
    }
    assert!(world.step().await);
    // Two started within the 20 s budget (at 0 s and 15 s); the third went back to the
    // queue, unattempted, behind them.
    assert_eq!(world.sender.sent_to(ORDERED).len(), 2);
    assert_eq!(world.worker_totals().failed.len(), 1);
    world.run_until_idle(HOUR).await;
    let ids: Vec<String> = world
        .sender
        .sent_to(ORDERED)
        .iter()
        .map(|s| body(s)["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["evt_u1_r0", "evt_u1_r1", "evt_u1_r2"]);
}
