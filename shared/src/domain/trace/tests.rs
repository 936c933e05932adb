use proptest::prelude::*;

use super::*;

const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn the_spec_example_parses_to_its_ids_and_flags() {
    let parent = TraceParent::parse(VALID, None).unwrap();
    assert_eq!(parent.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(
        parent.parent_id(),
        [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
    );
    assert!(parent.sampled());
    assert_eq!(parent.header(), VALID);
}

#[test]
fn surrounding_spaces_are_tolerated() {
    assert!(TraceParent::parse(&format!(" {VALID}\t"), None).is_some());
}

#[test]
fn invalid_headers_are_ignored() {
    let cases = [
        "",
        "00",
        // Upper-case hex is not the spec's lower-case hex.
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
        // All-zero ids are invalid.
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        // Version ff is forbidden; version 00 has no trailing fields.
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        // Wrong lengths and separators.
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        // A later version must continue with '-' after the version-00 fields.
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
    ];
    for case in cases {
        assert_eq!(TraceParent::parse(case, Some("a=b")), None, "{case:?}");
    }
}

#[test]
fn a_later_version_is_read_by_its_version_00_fields() {
    let parent = TraceParent::parse(
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-holds",
        None,
    )
    .unwrap();
    assert_eq!(parent.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    // Continued as the version this code knows.
    assert!(parent.header().starts_with("00-"));
}

#[test]
fn a_child_keeps_the_trace_takes_the_new_parent_and_forwards_only_the_sampled_flag() {
    let parent = TraceParent::parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff",
        Some("congo=t61rcWkgMzE"),
    )
    .unwrap();
    let child = parent.child(SpanId::from_random(0x0102_0304_0506_0708));
    assert_eq!(
        child.header(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0102030405060708-01"
    );
    assert_eq!(
        child.state().map(TraceState::as_str),
        Some("congo=t61rcWkgMzE")
    );
    let unsampled = TraceParent::parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        None,
    )
    .unwrap()
    .child(SpanId::from_random(7));
    assert!(unsampled.header().ends_with("-00"));
    assert!(!unsampled.sampled());
}

#[test]
fn a_zero_span_id_is_never_produced() {
    assert_eq!(SpanId::from_bytes([0; 8]), None);
    let child = TraceParent::parse(VALID, None)
        .unwrap()
        .child(SpanId::from_random(0));
    assert_ne!(child.parent_id(), [0; 8]);
    assert!(TraceParent::parse(&child.header(), None).is_some());
}

#[test]
fn tracestate_is_kept_only_with_a_valid_parent_and_only_when_well_formed() {
    let with = |state: &str| {
        TraceParent::parse(VALID, Some(state))
            .unwrap()
            .state()
            .cloned()
    };
    assert_eq!(
        with(" rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE ").map(|s| s.as_str().to_owned()),
        Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE".to_owned())
    );
    assert_eq!(with(""), None);
    assert_eq!(with("no-equals-sign"), None);
    assert_eq!(with("a=b\u{7f}"), None);
    assert_eq!(with("a=b\r\nx-injected: 1"), None);
    assert_eq!(
        TraceParent::parse("00-zz", Some("a=b")).and_then(|p| p.state().cloned()),
        None
    );
    let headers = TraceParent::parse(VALID, None).unwrap().headers();
    assert_eq!(headers.len(), 1, "no tracestate header without a state");
}

#[test]
fn a_long_tracestate_loses_whole_members_from_the_end() {
    let member = |i: usize| format!("k{i:02}={}", "v".repeat(60));
    let long: Vec<String> = (0..20).map(member).collect();
    let state = TraceState::parse(&long.join(",")).unwrap();
    assert!(state.as_str().len() <= MAX_TRACESTATE_CHARS);
    assert!(state.as_str().starts_with(&member(0)));
    assert!(
        state.as_str().ends_with(&"v".repeat(60)),
        "cut between members"
    );
    // One member over the bound alone: nothing left to keep.
    assert_eq!(TraceState::parse(&format!("k={}", "v".repeat(600))), None);
}

#[test]
fn a_job_stores_the_two_header_values_and_refuses_a_tampered_one() {
    let parent = TraceParent::parse(VALID, Some("congo=t61rcWkgMzE")).unwrap();
    let json = serde_json::to_value(&parent).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"traceparent": VALID, "tracestate": "congo=t61rcWkgMzE"})
    );
    assert_eq!(serde_json::from_value::<TraceParent>(json).unwrap(), parent);
    let tampered = serde_json::json!({"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"});
    assert!(serde_json::from_value::<TraceParent>(tampered).is_err());
}

proptest! {
    #[test]
    fn any_valid_context_round_trips_through_its_header(
        trace in any::<u128>().prop_filter("non-zero", |t| *t != 0),
        parent in any::<u64>().prop_filter("non-zero", |p| *p != 0),
        flags in any::<u8>(),
        span in any::<u64>(),
    ) {
        let header = format!("00-{trace:032x}-{parent:016x}-{flags:02x}");
        let parsed = TraceParent::parse(&header, None).unwrap();
        prop_assert_eq!(parsed.header(), header.clone());
        prop_assert_eq!(parsed.trace_id(), trace.to_be_bytes());
        prop_assert_eq!(parsed.parent_id(), parent.to_be_bytes());
        let child = parsed.child(SpanId::from_random(span));
        let again = TraceParent::parse(&child.header(), None).unwrap();
        prop_assert_eq!(again.trace_id(), parsed.trace_id());
        prop_assert_eq!(again, child);
    }

    #[test]
    fn no_text_panics_the_parser(text in ".{0,80}") {
        let _ = TraceParent::parse(&text, Some(&text));
    }
}
