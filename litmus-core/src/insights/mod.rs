//! Insights: what the data says without being asked, as pure functions of rollup data (no
//! I/O, no clock, no random numbers). The server calls them on the rollups it keeps and shows
//! the result on the dashboard.
//!
//! - [`anomaly`]: spikes, drops and level shifts in per-minute metric series (robust z-score
//!   and EWMA detectors), each alarm with the baseline and the band it was judged against.
//! - [`checks`]: a sample ratio mismatch and harmed guardrails, from the results.
//! - [`recent`]: anomalies in an experiment's recent per-minute exposures and metric events.
//! - [`recommend`](mod@recommend): ship, stop or keep running, with the expected time to a decision.
//! - [`finding`]: the [`Insight`] they all produce (kind, severity, title, reason, numbers).

pub mod anomaly;
pub mod checks;
pub mod finding;
pub mod recent;
pub mod recommend;

pub use finding::{Insight, InsightKind, Severity};
pub use recommend::{Action, Recommendation, recommend};

#[cfg(test)]
mod tests;
