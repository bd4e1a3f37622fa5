//! Insights: what the data says without being asked, as pure functions of rollup data (no
//! I/O, no clock, no random numbers). The server calls them on the per-minute rollups it keeps
//! and shows the result on the dashboard.
//!
//! - [`anomaly`]: spikes, drops and level shifts in per-minute metric series (robust z-score
//!   and EWMA detectors), each alarm with the baseline and the band it was judged against.

pub mod anomaly;
