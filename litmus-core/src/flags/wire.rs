//! Flag wire types: the `flags` of a config document exactly as written
//! (`docs/spec/config-v1.md`, Flags), read by hand with the exact path of every error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::decode::{
    Decode, DecodeOwned, boolean, fields_owned, list_owned, number, one_of, optional, required,
    string_owned, wrong_type,
};
use crate::config::wire::UnknownFields;
use crate::error::{Error, FieldPath};

/// The type of a flag's values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlagType {
    /// `true` or `false`.
    #[default]
    Boolean,
    /// Text.
    String,
    /// A finite number.
    Number,
    /// Any JSON value but `null` (OpenFeature's "object").
    Json,
}

impl FlagType {
    /// Every type with its config spelling.
    pub const ALL: [(&'static str, FlagType); 4] = [
        ("boolean", FlagType::Boolean),
        ("string", FlagType::String),
        ("number", FlagType::Number),
        ("json", FlagType::Json),
    ];

    /// The type as its config spelling.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("", |(s, _)| s)
    }

    /// The type with this config spelling.
    pub fn parse(name: &str) -> Option<FlagType> {
        Self::ALL.iter().find(|(s, _)| *s == name).map(|(_, t)| *t)
    }

    /// Whether `value` is a value of this type.
    pub fn admits(self, value: &Value) -> bool {
        match self {
            FlagType::Boolean => value.is_boolean(),
            FlagType::String => value.is_string(),
            FlagType::Number => value.as_f64().is_some_and(f64::is_finite),
            FlagType::Json => !value.is_null(),
        }
    }
}

/// What a flag rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Serves `value` to every unit its condition matches.
    Force,
    /// Serves `value` to `percentage` % of the units its condition matches, by bucket.
    Rollout,
    /// Serves the value mapped to the unit's variant of `experiment`, when the unit is in it.
    Experiment,
    /// Serves `value` when the flag `flag` evaluates to `is` for the unit.
    Prerequisite,
}

impl RuleKind {
    /// Every kind with its config spelling.
    pub const ALL: [(&'static str, RuleKind); 4] = [
        ("force", RuleKind::Force),
        ("rollout", RuleKind::Rollout),
        ("experiment", RuleKind::Experiment),
        ("prerequisite", RuleKind::Prerequisite),
    ];

    /// The kind as its config spelling.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("", |(s, _)| s)
    }
}

/// One feature flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireFlag {
    /// Unique key among the flags: 1 to 128 characters of letters, digits and `_ - . : /`.
    pub key: String,
    /// The type of its values.
    #[serde(rename = "type")]
    pub value_type: FlagType,
    /// The value served when the flag is off, when no rule matches, and to unknown units.
    pub default: Value,
    /// The switch: when false the flag serves `default` to everyone, whatever its rules.
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Hash salt of its rollout rules; defaults to the key. Changing it reshuffles who is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// What the flag is for (shown in the dashboard and in OpenFeature's flag metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Labels for finding flags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Ordered rules: the first that matches serves its value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<WireRule>,
    /// Scheduled changes of the switch or the rules, in time order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<WireFlagChange>,
    /// The flag's state in environments other than the default one (`production`), by
    /// environment key (`docs/flags.md`, Environments). The fields above are the default
    /// environment's; an environment without an entry has the flag off, with no rules.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, WireFlagEnvironment>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// A flag's state in one environment: its switch, rules and scheduled changes there.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireFlagEnvironment {
    /// The switch in this environment; absent means off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The rules in this environment, in order; absent means none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<WireRule>,
    /// Scheduled changes in this environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<WireFlagChange>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// One rule of a flag. Which fields it takes depends on its `kind`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireRule {
    /// Key, unique in the flag; defaults to `KIND-POSITION` (`rollout-2`). Scheduled changes
    /// and reports name rules by it, so give one to a rule you will refer to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What the rule does.
    pub kind: RuleKind,
    /// Which units it applies to (the targeting language); absent means everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::config::schema::condition")
    )]
    pub condition: Option<Value>,
    /// The value served (`force`, `rollout`, `prerequisite`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The share of matching units served, from 0 to 100 (`rollout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentage: Option<f64>,
    /// The rollout's hash salt; defaults to the flag's (`rollout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// The experiment whose variant decides the value (`experiment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// The value of each of the experiment's variants, by variant key (`experiment`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, Value>,
    /// The flag this rule depends on (`prerequisite`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// The value `flag` must evaluate to for the rule to apply (`prerequisite`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is: Option<Value>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// A scheduled change: from `at` on, the flag's switch and/or rules are these (a field left
/// out keeps its value from before).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct WireFlagChange {
    /// When the change takes effect (RFC 3339), by the time the caller passes.
    pub at: String,
    /// The switch from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The whole rule list from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<WireRule>>,
    /// Fields this schema does not define.
    #[serde(flatten, skip_serializing)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub unknown: UnknownFields,
}

/// The default `enabled`.
fn default_enabled() -> bool {
    true
}

impl DecodeOwned for WireFlag {
    fn decode_owned(value: Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut key, mut value_type, mut default, mut enabled) = (None, None, None, None);
        let (mut salt, mut description, mut tags) = (None, None, None);
        let (mut rules, mut schedule, mut environments) = (None, None, None);
        let unknown = fields_owned(value, path, |name, v, at| {
            match name {
                "environments" => environments = Some(environments_owned(v, at)?),
                "key" => key = Some(string_owned(v, at)?),
                "type" => value_type = Some(one_of(&v, at, &FlagType::ALL)?),
                "default" => default = Some(v),
                "enabled" => enabled = Some(boolean(&v, at)?),
                "salt" => salt = optional_owned(v, at, string_owned)?,
                "description" => description = optional_owned(v, at, string_owned)?,
                "tags" => tags = Some(list_owned(v, at, string_owned)?),
                "rules" => rules = Some(list_owned(v, at, WireRule::decode_owned)?),
                "schedule" => schedule = Some(list_owned(v, at, WireFlagChange::decode_owned)?),
                _ => return Ok(Some(v)),
            }
            Ok(None)
        })?;
        Ok(WireFlag {
            key: required(key, path, "key")?,
            value_type: required(value_type, path, "type")?,
            default: required(default, path, "default")?,
            enabled: enabled.unwrap_or_else(default_enabled),
            salt,
            description,
            tags: tags.unwrap_or_default(),
            rules: rules.unwrap_or_default(),
            schedule: schedule.unwrap_or_default(),
            environments: environments.unwrap_or_default(),
            unknown,
        })
    }
}

/// A flag's `environments`: an object of environment states.
fn environments_owned(
    value: Value,
    at: &crate::config::decode::Field<'_>,
) -> Result<BTreeMap<String, WireFlagEnvironment>, Error> {
    let Value::Object(map) = value else {
        return Err(wrong_type(&value, at, "an object"));
    };
    let path = at.path();
    map.into_iter()
        .map(|(env, v)| {
            let state = WireFlagEnvironment::decode_owned(v, &path.item(&env))?;
            Ok((env, state))
        })
        .collect()
}

impl DecodeOwned for WireFlagEnvironment {
    fn decode_owned(value: Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut enabled, mut rules, mut schedule) = (None, None, None);
        let unknown = fields_owned(value, path, |name, v, at| {
            match name {
                "enabled" => enabled = optional(&v, at, boolean)?,
                "rules" => rules = Some(list_owned(v, at, WireRule::decode_owned)?),
                "schedule" => schedule = Some(list_owned(v, at, WireFlagChange::decode_owned)?),
                _ => return Ok(Some(v)),
            }
            Ok(None)
        })?;
        Ok(WireFlagEnvironment {
            enabled,
            rules: rules.unwrap_or_default(),
            schedule: schedule.unwrap_or_default(),
            unknown,
        })
    }
}

impl DecodeOwned for WireRule {
    fn decode_owned(value: Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut id, mut kind, mut condition, mut served) = (None, None, None, None);
        let (mut percentage, mut salt, mut experiment, mut values) = (None, None, None, None);
        let (mut flag, mut is) = (None, None);
        let unknown = fields_owned(value, path, |name, v, at| {
            match name {
                "id" => id = optional_owned(v, at, string_owned)?,
                "kind" => kind = Some(one_of(&v, at, &RuleKind::ALL)?),
                "condition" => condition = optional_owned(v, at, |v, _| Ok(v))?,
                "value" => served = Some(v),
                "percentage" => percentage = optional(&v, at, number)?,
                "salt" => salt = optional_owned(v, at, string_owned)?,
                "experiment" => experiment = optional_owned(v, at, string_owned)?,
                "values" => match v {
                    Value::Object(map) => values = Some(map.into_iter().collect()),
                    other => return Err(wrong_type(&other, at, "an object")),
                },
                "flag" => flag = optional_owned(v, at, string_owned)?,
                "is" => is = Some(v),
                _ => return Ok(Some(v)),
            }
            Ok(None)
        })?;
        Ok(WireRule {
            id,
            kind: required(kind, path, "kind")?,
            condition,
            value: served,
            percentage,
            salt,
            experiment,
            values: values.unwrap_or_default(),
            flag,
            is,
            unknown,
        })
    }
}

impl DecodeOwned for WireFlagChange {
    fn decode_owned(value: Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut at_time, mut enabled, mut rules) = (None, None, None);
        let unknown = fields_owned(value, path, |name, v, at| {
            match name {
                "at" => at_time = Some(string_owned(v, at)?),
                "enabled" => enabled = optional(&v, at, boolean)?,
                "rules" => {
                    rules =
                        optional_owned(v, at, |v, at| list_owned(v, at, WireRule::decode_owned))?;
                }
                _ => return Ok(Some(v)),
            }
            Ok(None)
        })?;
        Ok(WireFlagChange {
            at: required(at_time, path, "at")?,
            enabled,
            rules,
            unknown,
        })
    }
}

/// `null` reads as absent; any other value is moved into `read`.
fn optional_owned<T, L: crate::config::decode::Locate>(
    value: Value,
    at: &L,
    read: impl FnOnce(Value, &L) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    match value {
        Value::Null => Ok(None),
        v => read(v, at).map(Some),
    }
}

/// A borrowed read (strict validation's whole-document decode) copies the value and takes the
/// copy apart.
impl Decode for WireFlag {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        Self::decode_owned(value.clone(), path)
    }
}

// Stores read flags back with serde (the server's config tables).
crate::config::decode::deserialize_through_value!(WireFlag);

/// Paths of every unknown field of a flag, its rules and its scheduled changes.
pub(crate) fn unknown_paths(flag: &WireFlag, path: &FieldPath) -> Vec<FieldPath> {
    use crate::config::parse::unknown_paths as of;
    let rules_clean = |rules: &[WireRule]| rules.iter().all(|r| r.unknown.is_empty());
    let schedule_clean = |schedule: &[WireFlagChange]| {
        schedule
            .iter()
            .all(|c| c.unknown.is_empty() && c.rules.as_deref().is_none_or(rules_clean))
    };
    let clean = flag.unknown.is_empty()
        && rules_clean(&flag.rules)
        && schedule_clean(&flag.schedule)
        && flag
            .environments
            .values()
            .all(|e| e.unknown.is_empty() && rules_clean(&e.rules) && schedule_clean(&e.schedule));
    if clean {
        return Vec::new();
    }
    let mut paths = of(&flag.unknown, path);
    let rules = |rules: &[WireRule], at: &FieldPath, paths: &mut Vec<FieldPath>| {
        for (i, r) in rules.iter().enumerate() {
            paths.extend(of(&r.unknown, &at.item(i)));
        }
    };
    let mut states = vec![(path.clone(), &flag.rules, &flag.schedule)];
    for (env, state) in &flag.environments {
        let at = path.field("environments").item(env);
        paths.extend(of(&state.unknown, &at));
        states.push((at, &state.rules, &state.schedule));
    }
    for (at, own_rules, schedule) in states {
        rules(own_rules, &at.field("rules"), &mut paths);
        for (i, change) in schedule.iter().enumerate() {
            let at = at.field("schedule").item(i);
            paths.extend(of(&change.unknown, &at));
            if let Some(r) = &change.rules {
                rules(r, &at.field("rules"), &mut paths);
            }
        }
    }
    paths
}
