//! Insights read off an experiment's results: a sample ratio mismatch, and guardrails that
//! got worse.

use super::finding::{Insight, InsightKind, Severity, metric_name, percent, pvalue};
use crate::results::{ExperimentResults, Verdict};

/// A critical insight when the split does not follow the weights.
pub fn srm(results: &ExperimentResults) -> Option<Insight> {
    let srm = results.srm.as_ref().filter(|s| s.mismatch)?;
    let shares: Vec<String> = results
        .units
        .iter()
        .zip(srm.observed_shares.iter().zip(&srm.expected_shares))
        .map(|((variant, _), (o, e))| {
            format!("{variant} {} (expected {})", percent(*o), percent(*e))
        })
        .collect();
    let mut insight = Insight::new(
        InsightKind::Srm,
        Severity::Critical,
        "Sample ratio mismatch: the split does not follow the weights".to_owned(),
        format!(
            "Units per variant: {} ({}, threshold {}). Assignment or exposure logging is \
             broken for some units; the results cannot be trusted until the cause is found.",
            shares.join(", "),
            pvalue(srm.pvalue),
            srm.threshold
        ),
    )
    .number("pvalue", srm.pvalue)
    .number("statistic", srm.statistic);
    for ((variant, units), (o, e)) in results
        .units
        .iter()
        .zip(srm.observed_shares.iter().zip(&srm.expected_shares))
    {
        insight = insight
            .number(&format!("units.{variant}"), *units as f64)
            .number(&format!("observed_share.{variant}"), *o)
            .number(&format!("expected_share.{variant}"), *e);
    }
    Some(insight)
}

/// A critical insight per guardrail metric and variant that is significantly worse.
pub fn guardrails(results: &ExperimentResults) -> Vec<Insight> {
    let mut out = Vec::new();
    for metric in results.metrics.iter().filter(|m| m.guardrail) {
        for row in &metric.variants {
            let Some(c) = row
                .comparison
                .as_ref()
                .filter(|c| c.verdict == Verdict::Worse)
            else {
                continue;
            };
            let relative = c
                .relative
                .map(|r| {
                    format!(
                        "{} ({} to {})",
                        percent(r.estimate),
                        percent(r.lower),
                        percent(r.upper)
                    )
                })
                .unwrap_or_else(|| format!("{:+.4}", c.difference.estimate));
            let mut insight = Insight::new(
                InsightKind::Guardrail,
                Severity::Critical,
                format!("Guardrail {} is worse in {}", metric.key, row.variant),
                format!(
                    "{} moved {} against the control, the wrong way for a guardrail whose \
                     goal is to {} ({}).",
                    metric_name(&metric.key, metric.kind),
                    relative,
                    metric.goal.as_str(),
                    pvalue(c.adjusted_pvalue)
                ),
            )
            .number("difference", c.difference.estimate)
            .number("difference_lower", c.difference.lower)
            .number("difference_upper", c.difference.upper)
            .number("pvalue", c.adjusted_pvalue)
            .number("probability_better", c.probability_better);
            if let Some(r) = c.relative {
                insight = insight
                    .number("relative", r.estimate)
                    .number("relative_lower", r.lower)
                    .number("relative_upper", r.upper);
            }
            insight.metric = Some(metric.key.clone());
            insight.variant = Some(row.variant.clone());
            out.push(insight);
        }
    }
    out
}
