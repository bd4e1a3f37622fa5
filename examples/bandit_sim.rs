//! Regret simulation of every bandit policy on a classic problem, written as CSV files and an
//! SVG plot, with a progress bar.
//!
//! ```text
//! cargo run --release -p litmus-core --example bandit_sim -- [PROBLEM] [HORIZON] [RUNS] [OUT_DIR]
//!   PROBLEM  bernoulli9 (means 0.1..0.9, default) | two-arms (0.05 vs 0.06) | gaussian
//!   HORIZON  pulls per run (default 10000)      RUNS  seeded runs (default 100)
//!   OUT_DIR  default target/bandit-sim
//! ```
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::io::Write as _;

use litmus_core::bandit::{Environment, Options, Policy, RegretCurve, Rule, simulate};

fn policies() -> Vec<(&'static str, Policy)> {
    let make = |rule| Policy::new(rule, Options::default()).expect("valid policy");
    vec![
        (
            "thompson",
            make(Rule::ThompsonBeta {
                prior_alpha: 1.0,
                prior_beta: 1.0,
            }),
        ),
        ("kl-ucb", make(Rule::KlUcb { c: 0.0 })),
        ("ucb1", make(Rule::Ucb1 { exploration: 2.0 })),
        (
            "eps-greedy-0.1",
            make(Rule::EpsilonGreedy {
                epsilon: 0.1,
                decay: None,
            }),
        ),
        (
            "eps-decaying",
            make(Rule::EpsilonGreedy {
                epsilon: 1.0,
                decay: Some(5.0),
            }),
        ),
    ]
}

fn gaussian_policies() -> Vec<(&'static str, Policy)> {
    let make = |rule| Policy::new(rule, Options::default()).expect("valid policy");
    vec![
        (
            "thompson-normal",
            make(Rule::ThompsonNormal {
                prior_mean: 0.0,
                prior_kappa: 1e-3,
                prior_alpha: 1.0,
                prior_beta: 1.0,
            }),
        ),
        ("ucb1", make(Rule::Ucb1 { exploration: 2.0 })),
        (
            "eps-greedy-0.1",
            make(Rule::EpsilonGreedy {
                epsilon: 0.1,
                decay: None,
            }),
        ),
    ]
}

/// A line plot of mean regret with 95% bands over a log time axis.
fn svg(title: &str, curves: &[(&str, RegretCurve)], bound: Option<f64>) -> String {
    let (w, h, left, right, top, bottom) = (900.0, 540.0, 80.0, 200.0, 50.0, 60.0);
    let t_max = curves
        .iter()
        .filter_map(|(_, c)| c.times().last())
        .copied()
        .max()
        .unwrap_or(1) as f64;
    let raw_max = curves
        .iter()
        .flat_map(|(_, c)| c.upper().iter().copied())
        .fold(1.0f64, f64::max);
    // A round top for the axis: 1, 2 or 5 times a power of ten.
    let magnitude = 10f64.powf(raw_max.log10().floor());
    let y_max = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&v| v >= raw_max)
        .unwrap_or(10.0 * magnitude);
    let x = |t: f64| left + (t.max(1.0).ln() / t_max.ln().max(1e-9)) * (w - left - right);
    let y = |r: f64| h - bottom - (r / y_max) * (h - top - bottom);
    let colors = [
        "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
    ];
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="13">"#
    );
    let _ = write!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="{left}" y="30" font-size="16">{title}</text>"#
    );
    // Axes and ticks.
    let _ = write!(
        s,
        r#"<line x1="{left}" y1="{}" x2="{}" y2="{}" stroke="black"/>"#,
        h - bottom,
        w - right,
        h - bottom
    );
    let _ = write!(
        s,
        r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{}" stroke="black"/>"#,
        h - bottom
    );
    let mut t = 1.0;
    while t <= t_max * 1.0001 {
        let _ = write!(
            s,
            r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="gainsboro"/><text x="{0}" y="{3}" text-anchor="middle">{4}</text>"#,
            x(t),
            top,
            h - bottom,
            h - bottom + 18.0,
            t
        );
        t *= 10.0;
    }
    for k in 0..=5 {
        let r = y_max * k as f64 / 5.0;
        let _ = write!(
            s,
            r#"<line x1="{left}" y1="{0}" x2="{1}" y2="{0}" stroke="whitesmoke"/><text x="{2}" y="{3}" text-anchor="end">{4:.0}</text>"#,
            y(r),
            w - right,
            left - 6.0,
            y(r) + 4.0,
            r
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">pulls (log scale)</text>"#,
        (left + w - right) / 2.0,
        h - 15.0
    );
    let _ = write!(
        s,
        r#"<text x="20" y="{}" transform="rotate(-90 20 {})" text-anchor="middle">cumulative regret</text>"#,
        (top + h - bottom) / 2.0,
        (top + h - bottom) / 2.0
    );
    if let Some(c) = bound {
        let pts: Vec<String> = (0..=50)
            .map(|i| {
                let t = t_max.powf(i as f64 / 50.0);
                format!("{:.1},{:.1}", x(t), y((c * t.ln()).min(y_max)))
            })
            .collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="black" stroke-dasharray="5,4"/>"#,
            pts.join(" ")
        );
    }
    for (i, (name, curve)) in curves.iter().enumerate() {
        let color = colors[i % colors.len()];
        let upper: Vec<String> = curve
            .times()
            .iter()
            .zip(curve.upper())
            .map(|(&t, &r)| format!("{:.1},{:.1}", x(t as f64), y(r)))
            .collect();
        let lower: Vec<String> = curve
            .times()
            .iter()
            .zip(curve.lower())
            .rev()
            .map(|(&t, &r)| format!("{:.1},{:.1}", x(t as f64), y(r.max(0.0))))
            .collect();
        let _ = write!(
            s,
            r#"<polygon points="{} {}" fill="{color}" fill-opacity="0.18" stroke="none"/>"#,
            upper.join(" "),
            lower.join(" ")
        );
        let mean: Vec<String> = curve
            .times()
            .iter()
            .zip(curve.mean())
            .map(|(&t, &r)| format!("{:.1},{:.1}", x(t as f64), y(r)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            mean.join(" ")
        );
        let ly = top + 20.0 + 22.0 * i as f64;
        let _ = write!(
            s,
            r#"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="{color}" stroke-width="3"/><text x="{3}" y="{4}">{name}</text>"#,
            w - right + 15.0,
            ly,
            w - right + 40.0,
            w - right + 46.0,
            ly + 4.0
        );
    }
    if bound.is_some() {
        let ly = top + 20.0 + 22.0 * curves.len() as f64;
        let _ = write!(
            s,
            r#"<line x1="{0}" y1="{1}" x2="{2}" y2="{1}" stroke="black" stroke-dasharray="5,4"/><text x="{3}" y="{4}">Lai-Robbins</text>"#,
            w - right + 15.0,
            ly,
            w - right + 40.0,
            w - right + 46.0,
            ly + 4.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let problem = args.first().map_or("bernoulli9", String::as_str);
    let horizon: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    let out = std::path::PathBuf::from(args.get(3).map_or("target/bandit-sim", String::as_str));
    let (environment, list) = match problem {
        "two-arms" => (Environment::Bernoulli(vec![0.05, 0.06]), policies()),
        "gaussian" => (
            Environment::Gaussian {
                means: vec![0.0, 0.2, 0.4, 0.5],
                sd: 1.0,
            },
            gaussian_policies(),
        ),
        _ => (
            Environment::Bernoulli((1..=9).map(|i| i as f64 / 10.0).collect()),
            policies(),
        ),
    };
    std::fs::create_dir_all(&out).expect("output directory");
    let bound = environment.lai_robbins();
    let mut curves = Vec::new();
    for (name, policy) in list {
        let mut bar = |done: u64, total: u64| {
            let width = 30;
            let filled = (done * width / total) as usize;
            eprint!(
                "\r{name:<16} [{}{}] {done}/{total} runs",
                "#".repeat(filled),
                ".".repeat(width as usize - filled)
            );
            let _ = std::io::stderr().flush();
        };
        let curve =
            simulate(&policy, &environment, horizon, runs, 2026, 60, &mut bar).expect("simulation");
        eprintln!();
        std::fs::write(
            out.join(format!("{problem}-T{horizon}-{name}.csv")),
            curve.to_csv(),
        )
        .expect("write csv");
        curves.push((name, curve));
    }
    let title = format!("{problem}: mean cumulative regret over {runs} runs (95% bands)");
    let plot = svg(
        &title,
        &curves,
        (!matches!(environment, Environment::Gaussian { .. })).then_some(bound),
    );
    std::fs::write(out.join(format!("{problem}-T{horizon}.svg")), plot).expect("write svg");
    println!(
        "{problem}, T = {horizon}, {runs} runs; Lai-Robbins asymptote C ln T = {:.1} (C = {bound:.2})",
        bound * (horizon as f64).ln()
    );
    println!(
        "{:<18} {:>14} {:>16} {:>12}",
        "policy", "mean regret", "95% band", "/ C ln T"
    );
    for (name, c) in &curves {
        let last = c.mean().len() - 1;
        println!(
            "{name:<18} {:>14.1} {:>7.1}..{:<7.1} {:>12.2}",
            c.final_regret(),
            c.lower()[last],
            c.upper()[last],
            c.final_regret() / (bound * (horizon as f64).ln())
        );
    }
    println!("wrote {}", out.display());
}
