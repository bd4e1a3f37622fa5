#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::Value;

use super::*;
use crate::{Engine, NoAttributes};

const T0: f64 = 1_795_729_031_000.0;

const CONFIG: &str = r#"{"schema_version": 1, "experiments": [], "flags": [
  {"key": "b", "type": "boolean", "default": false},
  {"key": "a", "type": "string", "default": "x"},
  {"key": "bad", "type": "number", "default": "not a number"}]}"#;

fn engine(text: &str) -> Engine {
    Engine::from_json(text).unwrap()
}

fn sender(interval_ms: f64) -> UsageSender {
    let mut options = UsageOptions::new("http://litmus.test/");
    options.interval_ms = interval_ms;
    UsageSender::new(options).unwrap()
}

fn ok() -> SendResult<'static> {
    answer(204)
}

fn answer(status: u16) -> SendResult<'static> {
    SendResult::Answered {
        status,
        retry_after: None,
        body: b"",
    }
}

/// The entries of a request body, checked: at most 5,000, none zero, keys strictly ascending.
fn entries(body: &[u8]) -> Vec<(String, u64)> {
    let doc: Value = serde_json::from_slice(body).unwrap();
    let object = doc.as_object().unwrap();
    assert_eq!(object.len(), 1, "only `flags`: {doc}");
    let list = doc["flags"].as_array().unwrap();
    assert!(
        !list.is_empty() && list.len() <= MAX_USAGE_ENTRIES,
        "{}",
        list.len()
    );
    let out: Vec<(String, u64)> = list
        .iter()
        .map(|e| {
            assert_eq!(e.as_object().unwrap().len(), 2, "{e}");
            let n = e["evaluations"].as_u64().unwrap();
            assert!(n > 0, "an entry with 0: {e}");
            (e["flag"].as_str().unwrap().to_owned(), n)
        })
        .collect();
    assert!(
        out.windows(2).all(|w| w[0].0 < w[1].0),
        "keys not unique and in order"
    );
    out
}

fn send(action: UsageAction) -> Vec<(String, u64)> {
    match action {
        UsageAction::Send {
            body,
            flags,
            evaluations,
        } => {
            let e = entries(&body);
            assert_eq!(flags, e.len());
            assert_eq!(evaluations, e.iter().map(|x| x.1).sum::<u64>());
            e
        }
        other => panic!("expected a send, got {other:?}"),
    }
}

#[test]
fn counting_by_index_skips_unknown_keys_and_survives_a_remap() {
    let e = engine(CONFIG);
    let counter = FlagCounter::new(&e);
    assert_eq!(counter.len(), 3);
    for _ in 0..3 {
        counter.count_evaluation(&e.evaluate("a", "u", &NoAttributes));
    }
    counter.count_evaluation(&e.evaluate("b", "u", &NoAttributes));
    counter.count_evaluation(&e.evaluate("missing", "u", &NoAttributes));
    // Asked as another type, and a rejected flag: both exist, both count.
    counter.count_evaluation(&e.evaluate_as(
        "b",
        "u",
        &NoAttributes,
        None,
        crate::FlagType::Number,
    ));
    counter.count_evaluation(&e.evaluate("bad", "u", &NoAttributes));
    for (_, ev) in e.evaluate_all("u", &NoAttributes, None) {
        counter.count_evaluation(&ev);
    }
    counter.count(99);
    assert_eq!(counter.counts(false), [("b", 3), ("a", 4), ("bad", 2)]);
    assert_eq!(counter.counts_json(false), r#"{"b":3,"a":4,"bad":2}"#);

    // The new config drops "bad", adds "c" and moves "a" first.
    let next = engine(
        r#"{"schema_version": 1, "experiments": [], "flags": [
        {"key": "a", "type": "string", "default": "x"}, {"key": "c", "type": "boolean", "default": true},
        {"key": "b", "type": "boolean", "default": false}]}"#,
    );
    let moved = counter.remap(&next);
    assert!(
        counter.counts(false).is_empty(),
        "taken from the old counter"
    );
    moved.count_evaluation(&next.evaluate("c", "u", &NoAttributes));
    assert_eq!(moved.counts(true), [("a", 4), ("c", 1), ("b", 3)]);
    assert!(moved.counts(true).is_empty(), "reset");
    assert_eq!(moved.counts_json(true), "{}");
    assert!(FlagCounter::default().is_empty());
}

#[test]
fn options_are_checked() {
    let bad = |ms: f64| {
        let mut o = UsageOptions::new("http://x");
        o.interval_ms = ms;
        UsageSender::new(o).map(|_| ()).unwrap_err().code()
    };
    for ms in [0.0, 999.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(bad(ms), "invalid_argument", "{ms}");
    }
    assert_eq!(UsageOptions::new("x").interval_ms, 60_000.0);
    assert!(UsageSender::new(UsageOptions::new("x")).is_ok());
}

#[test]
fn reports_every_interval_only_what_was_counted() {
    let mut s = sender(60_000.0);
    assert_eq!(
        s.tick(T0),
        UsageAction::Wait {
            until_ms: Some(T0 + 60_000.0)
        }
    );
    s.record("b", 2);
    s.record("a", 1);
    s.record("b", 3);
    s.record("zero", 0);
    s.record("", 5);
    assert_eq!(
        s.tick(T0 + 59_999.0),
        UsageAction::Wait {
            until_ms: Some(T0 + 60_000.0)
        }
    );
    let body = match s.tick(T0 + 60_000.0) {
        UsageAction::Send { body, .. } => body,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        String::from_utf8(body).unwrap(),
        r#"{"flags":[{"flag":"a","evaluations":1},{"flag":"b","evaluations":5}]}"#
    );
    assert_eq!(s.tick(T0 + 60_000.0), UsageAction::Wait { until_ms: None });
    s.sent(ok(), T0 + 60_010.0);
    assert_eq!((s.stored(), s.pending(), s.dropped()), (6, 0, 0));
    assert_eq!(
        s.tick(T0 + 60_010.0),
        UsageAction::Wait {
            until_ms: Some(T0 + 120_000.0)
        }
    );
    // Nothing counted: no request, the next interval.
    assert_eq!(
        s.tick(T0 + 120_000.0),
        UsageAction::Wait {
            until_ms: Some(T0 + 180_000.0)
        }
    );
}

#[test]
fn a_large_report_is_split_in_key_order() {
    let mut s = sender(1_000.0);
    s.tick(T0);
    for i in 0..12_001u64 {
        s.record(&format!("flag-{i:05}"), i + 1);
    }
    let mut seen = Vec::new();
    let mut now = T0 + 1_000.0;
    for expected in [5_000, 5_000, 2_001] {
        let e = send(s.tick(now));
        assert_eq!(e.len(), expected);
        seen.extend(e);
        s.sent(ok(), now);
        now += 1.0;
    }
    assert!(matches!(
        s.tick(now),
        UsageAction::Wait { until_ms: Some(_) }
    ));
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(seen.len(), 12_001);
    assert_eq!(s.stored(), (1..=12_001u64).sum::<u64>());
}

#[test]
fn retryable_failures_merge_back_and_wait_for_the_interval_and_retry_after() {
    let mut s = sender(60_000.0);
    s.tick(T0);
    s.record("a", 3);
    assert_eq!(send(s.tick(T0 + 60_000.0)), [("a".to_owned(), 3)]);
    s.record("a", 2);
    s.record("b", 1);
    s.sent(
        SendResult::Answered {
            status: 503,
            retry_after: Some("120"),
            body: br#"{"error":{"code":"unavailable","message":"store down"}}"#,
        },
        T0 + 60_010.0,
    );
    let UsageAction::Report { report } = s.tick(T0 + 60_010.0) else {
        panic!()
    };
    assert_eq!(
        (report.kind, report.code.as_str(), report.status),
        (ReportKind::Server, "unavailable", Some(503))
    );
    assert!(report.first_of_kind);
    assert_eq!(
        report.message,
        "POST http://litmus.test/sdk/usage: HTTP 503 unavailable: store down; the flag counts are kept for the next report"
    );
    assert_eq!(report.dropped, 0);
    // Retry-After (120 s) is longer than the interval.
    assert_eq!(
        s.tick(T0 + 60_010.0),
        UsageAction::Wait {
            until_ms: Some(T0 + 180_010.0)
        }
    );
    assert_eq!(
        send(s.tick(T0 + 180_010.0)),
        [("a".to_owned(), 5), ("b".to_owned(), 1)]
    );
    s.sent(
        SendResult::Unreachable {
            message: "connection refused",
        },
        T0 + 180_020.0,
    );
    let UsageAction::Report { report } = s.tick(T0 + 180_020.0) else {
        panic!()
    };
    assert_eq!(
        (report.kind, report.code.as_str()),
        (ReportKind::Unavailable, "unavailable")
    );
    assert_eq!(
        s.tick(T0 + 180_020.0),
        UsageAction::Wait {
            until_ms: Some(T0 + 240_010.0)
        }
    );
    assert_eq!(s.pending(), 6);
    assert_eq!(send(s.tick(T0 + 240_010.0)).len(), 2);
    s.sent(ok(), T0 + 240_011.0);
    assert_eq!(s.tick(T0 + 240_011.0), UsageAction::Recovered);
    assert_eq!((s.stored(), s.dropped(), s.pending()), (6, 0, 0));
}

#[test]
fn auth_failures_keep_the_counts() {
    let mut s = sender(1_000.0);
    s.tick(T0);
    s.record("a", 1);
    send(s.tick(T0 + 1_000.0));
    s.sent(answer(401), T0 + 1_001.0);
    let UsageAction::Report { report } = s.tick(T0 + 1_001.0) else {
        panic!()
    };
    assert_eq!(
        (report.kind, report.code.as_str()),
        (ReportKind::Auth, "unauthorized")
    );
    assert_eq!(s.pending(), 1);
    assert_eq!(
        s.tick(T0 + 1_001.0),
        UsageAction::Wait {
            until_ms: Some(T0 + 2_000.0)
        }
    );
    assert_eq!(send(s.tick(T0 + 2_000.0)), [("a".to_owned(), 1)]);
    s.sent(answer(403), T0 + 2_001.0);
    let UsageAction::Report { report } = s.tick(T0 + 2_001.0) else {
        panic!()
    };
    assert_eq!(
        (report.kind, report.code.as_str()),
        (ReportKind::Auth, "forbidden")
    );
    assert!(report.first_of_kind, "another code");
}

#[test]
fn refused_reports_are_dropped_and_the_rest_goes_on() {
    let mut s = sender(1_000.0);
    s.tick(T0);
    for i in 0..5_001 {
        s.record(&format!("k{i:04}"), 1);
    }
    assert_eq!(send(s.tick(T0 + 1_000.0)).len(), 5_000);
    s.sent(
        SendResult::Answered {
            status: 422,
            retry_after: Some("5"),
            body: br#"{"error":{"code":"invalid_value","message":"no"}}"#,
        },
        T0 + 1_001.0,
    );
    let UsageAction::Report { report } = s.tick(T0 + 1_001.0) else {
        panic!()
    };
    assert_eq!(
        (report.kind, report.code.as_str(), report.status),
        (ReportKind::Server, "invalid_value", Some(422))
    );
    assert!(report.message.ends_with("; the flag counts are dropped"));
    assert_eq!(report.dropped, 5_000);
    // The rest of the round goes at once; the dropped counts never again.
    assert_eq!(send(s.tick(T0 + 1_001.0)), [("k5000".to_owned(), 1)]);
    s.sent(answer(400), T0 + 1_002.0);
    assert!(matches!(s.tick(T0 + 1_002.0), UsageAction::Report { .. }));
    assert_eq!((s.stored(), s.dropped(), s.pending()), (0, 5_001, 0));
    s.record("k0000", 1);
    assert_eq!(send(s.tick(T0 + 2_001.0)), [("k0000".to_owned(), 1)]);
}

#[test]
fn not_found_stops_for_good() {
    let mut s = sender(1_000.0);
    s.tick(T0);
    s.record("a", 2);
    send(s.tick(T0 + 1_000.0));
    s.record("b", 1);
    s.sent(answer(404), T0 + 1_001.0);
    let UsageAction::Stop { message: Some(m) } = s.tick(T0 + 1_001.0) else {
        panic!()
    };
    assert!(
        m.contains("HTTP 404") && m.contains("not sending them again"),
        "{m}"
    );
    assert_eq!(s.tick(T0 + 1_002.0), UsageAction::Stop { message: None });
    s.record("a", 1);
    s.close(1_000.0, T0 + 5_000.0);
    assert_eq!(s.tick(T0 + 9_000.0), UsageAction::Stop { message: None });
    assert!(s.is_stopped());
    assert_eq!((s.stored(), s.dropped(), s.pending()), (0, 3, 0));
}

#[test]
fn close_sends_what_is_left_once_until_the_deadline() {
    let mut s = sender(60_000.0);
    s.tick(T0);
    s.record("a", 1);
    s.close(5_000.0, T0 + 10.0);
    s.record("late", 1);
    assert_eq!(send(s.tick(T0 + 10.0)), [("a".to_owned(), 1)]);
    s.sent(ok(), T0 + 20.0);
    assert_eq!(s.tick(T0 + 20.0), UsageAction::Stop { message: None });

    // A failure while closing drops the counts (one attempt each).
    let mut s = sender(60_000.0);
    s.record("a", 1);
    s.close(5_000.0, T0);
    send(s.tick(T0));
    s.sent(answer(503), T0 + 1.0);
    assert!(matches!(s.tick(T0 + 1.0), UsageAction::Report { .. }));
    assert_eq!(s.tick(T0 + 1.0), UsageAction::Stop { message: None });
    assert_eq!((s.stored(), s.dropped(), s.pending()), (0, 1, 0));

    // Past the deadline: dropped without a request.
    let mut s = sender(60_000.0);
    s.record("a", 4);
    s.close(0.0, T0);
    assert_eq!(s.tick(T0), UsageAction::Stop { message: None });
    assert_eq!(s.dropped(), 4);

    // Nothing counted: nothing sent.
    let mut s = sender(60_000.0);
    s.close(1_000.0, T0);
    assert_eq!(s.tick(T0), UsageAction::Stop { message: None });
}

#[test]
fn answers_without_a_request_and_odd_clocks_do_not_panic() {
    let mut s = sender(1_000.0);
    s.sent(ok(), T0);
    s.sent(SendResult::Unreachable { message: "x" }, f64::NAN);
    s.record("a", u64::MAX);
    s.record("a", u64::MAX);
    assert_eq!(s.pending(), u64::MAX);
    s.tick(f64::NAN);
    let _ = s.tick(f64::INFINITY);
    s.close(f64::NAN, f64::NAN);
    for _ in 0..3 {
        let _ = s.tick(f64::NEG_INFINITY);
        s.sent(answer(500), f64::NAN);
    }
    assert!(matches!(
        s.tick(f64::NAN),
        UsageAction::Stop { .. } | UsageAction::Report { .. } | UsageAction::Send { .. }
    ));
}

#[test]
fn actions_as_json() {
    let a = UsageAction::Send {
        body: b"{}".to_vec(),
        flags: 0,
        evaluations: 0,
    };
    assert_eq!(
        a.to_json(),
        serde_json::json!({"type": "send", "body": "{}", "flags": 0, "evaluations": 0})
    );
    assert_eq!(
        UsageAction::Wait { until_ms: None }.to_json(),
        serde_json::json!({"type": "wait", "until_ms": null})
    );
    assert_eq!(
        UsageAction::Stop { message: None }.to_json()["type"],
        "stop"
    );
    assert_eq!(UsageAction::Recovered.to_json()["type"], "recovered");
}

#[test]
fn keys_are_escaped_as_json() {
    let mut s = sender(1_000.0);
    s.tick(T0);
    s.record("quote\"and\\slash é", 1);
    assert_eq!(send(s.tick(T0 + 1_000.0))[0].0, "quote\"and\\slash é");
}

// -- properties -------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    /// Records `n` evaluations of one of a few keys.
    Record(u8, u64),
    /// Records one evaluation of each of `count` keys starting at `from` (splits).
    RecordMany(u16, u16),
    /// Moves the clock on and ticks until the machine waits or stops; answers a send with
    /// the answer at `answer` (an index into the answers).
    Advance(u32, u8),
    /// Closes with this timeout.
    Close(u32),
}

/// Statuses and failures: 0 is a network failure.
const RETRYABLE: [u16; 6] = [0, 408, 429, 500, 503, 401];
const ANY: [u16; 12] = [0, 200, 204, 400, 401, 403, 404, 413, 422, 429, 503, 302];

fn ops(max_many: u16) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0u8..8, 0u64..1_000).prop_map(|(k, n)| Op::Record(k, n)),
            1 => (0u16..3_000, 0..max_many).prop_map(|(f, c)| Op::RecordMany(f, c)),
            4 => (0u32..130_000, any::<u8>()).prop_map(|(d, a)| Op::Advance(d, a)),
            1 => (0u32..10_000).prop_map(Op::Close),
        ],
        0..40,
    )
}

/// The machine under test with the books of what went in and out.
struct Run {
    s: UsageSender,
    now: f64,
    closed: bool,
    recorded: BTreeMap<String, u64>,
    stored: BTreeMap<String, u64>,
    answers: &'static [u16],
}

impl Run {
    fn new(answers: &'static [u16]) -> Self {
        Run {
            s: sender(1_000.0),
            now: T0,
            closed: false,
            recorded: BTreeMap::new(),
            stored: BTreeMap::new(),
            answers,
        }
    }

    fn record(&mut self, key: &str, n: u64) {
        let taken = n > 0 && !self.closed && !self.s.is_stopped();
        self.s.record(key, n);
        if taken {
            *self.recorded.entry(key.to_owned()).or_default() += n;
        }
    }

    /// Ticks until the machine waits (for time) or stops, answering each send.
    fn settle(&mut self, pick: u8) -> bool {
        for round in 0..100u32 {
            match self.s.tick(self.now) {
                UsageAction::Send { .. } if self.s.is_stopped() => panic!("a send once stopped"),
                action @ UsageAction::Send { .. } => {
                    let batch = send(action);
                    let status =
                        self.answers[(pick as usize + round as usize) % self.answers.len()];
                    self.now += 5.0;
                    if status == 0 {
                        self.s
                            .sent(SendResult::Unreachable { message: "down" }, self.now);
                    } else {
                        self.s.sent(
                            SendResult::Answered {
                                status,
                                retry_after: Some("2"),
                                body: b"",
                            },
                            self.now,
                        );
                    }
                    if (200..300).contains(&status) {
                        for (k, n) in batch {
                            *self.stored.entry(k).or_default() += n;
                        }
                    }
                }
                UsageAction::Wait { until_ms: None } => panic!("waiting on nothing in flight"),
                UsageAction::Wait { .. } => return false,
                UsageAction::Stop { .. } => return true,
                UsageAction::Report { .. } | UsageAction::Recovered => {}
            }
            self.check();
        }
        panic!("no wait after 100 actions")
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Record(k, n) => self.record(&format!("flag-{k}"), n),
            Op::RecordMany(from, count) => {
                for i in from..from.saturating_add(count) {
                    self.record(&format!("many-{i:05}"), 1);
                }
            }
            Op::Advance(dt, pick) => {
                self.now += f64::from(dt);
                self.settle(pick);
            }
            Op::Close(timeout) => {
                self.closed = true;
                self.s.close(f64::from(timeout), self.now);
            }
        }
        self.check();
    }

    /// What went in is stored, dropped or still pending.
    fn check(&self) {
        let recorded: u64 = self.recorded.values().sum();
        let stored: u64 = self.stored.values().sum();
        assert_eq!(stored, self.s.stored());
        assert_eq!(
            recorded,
            self.s.stored() + self.s.dropped() + self.s.pending()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever fails along the way (network, 408, 429, 5xx, 401), once the server takes the
    /// reports every flag's evaluations arrive exactly: nothing lost, nothing twice.
    #[test]
    fn retryable_failures_lose_nothing(ops in ops(7_000)) {
        let mut run = Run::new(&RETRYABLE);
        for op in ops.iter().filter(|o| !matches!(o, Op::Close(_))) {
            run.apply(op);
        }
        // Then the server answers well.
        run.answers = &[204];
        for _ in 0..20 {
            run.now += 130_000.0;
            run.settle(0);
            if run.s.pending() == 0 {
                break;
            }
        }
        prop_assert_eq!(run.s.pending(), 0);
        prop_assert_eq!(run.s.dropped(), 0);
        prop_assert_eq!(&run.stored, &run.recorded);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// With any answers and a close anywhere: counts are conserved (stored + dropped +
    /// pending = recorded), every body is well formed, nothing is sent once stopped, and a
    /// closed sender stops by its deadline.
    #[test]
    fn any_answers_conserve_counts(ops in ops(6_000), timeout in 0u32..5_000) {
        let mut run = Run::new(&ANY);
        for op in &ops {
            run.apply(op);
        }
        run.s.close(f64::from(timeout), run.now);
        run.closed = true;
        run.now += f64::from(timeout) + 1.0;
        prop_assert!(run.settle(0), "stopped after the deadline");
        prop_assert_eq!(run.s.pending(), 0);
        run.check();
    }
}
