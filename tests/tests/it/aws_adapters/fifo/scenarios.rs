//! One scenario, two queues: a group is blocked while its head is held, keeps its order,
//! and never blocks another; a second send with the same deduplication id is dropped; a
//! hold keeps a message hidden, a zero hold frees it at once (behind its held head); a
//! delayed ordered job is refused with nothing sent; redrive keeps a line's order.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use authhooks::ports::{Enqueue, PortError};

use super::{handles, hold, job, jobs, line, lines, memory, moto, now, ordered, take, Queues};

#[tokio::test]
async fn a_held_head_blocks_its_line_in_order_and_no_other() {
    on_both!(1000, held_head);
}

async fn held_head(q: &Queues) {
    let l = q.label;
    let (u1, u2, v1) = (ordered("u1", "u"), ordered("u2", "u"), ordered("v1", "v"));
    q.deliveries
        .enqueue(vec![now(&u1), now(&u2), now(&v1)])
        .await
        .unwrap();
    let got = take(&q.deliveries, 3, Duration::from_secs(5)).await;
    let expected = BTreeMap::from([line("u", &["u1", "u2"]), line("v", &["v1"])]);
    assert_eq!(lines(&got), expected, "{l}");
    let [u1_in, u2_in, v1_in] = ["u1", "u2", "v1"].map(|id| {
        let at = jobs(&got).iter().position(|j| j.event.id.as_str() == id);
        got[at.unwrap()].clone()
    });

    // The head is held 2 s; what is behind it is let go at once, but waits for it.
    let holds = vec![
        hold(&u1_in, Duration::from_secs(2)),
        hold(&u2_in, Duration::ZERO),
    ];
    q.deliveries.hold(holds).await.unwrap();
    q.deliveries.delete(handles(&[v1_in])).await.unwrap();
    q.deliveries
        .enqueue(vec![now(&ordered("v2", "v"))])
        .await
        .unwrap();
    let held_at = Instant::now();
    let meanwhile = take(&q.deliveries, 2, Duration::from_millis(1200)).await;
    assert_eq!(
        lines(&meanwhile),
        BTreeMap::from([line("v", &["v2"])]),
        "{l}"
    );

    let back = take(&q.deliveries, 2, Duration::from_secs(6)).await;
    assert!(
        held_at.elapsed() >= Duration::from_millis(1500),
        "{l}: early"
    );
    assert_eq!(
        lines(&back),
        BTreeMap::from([line("u", &["u1", "u2"])]),
        "{l}"
    );
    assert!(back.iter().all(|m| m.receive_count == 2), "{l}: {back:?}");
}

#[tokio::test]
async fn a_second_send_with_the_same_deduplication_id_is_dropped() {
    on_both!(1000, dedup);
}

async fn dedup(q: &Queues) {
    let l = q.label;
    let u1 = ordered("u1", "u");
    let mut replay = u1.clone();
    replay.generation = 1;
    q.deliveries.enqueue(vec![now(&u1)]).await.unwrap();
    q.deliveries
        .enqueue(vec![now(&u1), now(&replay)])
        .await
        .unwrap();
    let got = take(&q.deliveries, 3, Duration::from_secs(2)).await;
    let generations: Vec<u32> = jobs(&got).iter().map(|j| j.generation).collect();
    assert_eq!(generations, [0, 1], "{l}: a replay is new, a resend is not");
    q.deliveries.delete(handles(&got)).await.unwrap();
    let after = take(&q.deliveries, 1, Duration::from_millis(800)).await;
    assert!(after.is_empty(), "{l}: the resend was kept: {after:?}");
}

#[tokio::test]
async fn a_hold_keeps_a_message_hidden_and_a_zero_hold_frees_it_at_once() {
    on_both!(1000, holds);
}

async fn holds(q: &Queues) {
    let l = q.label;
    q.deliveries
        .enqueue(vec![now(&ordered("u1", "u"))])
        .await
        .unwrap();
    let first = take(&q.deliveries, 1, Duration::from_secs(2)).await;
    let held_at = Instant::now();
    q.deliveries
        .hold(vec![hold(&first[0], Duration::from_secs(2))])
        .await
        .unwrap();
    assert!(
        take(&q.deliveries, 1, Duration::from_millis(1200))
            .await
            .is_empty(),
        "{l}"
    );
    let second = take(&q.deliveries, 1, Duration::from_secs(5)).await;
    assert_eq!(second.len(), 1, "{l}: not back after its hold");
    assert!(
        held_at.elapsed() >= Duration::from_millis(1500),
        "{l}: early"
    );

    // Zero: back at once, not after the 30 s visibility timeout.
    q.deliveries
        .hold(vec![hold(&second[0], Duration::ZERO)])
        .await
        .unwrap();
    let third = take(&q.deliveries, 1, Duration::from_secs(3)).await;
    assert_eq!(
        third.iter().map(|m| m.receive_count).collect::<Vec<_>>(),
        [3],
        "{l}"
    );

    // A hold on a deleted message is skipped, not an error.
    q.deliveries.delete(handles(&third)).await.unwrap();
    q.deliveries
        .hold(vec![hold(&third[0], Duration::from_secs(5))])
        .await
        .unwrap();
}

#[tokio::test]
async fn a_delayed_ordered_job_or_an_unordered_one_is_refused_with_nothing_sent() {
    on_both!(1000, refusals);
}

async fn refusals(q: &Queues) {
    let l = q.label;
    let delayed = Enqueue {
        job: ordered("u2", "u"),
        delay: Duration::from_secs(3),
    };
    let result = q
        .deliveries
        .enqueue(vec![now(&ordered("u1", "u")), delayed])
        .await;
    assert!(
        matches!(result, Err(PortError::Rejected(_))),
        "{l}: {result:?}"
    );
    let result = q.deliveries.enqueue(vec![now(&job("e1", "ep_a"))]).await;
    assert!(
        matches!(result, Err(PortError::Rejected(_))),
        "{l}: {result:?}"
    );
    let sent = take(&q.deliveries, 1, Duration::from_millis(800)).await;
    assert!(sent.is_empty(), "{l}: {sent:?}");
}

#[tokio::test]
async fn redriven_messages_reach_the_fifo_dead_letter_queue_in_order() {
    on_both!(1, redrive);
}

async fn redrive(q: &Queues) {
    let l = q.label;
    let sent = [ordered("u1", "u"), ordered("u2", "u")];
    q.deliveries
        .enqueue(sent.iter().map(now).collect())
        .await
        .unwrap();
    let got = take(&q.deliveries, 2, Duration::from_secs(3)).await;
    let holds = got.iter().map(|m| hold(m, Duration::ZERO)).collect();
    q.deliveries.hold(holds).await.unwrap();
    let again = take(&q.deliveries, 1, Duration::from_millis(800)).await;
    assert!(
        again.is_empty(),
        "{l}: over the limit, yet received: {again:?}"
    );
    let redriven = take(&q.dlq, 2, Duration::from_secs(3)).await;
    assert_eq!(
        lines(&redriven),
        BTreeMap::from([line("u", &["u1", "u2"])]),
        "{l}"
    );
}

/// moto 5.2.1 alone fails this one (it hands out u2 before u1 once both are visible
/// again); the tests' moto runs with the fix in `authhooks_tests::moto`
/// (`FIFO_ORDER_FIX`), so this checks that fix as much as the memory queue.
#[tokio::test]
async fn a_later_message_held_blocks_its_line_though_the_head_is_free() {
    on_both!(1000, later_held);
}

async fn later_held(q: &Queues) {
    let l = q.label;
    let sent = [ordered("u1", "u"), ordered("u2", "u")];
    q.deliveries
        .enqueue(sent.iter().map(now).collect())
        .await
        .unwrap();
    let got = take(&q.deliveries, 2, Duration::from_secs(3)).await;
    assert_eq!(
        lines(&got),
        BTreeMap::from([line("u", &["u1", "u2"])]),
        "{l}"
    );
    let holds = vec![
        hold(&got[1], Duration::from_secs(2)),
        hold(&got[0], Duration::ZERO),
    ];
    let held_at = Instant::now();
    q.deliveries.hold(holds).await.unwrap();
    let meanwhile = take(&q.deliveries, 1, Duration::from_millis(1200)).await;
    assert!(meanwhile.is_empty(), "{l}: u1 came out while u2 was held");
    // Once both are visible the head comes first (with u2 in the same receive or, as
    // moto does, only after u1 is done: SQS promises no batch size).
    let back = take(&q.deliveries, 1, Duration::from_secs(5)).await;
    assert!(held_at.elapsed() >= Duration::from_millis(1500), "{l}");
    let head = lines(&back[..1]);
    assert_eq!(head, BTreeMap::from([line("u", &["u1"])]), "{l}");
    let mut rest = back[1..].to_vec();
    q.deliveries
        .inbox
        .delete(vec![back[0].receipt_handle.clone()])
        .await
        .unwrap();
    if rest.is_empty() {
        rest = take(&q.deliveries, 1, Duration::from_secs(5)).await;
    }
    assert_eq!(lines(&rest), BTreeMap::from([line("u", &["u2"])]), "{l}");
}
