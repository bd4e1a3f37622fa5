//! When an assignment or flag evaluation happens: the binding may read the wall clock (core
//! never does), only for what depends on the time.

use std::time::{SystemTime, UNIX_EPOCH};

use litmus_core::{Engine as CoreEngine, Timestamp};
use pyo3::prelude::*;

use crate::convert::timestamp;
use crate::errors::argument;

/// When to evaluate time windows.
#[derive(Clone, Copy)]
pub(crate) enum When {
    /// The wall clock, read only when an experiment has a time window (or an exposure is
    /// logged).
    WallClock,
    /// A given instant, or no known time (`None`).
    At(Option<Timestamp>),
}

impl When {
    pub(crate) fn parse(now: Option<&Bound<'_, PyAny>>) -> PyResult<When> {
        match now {
            None => Ok(When::WallClock),
            Some(v) if v.is_none() => Ok(When::WallClock),
            Some(v) if v.is_instance_of::<pyo3::types::PyBool>() => {
                if v.is_truthy()? {
                    Err(argument(
                        v.py(),
                        "now=True is not a time (False means: no time known)",
                    ))
                } else {
                    Ok(When::At(None))
                }
            }
            Some(v) => Ok(When::At(Some(timestamp(v)?))),
        }
    }

    /// The instant to assign `experiment` at: a windowless experiment does not depend on
    /// the time, so the clock is not read for it.
    pub(crate) fn for_experiment(
        self,
        experiment: Option<&litmus_core::Experiment>,
    ) -> Option<Timestamp> {
        match self {
            When::At(t) => t,
            When::WallClock => experiment.filter(|e| e.windowed()).map(|_| wall_clock()),
        }
    }

    /// The instant to evaluate `flag` at: a flag whose value cannot depend on the time (no
    /// scheduled change, no windowed experiment behind it) does not read the clock.
    pub(crate) fn for_flag(self, core: &CoreEngine, flag: &str) -> Option<Timestamp> {
        match self {
            When::At(t) => t,
            When::WallClock => core
                .flag(flag)
                .filter(|f| f.needs_time())
                .map(|_| wall_clock()),
        }
    }

    /// The instant for every experiment at once.
    pub(crate) fn for_all(self) -> Option<Timestamp> {
        match self {
            When::At(t) => t,
            When::WallClock => Some(wall_clock()),
        }
    }
}

/// The binding may read the clock (core never does).
pub(crate) fn wall_clock() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_unix_millis(millis)
}
