//! Compiled flags: validated once per config load, evaluated without allocating.

use serde_json::Value;

use super::wire::{FlagType, RuleKind};
use crate::assign::targeting::Condition;
use crate::hash::Seed;
use crate::time::Timestamp;

/// A compiled feature flag.
#[derive(Debug, Clone)]
pub struct Flag {
    pub(crate) key: Box<str>,
    pub(crate) value_type: FlagType,
    pub(crate) default: Value,
    pub(crate) description: Option<Box<str>>,
    pub(crate) tags: Box<[Box<str>]>,
    /// Every rule list the flag has over time (the current one and each scheduled one).
    pub(crate) rule_sets: Box<[Box<[Rule]>]>,
    /// The flag's state over time, in time order; the first one has no start.
    pub(crate) phases: Box<[Phase]>,
    /// Whether its value can depend on the time: it has scheduled changes, an experiment
    /// rule's experiment has a time window, or a prerequisite's flag needs the time. Set when
    /// the engine is built.
    pub(crate) timed: bool,
    /// Its position in the engine's flags ([`crate::Evaluation::flag_index`]), set when the
    /// engine is built.
    pub(crate) index: u16,
}

/// One value a flag can serve, with where it comes from: the flag's outcomes are numbered
/// (0 is the default; see [`crate::Evaluation::outcome`]) so bindings can convert each
/// value once and cache it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlagOutcome<'e> {
    /// The value.
    pub value: &'e Value,
    /// The id of the rule that serves it (`None` for the default).
    pub rule: Option<&'e str>,
    /// OpenFeature's variant: the experiment's variant key, the rule's id, or `default`.
    pub variant: &'e str,
    /// The experiment whose variant serves it, for an experiment rule.
    pub experiment: Option<&'e str>,
}

/// The flag's switch and rules from an instant on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Phase {
    /// When this phase starts (`None`: the flag as configured, before any scheduled change).
    pub(crate) from: Option<Timestamp>,
    pub(crate) enabled: bool,
    /// Index into `rule_sets`.
    pub(crate) rules: usize,
}

/// A compiled rule of a flag.
#[derive(Debug, Clone)]
pub struct Rule {
    pub(crate) id: Box<str>,
    /// The number of the rule's first outcome (an experiment rule has one per variant).
    pub(crate) outcome: u32,
    pub(crate) condition: Option<Condition>,
    pub(crate) action: Action,
}

/// What a matching rule does.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Serve the value.
    Force(Value),
    /// Serve the value when the unit's rollout bucket is below `bound`.
    Rollout {
        seed: Seed,
        bound: u64,
        percentage: f64,
        value: Value,
    },
    /// Serve the value of the unit's variant of the experiment at `experiment` (an index
    /// into the engine's experiments); `values` holds one value per variant index.
    Experiment {
        experiment: usize,
        values: Box<[Value]>,
    },
    /// Serve the value when the flag `key` (at `flag`, an index into the engine's flags)
    /// evaluates to `is`.
    Prerequisite {
        flag: usize,
        key: Box<str>,
        is: Value,
        value: Value,
    },
}

impl Flag {
    /// The flag's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The type of its values.
    pub fn value_type(&self) -> FlagType {
        self.value_type
    }

    /// The value served when it is off or no rule matches.
    pub fn default_value(&self) -> &Value {
        &self.default
    }

    /// What the flag is for, if the config says.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Its labels.
    pub fn tags(&self) -> impl ExactSizeIterator<Item = &str> {
        self.tags.iter().map(|t| &**t)
    }

    /// Whether the switch is on at `now` (`None`: as configured, before scheduled changes).
    pub fn enabled_at(&self, now: Option<Timestamp>) -> bool {
        self.phase_at(now).enabled
    }

    /// The rules in force at `now`, in order (`None`: as configured).
    pub fn rules_at(&self, now: Option<Timestamp>) -> &[Rule] {
        let phase = self.phase_at(now);
        self.rule_sets.get(phase.rules).map_or(&[], |r| &**r)
    }

    /// Whether the flag's value can depend on the time (so a binding reads the clock for it):
    /// scheduled changes, an experiment rule on an experiment with a time window, or a
    /// prerequisite on such a flag.
    pub fn needs_time(&self) -> bool {
        self.timed
    }

    /// Every value the flag can serve, numbered as [`crate::Evaluation::outcome`] numbers
    /// them: the default first, then each rule of each rule list in order (an experiment rule
    /// once per variant, in variant order).
    pub fn outcomes<'e>(&'e self, engine: &'e crate::Engine) -> Vec<FlagOutcome<'e>> {
        let mut out = vec![FlagOutcome {
            value: &self.default,
            rule: None,
            variant: "default",
            experiment: None,
        }];
        for rule in self.rule_sets.iter().flat_map(|set| set.iter()) {
            match &rule.action {
                Action::Force(value)
                | Action::Rollout { value, .. }
                | Action::Prerequisite { value, .. } => out.push(FlagOutcome {
                    value,
                    rule: Some(&rule.id),
                    variant: &rule.id,
                    experiment: None,
                }),
                Action::Experiment { experiment, values } => {
                    let compiled = engine.experiment_at(*experiment);
                    for (i, value) in values.iter().enumerate() {
                        out.push(FlagOutcome {
                            value,
                            rule: Some(&rule.id),
                            variant: compiled
                                .and_then(|e| e.variants().get(i))
                                .map_or("", |v| v.key()),
                            experiment: compiled.map(|e| e.key()),
                        });
                    }
                }
            }
        }
        out
    }

    /// The keys of the flags its prerequisite rules depend on (at any time), each once.
    pub fn prerequisites(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for rule in self.rule_sets.iter().flat_map(|set| set.iter()) {
            if let Action::Prerequisite { key, .. } = &rule.action {
                if !keys.contains(&&**key) {
                    keys.push(key);
                }
            }
        }
        keys
    }

    /// The instants at which a scheduled change takes effect, in order.
    pub fn scheduled_changes(&self) -> impl Iterator<Item = Timestamp> + '_ {
        self.phases.iter().filter_map(|p| p.from)
    }

    /// The keys of the experiments its rules serve from (at any time), each once.
    pub fn experiments<'e>(&'e self, engine: &'e crate::Engine) -> Vec<&'e str> {
        let mut keys: Vec<&str> = Vec::new();
        for rule in self.rule_sets.iter().flat_map(|set| set.iter()) {
            if let Action::Experiment { experiment, .. } = rule.action {
                if let Some(key) = engine.experiment_key(experiment) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
        }
        keys
    }

    /// The phase in force at `now`: the last whose start is at or before it.
    #[inline]
    pub(crate) fn phase_at(&self, now: Option<Timestamp>) -> Phase {
        let base = self.phases.first().copied().unwrap_or(Phase {
            from: None,
            enabled: false,
            rules: 0,
        });
        let (Some(now), true) = (now, self.phases.len() > 1) else {
            return base;
        };
        self.phases
            .iter()
            .rev()
            .find(|p| p.from.is_none_or(|from| from <= now))
            .copied()
            .unwrap_or(base)
    }
}

impl Rule {
    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the rule does.
    pub fn kind(&self) -> RuleKind {
        match self.action {
            Action::Force(_) => RuleKind::Force,
            Action::Rollout { .. } => RuleKind::Rollout,
            Action::Experiment { .. } => RuleKind::Experiment,
            Action::Prerequisite { .. } => RuleKind::Prerequisite,
        }
    }

    /// Whether it has a targeting condition.
    pub fn has_condition(&self) -> bool {
        self.condition.is_some()
    }

    /// The flag a prerequisite rule depends on (`None` for other kinds).
    pub fn prerequisite(&self) -> Option<&str> {
        match &self.action {
            Action::Prerequisite { key, .. } => Some(key),
            _ => None,
        }
    }

    /// A rollout's percentage (`None` for other kinds).
    pub fn percentage(&self) -> Option<f64> {
        match self.action {
            Action::Rollout { percentage, .. } => Some(percentage),
            _ => None,
        }
    }
}
