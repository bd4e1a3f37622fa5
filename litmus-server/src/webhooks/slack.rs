//! The Slack format: an event as an incoming-webhook message, a sentence a person reads and a
//! link to the dashboard page it is about (`text` for notifications, and the same in a
//! `mrkdwn` section block).

use serde_json::{Value, json};

use super::Event;

/// Escapes `&`, `<` and `>` as Slack's message text requires.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The sentence for `event`, with `link` (the dashboard page) when there is one.
pub fn sentence(event: &Event, link: Option<&str>) -> String {
    let d = &event.data;
    let s = |v: &Value| escape(v.as_str().unwrap_or_default());
    let subject = |what: &str| match link {
        Some(l) => format!("<{l}|{what}>"),
        None => format!("*{what}*"),
    };
    let project = if event.project == crate::projects::DEFAULT_PROJECT {
        String::new()
    } else {
        format!(" in {}", escape(&event.project))
    };
    let body = match event.kind.as_str() {
        k if k.starts_with("experiment.") || k == "bandit.weights_updated" => {
            let what = subject(&format!("experiment {}", s(&d["experiment"])));
            let verb = match k {
                "experiment.created" => "was created",
                "experiment.started" => "started",
                "experiment.stopped" => "stopped",
                "experiment.deleted" => "was deleted",
                "bandit.weights_updated" => "has new bandit weights",
                _ => "was changed",
            };
            let changes = d["changes"].as_array().map_or(0, Vec::len);
            let detail = if changes > 0 && k != "bandit.weights_updated" {
                format!(" ({changes} change{})", if changes == 1 { "" } else { "s" })
            } else {
                String::new()
            };
            format!("{what}{project} {verb} by {}{detail}", s(&d["actor"]))
        }
        k if k.starts_with("flag.") => {
            let what = subject(&format!("flag {}", s(&d["flag"])));
            let verb = match k {
                "flag.created" => "was created",
                "flag.deleted" => "was deleted",
                _ => "was changed",
            };
            format!("{what}{project} {verb} by {}", s(&d["actor"]))
        }
        k if k.starts_with("insight.") => {
            let what = subject(&format!("experiment {}", s(&d["experiment"])));
            let i = &d["insight"];
            let headline = match k {
                "insight.srm" => ":warning: Sample ratio mismatch".to_owned(),
                "insight.guardrail_harm" => ":rotating_light: A guardrail is harmed".to_owned(),
                "insight.anomaly" => ":chart_with_upwards_trend: An anomaly".to_owned(),
                "insight.significant" => ":tada: Significance reached".to_owned(),
                _ => format!("Recommendation: {}", s(&i["action"]).replace('_', " ")),
            };
            let reason = i["reason"]
                .as_str()
                .or(i["title"].as_str())
                .unwrap_or_default();
            format!("{headline} in {what}{project}. {}", escape(reason))
        }
        "webhook.test" => format!("A test delivery from Litmus{project}. It works."),
        other => format!("Litmus event {}{project}", escape(other)),
    };
    body.trim().to_owned()
}

/// The Slack message of `event`; `dashboard` is the dashboard's base URL when known.
pub fn message(event: &Event, dashboard: Option<&str>) -> Value {
    let d = &event.data;
    let page = d["experiment"]
        .as_str()
        .map(|k| format!("#/experiments/{k}"))
        .or_else(|| d["flag"].as_str().map(|k| format!("#/flags/{k}")));
    let link = match (dashboard, page) {
        (Some(base), Some(page)) => Some(format!("{base}/dashboard/{page}")),
        _ => None,
    };
    let text = sentence(event, link.as_deref());
    json!({
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, data: Value) -> Event {
        Event {
            id: "e".into(),
            kind: kind.into(),
            project: "default".into(),
            created_ms: 0,
            data,
        }
    }

    #[test]
    fn events_read_as_sentences_with_a_link() {
        let started = event(
            "experiment.started",
            json!({"experiment": "checkout", "actor": "ada@example.com", "changes": [{}]}),
        );
        let m = message(&started, Some("https://litmus.example.com"));
        assert_eq!(
            m["text"],
            json!(
                "<https://litmus.example.com/dashboard/#/experiments/checkout|experiment checkout> started by ada@example.com (1 change)"
            )
        );
        assert_eq!(m["blocks"][0]["text"]["text"], m["text"]);
        let srm = event(
            "insight.srm",
            json!({"experiment": "x<y>", "insight": {"reason": "p = 0.0001 & more"}}),
        );
        let text = sentence(&srm, None);
        assert_eq!(
            text,
            ":warning: Sample ratio mismatch in *experiment x&lt;y&gt;*. p = 0.0001 &amp; more"
        );
        assert!(sentence(&event("webhook.test", json!({})), None).contains("test delivery"));
    }
}
