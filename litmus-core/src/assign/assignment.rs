//! The result of assigning one unit to one experiment.

use super::experiment::{Experiment, Variant};
use super::targeting::MissKind;

/// Why a unit got (or did not get) a variant. Every outcome is a value, never an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// In the experiment, with a variant chosen by the bucketing spec.
    Assigned,
    /// In the experiment, keeping the variant the caller's sticky-assignment store remembered
    /// for this unit (see [`crate::Engine::assign_sticky_at`]), whatever the weights and
    /// traffic are now.
    Sticky,
    /// A forced override for this unit id; the unit is not counted in the experiment.
    Override,
    /// The experiment is not running now (status or time window).
    NotRunning,
    /// The unit's attributes do not match the targeting.
    TargetingMiss,
    /// A holdout holds the unit out of this experiment.
    Holdout,
    /// The unit's slice of the experiment's layer belongs to another experiment (or to none).
    OtherLayerMember,
    /// The unit is outside the experiment's traffic allocation.
    NotInTraffic,
    /// No experiment has this key.
    UnknownExperiment,
    /// The experiment exists in the config but was rejected when the config was loaded.
    InvalidConfig,
}

impl Reason {
    /// The stable snake_case code, the same in every binding.
    pub fn code(self) -> &'static str {
        match self {
            Reason::Assigned => "assigned",
            Reason::Sticky => "sticky",
            Reason::Override => "override",
            Reason::NotRunning => "not_running",
            Reason::TargetingMiss => "targeting_miss",
            Reason::Holdout => "holdout",
            Reason::OtherLayerMember => "other_layer_member",
            Reason::NotInTraffic => "not_in_traffic",
            Reason::UnknownExperiment => "unknown_experiment",
            Reason::InvalidConfig => "invalid_config",
        }
    }

    /// The reason with the given code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.code() == code)
    }

    /// Every reason.
    pub const ALL: [Reason; 10] = [
        Reason::Assigned,
        Reason::Sticky,
        Reason::Override,
        Reason::NotRunning,
        Reason::TargetingMiss,
        Reason::Holdout,
        Reason::OtherLayerMember,
        Reason::NotInTraffic,
        Reason::UnknownExperiment,
        Reason::InvalidConfig,
    ];
}

/// One unit's assignment to one experiment. Borrows from the engine; building it allocates
/// nothing.
#[derive(Debug, Clone, Copy)]
pub struct Assignment<'e> {
    experiment: Option<&'e Experiment>,
    variant: Option<&'e Variant>,
    reason: Reason,
    miss: Option<MissKind>,
}

impl<'e> Assignment<'e> {
    pub(crate) fn new(
        experiment: Option<&'e Experiment>,
        variant: Option<&'e Variant>,
        reason: Reason,
    ) -> Self {
        Assignment {
            experiment,
            variant,
            reason,
            miss: None,
        }
    }

    pub(crate) fn targeting_miss(experiment: &'e Experiment, miss: MissKind) -> Self {
        Assignment {
            experiment: Some(experiment),
            variant: None,
            reason: Reason::TargetingMiss,
            miss: Some(miss),
        }
    }

    /// The variant the unit sees, if any (an override or an assignment).
    pub fn variant(&self) -> Option<&'e Variant> {
        self.variant
    }

    /// The key of the variant the unit sees, if any.
    pub fn variant_key(&self) -> Option<&'e str> {
        self.variant.map(Variant::key)
    }

    /// The variant's payload, if it has one.
    pub fn payload(&self) -> Option<&'e serde_json::Value> {
        self.variant.and_then(Variant::payload)
    }

    /// Whether the unit counts in the experiment (log an exposure): true for
    /// [`Reason::Assigned`] and [`Reason::Sticky`].
    pub fn in_experiment(&self) -> bool {
        matches!(self.reason, Reason::Assigned | Reason::Sticky)
    }

    /// Why the unit got this outcome.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// For [`Reason::TargetingMiss`], why the targeting did not match.
    pub fn miss(&self) -> Option<MissKind> {
        self.miss
    }

    /// The compiled experiment, when the key named a valid one.
    pub fn experiment(&self) -> Option<&'e Experiment> {
        self.experiment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(r));
        }
        assert_eq!(Reason::from_code("nope"), None);
    }
}
