//! What SDKs send the server, for the load generators: events as the trackers stamp them, and
//! assignment requests.

/// Event `i` of client `c` at `now_ms`, with a unique message id: 10% exposures, 90% metric
/// events, over 50,000 units, 4 experiments (`exp-0`..`exp-3`) and 3 metrics.
pub fn event(c: usize, i: u64, now_ms: u128) -> String {
    let unit = (i.wrapping_mul(2_654_435_761) ^ c as u64) % 50_000;
    if i % 10 == 0 {
        format!(
            r#"{{"type":"exposure","message_id":"c{c}-{i}","timestamp":{now_ms},"unit_id":"u{unit}","experiment":"exp-{}","variant":"{}"}}"#,
            i % 4,
            if unit % 2 == 0 {
                "control"
            } else {
                "treatment"
            }
        )
    } else {
        format!(
            r#"{{"type":"track","message_id":"c{c}-{i}","timestamp":{now_ms},"unit_id":"u{unit}","event":"{}","value":{}}}"#,
            match i % 3 {
                0 => "purchase",
                1 => "click",
                _ => "view",
            },
            i % 97
        )
    }
}

/// A batch of `n` events of client `c` from event `first`, in the SDKs' envelope.
pub fn batch(c: usize, first: u64, n: usize, now_ms: u128) -> String {
    batch_with(c, first, n, now_ms, false, false)
}

/// The values of event `i`'s unit for the 3 dimensions of the load's experiments
/// (`dimensions` of `batch_with`): a country (5), a platform (3) and a browser (4).
pub fn dimension_values(i: u64) -> (&'static str, &'static str, &'static str) {
    let pick = |values: &[&'static str], n: u64| -> &'static str {
        values.get(n as usize % values.len()).copied().unwrap_or("")
    };
    (
        pick(&["US", "DE", "FR", "JP", "BR"], i / 10),
        pick(&["ios", "android", "web"], i / 50),
        pick(&["chrome", "safari", "firefox", "edge"], i / 150),
    )
}

/// [`batch`], its metric events with `properties` when asked: a `plan` (`free`, `pro`,
/// `team`), an `amount` (0 to 96) and a `country` (`US`, `DE`, `FR`, `JP`), as a metric's
/// filters read them.
/// With `dimensions`, its exposures carry their unit's country, platform and browser
/// ([`dimension_values`]).
pub fn batch_with(
    c: usize,
    first: u64,
    n: usize,
    now_ms: u128,
    properties: bool,
    dimensions: bool,
) -> String {
    let events: Vec<String> = (first..first + n as u64)
        .map(|i| {
            let e = event(c, i, now_ms);
            if dimensions && i % 10 == 0 {
                let (country, platform, browser) = dimension_values(i);
                format!(
                    r#"{},"dimensions":{{"country":"{country}","platform":"{platform}","browser":"{browser}"}}}}"#,
                    &e[..e.len() - 1]
                )
            } else if properties && i % 10 != 0 {
                let props = format!(
                    r#","properties":{{"plan":"{}","amount":{},"country":"{}"}}}}"#,
                    match i % 3 {
                        0 => "free",
                        1 => "pro",
                        _ => "team",
                    },
                    i % 97,
                    match i / 7 % 4 {
                        0 => "US",
                        1 => "DE",
                        2 => "FR",
                        _ => "JP",
                    }
                );
                format!("{}{props}", &e[..e.len() - 1])
            } else {
                e
            }
        })
        .collect();
    format!(r#"{{"events":[{}]}}"#, events.join(","))
}

/// An `/assign` request for unit `unit` (every running experiment, with attributes).
pub fn assign(unit: u64) -> String {
    format!(r#"{{"unit_id":"user-{unit}","attributes":{{"country":"US","plan":"pro"}}}}"#)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}
