use super::*;
use crate::domain::endpoint::UrlPolicy;
use crate::domain::endpoint_spec::parse_new;
use crate::domain::event::EventType;
use crate::domain::ids::EventId;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::json;

fn endpoints(n: usize, ordering: &str) -> Vec<Endpoint> {
    let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
    let mut made: Vec<Endpoint> = (0..n)
        .map(|i| {
            let body = json!({
                "url": "https://cms.example.com/hook",
                "event_types": ["*"],
                "ordering": ordering,
            });
            let random = i as u128 * 104_729 + 11;
            parse_new(&body, &UrlPolicy::default(), now, &mut || random, [1; 32])
                .unwrap()
                .0
        })
        .collect();
    made.sort_by(|a, b| a.id.cmp(&b.id));
    made
}

fn event(subject: Option<&str>) -> Event {
    Event {
        id: EventId::parse("evt_1").unwrap(),
        event_type: EventType::parse("user.updated").unwrap(),
        timestamp: Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
        data: Default::default(),
        origin: None,
        subject: subject.map(str::to_owned),
        tenant_id: None,
        correlation_id: None,
        sequence: Some(7),
    }
}

fn settings(inline_max: usize) -> FanOutSettings {
    FanOutSettings {
        inline_max,
        ..FanOutSettings::default()
    }
}

#[test]
fn up_to_the_threshold_ingest_enqueues_every_delivery_itself() {
    let all = endpoints(5, "none");
    let plan = plan(all.iter().collect(), &event(Some("u1")), 0, &settings(5));
    assert_eq!(plan.inline.len(), 5);
    assert!(plan.tasks.is_empty());
}

#[test]
fn above_it_the_unordered_deliveries_go_to_one_paged_task() {
    let all = endpoints(6, "none");
    let plan = plan(all.iter().collect(), &event(Some("u1")), 0, &settings(5));
    assert!(plan.inline.is_empty());
    assert_eq!(plan.tasks.len(), 1);
    assert_eq!(plan.tasks[0].partition, None);
    assert_eq!(plan.tasks[0].line(), None);
    assert!(all
        .iter()
        .all(|e| plan.tasks[0].covers(e, DEFAULT_PARTITIONS)));
}

#[test]
fn ordered_deliveries_stay_inline_while_the_deployment_has_few_ordered_endpoints() {
    let all = endpoints(8, "subject");
    // Eight targets, over a threshold of 5, but only 5 ordered endpoints in all: inline.
    let plan = plan(all.iter().collect(), &event(Some("u1")), 5, &settings(5));
    assert_eq!(plan.inline.len(), 8);
    assert!(plan.tasks.is_empty());
}

#[test]
fn with_many_ordered_endpoints_even_one_delivery_goes_through_its_partitions_line() {
    let all = endpoints(40, "subject");
    let one = plan(vec![&all[0]], &event(Some("u1")), 40, &settings(5));
    assert!(one.inline.is_empty());
    assert_eq!(one.tasks.len(), 1);
    let p = partition(&all[0].id, DEFAULT_PARTITIONS);
    assert_eq!(one.tasks[0].partition, Some(p));

    let every = plan(all.iter().collect(), &event(Some("u1")), 40, &settings(5));
    // Each ordered endpoint is covered by exactly one of the tasks.
    for endpoint in &all {
        let covering = every
            .tasks
            .iter()
            .filter(|t| t.covers(endpoint, DEFAULT_PARTITIONS))
            .count();
        assert_eq!(covering, 1, "{}", endpoint.id);
    }
    let lines: Vec<_> = every.tasks.iter().map(|t| t.line().unwrap()).collect();
    assert!(lines.iter().all(|l| l.as_str().starts_with("#fanout")));
    assert!(every.tasks.len() <= usize::from(DEFAULT_PARTITIONS));
}

#[test]
fn an_event_without_a_subject_has_no_order_so_ordered_endpoints_take_it_unordered() {
    let all = endpoints(8, "subject");
    let plan = plan(all.iter().collect(), &event(None), 8, &settings(5));
    assert!(plan.inline.is_empty());
    assert_eq!(plan.tasks.len(), 1);
    assert_eq!(plan.tasks[0].partition, None);
}

#[test]
fn a_partition_is_stable_and_within_range() {
    let all = endpoints(200, "subject");
    let mut seen = std::collections::BTreeSet::new();
    for endpoint in &all {
        let p = partition(&endpoint.id, 16);
        assert_eq!(p, partition(&endpoint.id, 16));
        assert!(p < 16);
        seen.insert(p);
    }
    // 200 ids spread over every partition.
    assert_eq!(seen.len(), 16);
}

#[test]
fn a_task_and_a_job_are_told_apart_on_the_queue() {
    let task = FanOutTask {
        event: event(Some("u1")),
        partition: Some(3),
        after: None,
        trace: None,
    };
    let body = serde_json::to_string(&FanOutMessage {
        fan_out: task.clone(),
    })
    .unwrap();
    assert_eq!(
        serde_json::from_str::<Work>(&body).unwrap(),
        Work::FanOut(task)
    );
    let all = endpoints(1, "none");
    let job = DeliveryJob::new(event(None), all[0].id.clone());
    let body = serde_json::to_string(&job).unwrap();
    assert_eq!(
        serde_json::from_str::<Work>(&body).unwrap(),
        Work::Deliver(job)
    );
    assert!(serde_json::from_str::<Work>(r#"{"fan_out": 1}"#).is_err());
    assert!(serde_json::from_str::<Work>(r#"{"nothing": 1}"#).is_err());
}

#[test]
fn a_full_backlog_makes_a_fan_out_wait() {
    assert_eq!(step(None, 10), Step::Expand);
    assert_eq!(step(Some(9), 10), Step::Expand);
    assert_eq!(step(Some(10), 10), Step::Wait(BACKLOG_WAIT));
}

proptest! {
    /// Following the pages from the first visits every target once, in order.
    #[test]
    fn pages_visit_every_target_once(n in 0usize..60, size in 1usize..25) {
        let all = endpoints(n, "none");
        let targets: Vec<&Endpoint> = all.iter().collect();
        let mut visited = Vec::new();
        let mut after: Option<EndpointId> = None;
        loop {
            let (this, next) = page(&targets, after.as_ref(), size);
            prop_assert!(this.len() <= size);
            visited.extend(this.iter().map(|e| e.id.clone()));
            match next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let expected: Vec<EndpointId> = all.iter().map(|e| e.id.clone()).collect();
        prop_assert_eq!(visited, expected);
    }
}
