//! Insight alerts: what changed in a running experiment's insights since the last look. The
//! state of the last look ([`Seen`]) is stored per experiment; from it and the current results
//! (`crate::results::experiment_results`), [`alerts`] gives the events to send and the new
//! state. Event ids come from the state (with a count of how many times an alert has begun),
//! so instances that look at the same time queue the same events, once.
//!
//! - `insight.srm` and `insight.guardrail_harm`: when one begins (also at the first look);
//! - `insight.anomaly`: each anomaly not seen before;
//! - `insight.significant`: when the recommendation becomes `ship`;
//! - `insight.recommendation_changed`: when the recommended action or variant changes (not at
//!   the first look).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Event;

/// The last look: each alert's key (`srm`, `guardrail:<metric>:<variant>`,
/// `anomaly:<metric>:<variant>:<time>`, `recommendation`) to its value, with how many times an
/// on/off alert has begun (`on#3`).
pub type Seen = BTreeMap<String, String>;

/// The number of times the alert at `key` has begun, from its stored value.
fn begun(seen: &Seen, key: &str) -> u64 {
    seen.get(key)
        .and_then(|v| v.rsplit_once('#'))
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// Whether the alert at `key` was on at the last look.
fn was_on(seen: &Seen, key: &str) -> bool {
    seen.get(key).is_some_and(|v| v.starts_with("on#"))
}

/// The events for experiment `experiment` of `project` whose results are `results`, given the
/// last look `previous` (none: the first look), at `now_ms`; and the new state.
pub fn alerts(
    project: &str,
    experiment: &str,
    previous: Option<&Seen>,
    results: &Value,
    now_ms: i64,
) -> (Vec<Event>, Seen) {
    let empty = Seen::new();
    let seen = previous.unwrap_or(&empty);
    let mut next = Seen::new();
    let mut events = Vec::new();
    let event = |kind: &str, key: &str, data: Value| Event {
        id: format!("insight:{project}:{experiment}:{key}"),
        kind: kind.to_owned(),
        project: project.to_owned(),
        created_ms: now_ms,
        data: json!({"experiment": experiment, "insight": data}),
    };
    let insights = results["insights"].as_array().cloned().unwrap_or_default();
    let mut on_now = BTreeMap::new();
    for insight in &insights {
        let text = |f: &str| insight[f].as_str().unwrap_or_default().to_owned();
        let key = match text("kind").as_str() {
            "srm" => "srm".to_owned(),
            "guardrail" => format!("guardrail:{}:{}", text("metric"), text("variant")),
            "anomaly" => format!(
                "anomaly:{}:{}:{}",
                text("metric"),
                text("variant"),
                insight["time_ms"].as_i64().unwrap_or_default()
            ),
            _ => continue,
        };
        on_now.insert(key, insight.clone());
    }
    // On/off alerts (SRM, guardrails) and anomalies, by key.
    let keys: std::collections::BTreeSet<&String> = seen
        .keys()
        .filter(|k| k.starts_with("srm") || k.starts_with("guardrail:"))
        .chain(on_now.keys())
        .collect();
    for key in keys {
        let count = begun(seen, key);
        match (on_now.get(key), key.starts_with("anomaly:")) {
            (Some(insight), true) => {
                if !seen.contains_key(key) {
                    events.push(event("insight.anomaly", key, insight.clone()));
                }
                next.insert(key.clone(), "seen".into());
            }
            (Some(insight), false) => {
                if was_on(seen, key) {
                    next.insert(key.clone(), format!("on#{count}"));
                } else {
                    let n = count + 1;
                    let kind = if key == "srm" {
                        "insight.srm"
                    } else {
                        "insight.guardrail_harm"
                    };
                    events.push(event(kind, &format!("{key}#{n}"), insight.clone()));
                    next.insert(key.clone(), format!("on#{n}"));
                }
            }
            (None, _) if key.starts_with("anomaly:") => {}
            (None, _) => {
                next.insert(key.clone(), format!("off#{count}"));
            }
        }
    }
    // The recommendation.
    let rec = &results["recommendation"];
    let action = rec["action"].as_str().unwrap_or("no_data");
    let current = format!("{action}:{}", rec["variant"].as_str().unwrap_or_default());
    let key = "recommendation";
    let last = seen
        .get(key)
        .map(|v| v.rsplit_once('#').map_or(v.as_str(), |(s, _)| s));
    let count = begun(seen, key);
    let changed = last != Some(current.as_str());
    let n = if changed { count + 1 } else { count };
    if changed && previous.is_some() {
        let data = json!({"action": action, "variant": rec["variant"], "reason": rec["reason"], "previous": last});
        events.push(event(
            "insight.recommendation_changed",
            &format!("{key}#{n}"),
            data.clone(),
        ));
        if action == "ship" {
            events.push(event(
                "insight.significant",
                &format!("significant#{n}"),
                data,
            ));
        }
    } else if changed && action == "ship" {
        let data = json!({"action": action, "variant": rec["variant"], "reason": rec["reason"]});
        events.push(event(
            "insight.significant",
            &format!("significant#{n}"),
            data,
        ));
    }
    next.insert(key.into(), format!("{current}#{n}"));
    (events, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(insights: Value, action: &str, variant: Option<&str>) -> Value {
        json!({"insights": insights, "recommendation": {"action": action, "variant": variant, "reason": "r"}})
    }

    fn kinds(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.kind.as_str()).collect()
    }

    #[test]
    fn alerts_fire_when_insights_begin_and_not_again_while_they_last() {
        let srm = json!([{"kind": "srm", "title": "SRM"}]);
        // First look: an SRM already there is sent; the recommendation is only noted.
        let (e1, s1) = alerts(
            "p",
            "x",
            None,
            &results(srm.clone(), "keep_running", None),
            1,
        );
        assert_eq!(kinds(&e1), ["insight.srm"]);
        assert_eq!(e1[0].id, "insight:p:x:srm#1");
        // It lasts: nothing new.
        let (e2, s2) = alerts(
            "p",
            "x",
            Some(&s1),
            &results(srm.clone(), "keep_running", None),
            2,
        );
        assert!(e2.is_empty());
        // It ends, then begins again: a new event with a new id.
        let (e3, s3) = alerts(
            "p",
            "x",
            Some(&s2),
            &results(json!([]), "keep_running", None),
            3,
        );
        assert!(e3.is_empty());
        let (e4, s4) = alerts("p", "x", Some(&s3), &results(srm, "keep_running", None), 4);
        assert_eq!(e4[0].id, "insight:p:x:srm#2");
        // Significance: the recommendation becomes ship.
        let (e5, s5) = alerts(
            "p",
            "x",
            Some(&s4),
            &results(json!([{"kind": "srm"}]), "ship", Some("b")),
            5,
        );
        assert_eq!(
            kinds(&e5),
            ["insight.recommendation_changed", "insight.significant"]
        );
        // Guardrails and anomalies, each once.
        let g = json!([{"kind": "srm"}, {"kind": "guardrail", "metric": "latency", "variant": "b"},
                       {"kind": "anomaly", "metric": "conv", "variant": "a", "time_ms": 60000}]);
        let (e6, s6) = alerts(
            "p",
            "x",
            Some(&s5),
            &results(g.clone(), "ship", Some("b")),
            6,
        );
        assert_eq!(kinds(&e6), ["insight.anomaly", "insight.guardrail_harm"]);
        let (e7, _) = alerts("p", "x", Some(&s6), &results(g, "ship", Some("b")), 7);
        assert!(e7.is_empty());
        // The same look from two instances gives the same events.
        let (a, _) = alerts("p", "x", Some(&s5), &results(json!([]), "stop", None), 8);
        let (b, _) = alerts("p", "x", Some(&s5), &results(json!([]), "stop", None), 9);
        let ids = |v: &[Event]| v.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
    }
}
