//! Request counters for `/metrics` (Prometheus text format): requests and their total
//! duration by method, route and status, plus the config version this instance serves.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

/// A series: method, route pattern, status.
type Series = (String, String, u16);

/// Counts per series: requests and seconds spent.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    requests: Arc<Mutex<BTreeMap<Series, (u64, f64)>>>,
    events: Arc<Mutex<BTreeMap<&'static str, u64>>>,
}

impl Metrics {
    /// Counts `n` events by outcome (`accepted`, `duplicate`, `rejected`, `failed`,
    /// `throttled`).
    pub fn count_events(&self, outcome: &'static str, n: u64) {
        *self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(outcome)
            .or_default() += n;
    }

    /// Counts one request answered with `status` after `seconds`.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut map = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = map
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        entry.0 += 1;
        entry.1 += seconds;
    }

    /// The counters in Prometheus' text format, with the served config version.
    pub fn render(&self, config_version: u64, cache_fallbacks: u64) -> String {
        let map = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = String::new();
        let family = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        let series = |out: &mut String, name: &str, value: &dyn Fn(&(u64, f64)) -> String| {
            for ((method, route, status), v) in map.iter() {
                let _ = writeln!(
                    out,
                    "{name}{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                    value(v)
                );
            }
        };
        let requests = "litmus_http_requests_total";
        family(&mut out, requests, "counter", "HTTP requests answered.");
        series(&mut out, requests, &|(n, _)| n.to_string());
        let seconds = "litmus_http_request_duration_seconds_sum";
        family(
            &mut out,
            seconds,
            "counter",
            "Seconds spent answering requests.",
        );
        series(&mut out, seconds, &|(_, s)| format!("{s:.6}"));
        let version = "litmus_config_version";
        family(&mut out, version, "gauge", "The config version served.");
        let _ = writeln!(out, "{version} {config_version}");
        let fallbacks = "litmus_cache_fallbacks_total";
        family(
            &mut out,
            fallbacks,
            "counter",
            "Cache operations answered from in-process state because the shared cache failed.",
        );
        let _ = writeln!(out, "{fallbacks} {cache_fallbacks}");
        let events = "litmus_events_total";
        family(
            &mut out,
            events,
            "counter",
            "Events received, by outcome (batches, for throttled).",
        );
        let counts = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (outcome, n) in counts.iter() {
            let _ = writeln!(out, "{events}{{outcome=\"{outcome}\"}} {n}");
        }
        out
    }
}
