//! Targeting conditions: compiled once from JSON, evaluated per assignment without allocating.
//!
//! A condition is `{"attribute": NAME, "op": OP, "value": V}` or a combinator `{"all": [..]}`,
//! `{"any": [..]}`, `{"not": C}`. A comparison that cannot be made (attribute missing, types
//! differ, a version that does not parse) is false, and the evaluation says why.

use std::cmp::Ordering;

use super::version::Version;
use crate::attributes::{AttrRef, AttributeSource};
use crate::error::{Error, FieldPath};

/// Deepest nesting of combinators accepted.
pub const MAX_DEPTH: usize = 16;
/// Most conditions (leaves and combinators) in one experiment's targeting.
pub const MAX_NODES: usize = 1_000;
/// Most values in one `in` / `not_in` list.
pub const MAX_LIST: usize = 10_000;
/// Longest regular expression, in bytes.
pub const MAX_REGEX_LEN: usize = 1_024;

/// Why a condition did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MissKind {
    /// The comparison was made and is false.
    False,
    /// The unit has no such attribute (or it is null).
    Missing,
    /// The attribute's type cannot be compared with the condition's value.
    TypeMismatch,
}

impl MissKind {
    /// A stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            MissKind::False => "false",
            MissKind::Missing => "attribute_missing",
            MissKind::TypeMismatch => "type_mismatch",
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub(crate) enum Condition {
    All(Box<[Condition]>),
    Any(Box<[Condition]>),
    Not(Box<Condition>),
    Test { attribute: Box<str>, test: Test },
}

#[derive(Debug, Clone)]
pub(crate) enum Scalar {
    Bool(bool),
    Number(f64),
    Str(Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Cmp {
    fn holds(self, order: Ordering) -> bool {
        match self {
            Cmp::Eq => order == Ordering::Equal,
            Cmp::Ne => order != Ordering::Equal,
            Cmp::Gt => order == Ordering::Greater,
            Cmp::Gte => order != Ordering::Less,
            Cmp::Lt => order == Ordering::Less,
            Cmp::Lte => order != Ordering::Greater,
        }
    }
}

/// Values of an `in` list, sorted per type for binary search.
#[derive(Debug, Clone, Default)]
pub(crate) struct Set {
    strings: Box<[Box<str>]>,
    numbers: Box<[f64]>,
    has_true: bool,
    has_false: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Test {
    Compare(Cmp, Scalar),
    In(Set),
    NotIn(Set),
    Contains(Scalar),
    StartsWith(Box<str>),
    EndsWith(Box<str>),
    Regex(regex_lite::Regex),
    Exists(bool),
    Version(Cmp, VersionValue),
}

/// A version operand kept with its text (the parsed form borrows it).
#[derive(Debug, Clone)]
pub(crate) struct VersionValue(Box<str>);

impl VersionValue {
    fn parsed(&self) -> Option<Version<'_>> {
        Version::parse(&self.0)
    }
}

/// Every operator of a leaf condition, as spelled in the config.
pub const OPERATORS: [&str; 19] = [
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "regex",
    "exists",
    "version_eq",
    "version_ne",
    "version_gt",
    "version_gte",
    "version_lt",
    "version_lte",
];

type Outcome = Result<(), MissKind>;

impl Condition {
    /// Evaluates the condition for one unit's attributes.
    #[inline]
    pub(crate) fn eval<A: AttributeSource + ?Sized>(&self, attrs: &A) -> Outcome {
        match self {
            Condition::Test { attribute, test } => test.eval(attrs.attribute(attribute)),
            _ => self.eval_combinator(attrs),
        }
    }

    /// Adds the attributes the condition reads to `names`, each once, in the order they first
    /// appear.
    pub(crate) fn attribute_names<'c>(&'c self, names: &mut Vec<&'c str>) {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                for c in items.iter() {
                    c.attribute_names(names);
                }
            }
            Condition::Not(inner) => inner.attribute_names(names),
            Condition::Test { attribute, .. } => {
                if !names.contains(&&**attribute) {
                    names.push(attribute);
                }
            }
        }
    }

    fn eval_combinator<A: AttributeSource + ?Sized>(&self, attrs: &A) -> Outcome {
        match self {
            Condition::All(items) => items.iter().try_for_each(|c| c.eval(attrs)),
            Condition::Any(items) => {
                let mut miss = MissKind::False;
                for c in items.iter() {
                    match c.eval(attrs) {
                        Ok(()) => return Ok(()),
                        Err(kind) => miss = kind,
                    }
                }
                Err(miss)
            }
            Condition::Not(inner) => match inner.eval(attrs) {
                Ok(()) => Err(MissKind::False),
                Err(_) => Ok(()),
            },
            Condition::Test { attribute, test } => test.eval(attrs.attribute(attribute)),
        }
    }
}

fn verdict(holds: bool) -> Outcome {
    if holds { Ok(()) } else { Err(MissKind::False) }
}

impl Test {
    #[inline]
    fn eval(&self, value: Option<AttrRef<'_>>) -> Outcome {
        if let Test::Exists(want) = self {
            let present = !matches!(value, None | Some(AttrRef::Null));
            return verdict(present == *want);
        }
        let value = match value {
            None | Some(AttrRef::Null) => return Err(MissKind::Missing),
            Some(v) => v,
        };
        match self {
            Test::Compare(cmp, expected) => verdict(cmp.holds(order(value, expected)?)),
            Test::In(set) => membership(set, value).map(verdict)?,
            Test::NotIn(set) => membership(set, value).map(|found| verdict(!found))?,
            Test::Contains(needle) => match (value, needle) {
                (AttrRef::Str(s), Scalar::Str(n)) => verdict(s.contains(&**n)),
                (AttrRef::List(list), _) => verdict(
                    list.iter()
                        .any(|item| order(item, needle) == Ok(Ordering::Equal)),
                ),
                _ => Err(MissKind::TypeMismatch),
            },
            Test::StartsWith(prefix) => text(value).map(|s| verdict(s.starts_with(&**prefix)))?,
            Test::EndsWith(suffix) => text(value).map(|s| verdict(s.ends_with(&**suffix)))?,
            Test::Regex(re) => text(value).map(|s| verdict(re.is_match(s)))?,
            Test::Version(cmp, expected) => {
                let actual = Version::parse(text(value)?).ok_or(MissKind::TypeMismatch)?;
                let expected = expected.parsed().ok_or(MissKind::TypeMismatch)?;
                verdict(cmp.holds(actual.cmp(&expected)))
            }
            Test::Exists(_) => Err(MissKind::TypeMismatch),
        }
    }
}

#[inline]
fn text(value: AttrRef<'_>) -> Result<&str, MissKind> {
    match value {
        AttrRef::Str(s) => Ok(s),
        _ => Err(MissKind::TypeMismatch),
    }
}

/// Orders an attribute against a scalar of the same type; NaN is unordered (false).
#[inline]
fn order(value: AttrRef<'_>, expected: &Scalar) -> Result<Ordering, MissKind> {
    match (value, expected) {
        (AttrRef::Str(a), Scalar::Str(b)) => Ok(a.cmp(b)),
        (AttrRef::Number(a), Scalar::Number(b)) => a.partial_cmp(b).ok_or(MissKind::False),
        (AttrRef::Bool(a), Scalar::Bool(b)) => Ok(a.cmp(b)),
        _ => Err(MissKind::TypeMismatch),
    }
}

/// Whether the attribute (or, for a list, any element of it) is in the set.
fn membership(set: &Set, value: AttrRef<'_>) -> Result<bool, MissKind> {
    match value {
        AttrRef::List(list) => Ok(list.iter().any(|item| set.contains(item) == Ok(true))),
        scalar => set.contains(scalar),
    }
}

impl Set {
    fn contains(&self, value: AttrRef<'_>) -> Result<bool, MissKind> {
        match value {
            AttrRef::Str(s) if !self.strings.is_empty() => {
                Ok(self.strings.binary_search_by(|x| (**x).cmp(s)).is_ok())
            }
            AttrRef::Number(n) if !self.numbers.is_empty() => Ok(self
                .numbers
                .binary_search_by(|x| x.partial_cmp(&n).unwrap_or(Ordering::Less))
                .is_ok()),
            AttrRef::Bool(b) if self.has_true || self.has_false => {
                Ok(if b { self.has_true } else { self.has_false })
            }
            _ => Err(MissKind::TypeMismatch),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Compilation from JSON

struct Compiler {
    nodes: usize,
}

/// Compiles a targeting condition, reporting the first problem with its path.
pub(crate) fn compile(value: &serde_json::Value, path: &FieldPath) -> Result<Condition, Error> {
    Compiler { nodes: 0 }.condition(value, path, 0)
}

impl Compiler {
    fn condition(
        &mut self,
        value: &serde_json::Value,
        path: &FieldPath,
        depth: usize,
    ) -> Result<Condition, Error> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(Error::LimitExceeded {
                path: path.clone(),
                message: format!("more than {MAX_NODES} conditions"),
            });
        }
        if depth > MAX_DEPTH {
            return Err(Error::LimitExceeded {
                path: path.clone(),
                message: format!("conditions nested deeper than {MAX_DEPTH}"),
            });
        }
        let object = value
            .as_object()
            .ok_or_else(|| Error::invalid(path.clone(), "a condition must be a JSON object"))?;
        let combinator = ["all", "any", "not"]
            .into_iter()
            .find(|k| object.contains_key(*k));
        if let Some(name) = combinator {
            if object.len() != 1 {
                return Err(Error::invalid(
                    path.clone(),
                    format!("a `{name}` condition has no other fields"),
                ));
            }
            let inner_path = path.field(name);
            let inner = object.get(name).unwrap_or(&serde_json::Value::Null);
            if name == "not" {
                let c = self.condition(inner, &inner_path, depth + 1)?;
                return Ok(Condition::Not(Box::new(c)));
            }
            let items = inner.as_array().ok_or_else(|| {
                Error::invalid(inner_path.clone(), format!("`{name}` takes an array"))
            })?;
            let compiled = items
                .iter()
                .enumerate()
                .map(|(i, c)| self.condition(c, &inner_path.item(i), depth + 1))
                .collect::<Result<Box<[_]>, _>>()?;
            return Ok(if name == "all" {
                Condition::All(compiled)
            } else {
                Condition::Any(compiled)
            });
        }
        leaf(object, path)
    }
}

fn leaf(
    object: &serde_json::Map<String, serde_json::Value>,
    path: &FieldPath,
) -> Result<Condition, Error> {
    for key in object.keys() {
        if !matches!(key.as_str(), "attribute" | "op" | "value") {
            return Err(Error::UnknownField {
                path: path.field(key),
            });
        }
    }
    let attribute = match object.get("attribute") {
        Some(serde_json::Value::String(s)) if !s.is_empty() => s.as_str(),
        Some(_) => {
            return Err(Error::invalid(
                path.field("attribute"),
                "must be a non-empty string",
            ));
        }
        None => {
            return Err(Error::MissingField {
                path: path.field("attribute"),
            });
        }
    };
    let op_path = path.field("op");
    let op = match object.get("op") {
        Some(serde_json::Value::String(s)) => s.as_str(),
        Some(_) => return Err(Error::invalid(op_path, "must be a string")),
        None => return Err(Error::MissingField { path: op_path }),
    };
    let value_path = path.field("value");
    let value = object.get("value");
    let need = || -> Result<&serde_json::Value, Error> {
        value.ok_or_else(|| Error::MissingField {
            path: value_path.clone(),
        })
    };
    let test = match op {
        "eq" | "ne" | "gt" | "gte" | "lt" | "lte" => {
            let cmp = cmp_of(op);
            let scalar = scalar(need()?, &value_path)?;
            if matches!(scalar, Scalar::Bool(_)) && !matches!(cmp, Cmp::Eq | Cmp::Ne) {
                return Err(Error::invalid(value_path, "booleans are not ordered"));
            }
            Test::Compare(cmp, scalar)
        }
        "in" => Test::In(set(need()?, &value_path)?),
        "not_in" => Test::NotIn(set(need()?, &value_path)?),
        "contains" => Test::Contains(scalar(need()?, &value_path)?),
        "starts_with" => Test::StartsWith(string(need()?, &value_path)?),
        "ends_with" => Test::EndsWith(string(need()?, &value_path)?),
        "regex" => {
            let pattern = string(need()?, &value_path)?;
            if pattern.len() > MAX_REGEX_LEN {
                return Err(Error::LimitExceeded {
                    path: value_path,
                    message: format!("regular expression longer than {MAX_REGEX_LEN} bytes"),
                });
            }
            let re = regex_lite::RegexBuilder::new(&pattern)
                .size_limit(1 << 20)
                .nest_limit(64)
                .build()
                .map_err(|e| Error::InvalidRegex {
                    path: value_path,
                    message: e.to_string(),
                })?;
            Test::Regex(re)
        }
        "exists" => match value {
            None => Test::Exists(true),
            Some(serde_json::Value::Bool(b)) => Test::Exists(*b),
            Some(_) => return Err(Error::invalid(value_path, "`exists` takes true or false")),
        },
        "version_eq" | "version_ne" | "version_gt" | "version_gte" | "version_lt"
        | "version_lte" => {
            let text = string(need()?, &value_path)?;
            if Version::parse(&text).is_none() {
                return Err(Error::invalid(
                    value_path,
                    format!("{text:?} is not a version (like 1.2.3 or 2.0.0-beta.1)"),
                ));
            }
            Test::Version(
                cmp_of(op.trim_start_matches("version_")),
                VersionValue(text),
            )
        }
        other => {
            return Err(Error::invalid(
                op_path,
                format!("unknown operator {other:?}"),
            ));
        }
    };
    Ok(Condition::Test {
        attribute: attribute.into(),
        test,
    })
}

fn cmp_of(op: &str) -> Cmp {
    match op {
        "ne" => Cmp::Ne,
        "gt" => Cmp::Gt,
        "gte" => Cmp::Gte,
        "lt" => Cmp::Lt,
        "lte" => Cmp::Lte,
        _ => Cmp::Eq,
    }
}

fn scalar(value: &serde_json::Value, path: &FieldPath) -> Result<Scalar, Error> {
    match value {
        serde_json::Value::Bool(b) => Ok(Scalar::Bool(*b)),
        serde_json::Value::Number(n) => n
            .as_f64()
            .map(Scalar::Number)
            .ok_or_else(|| Error::invalid(path.clone(), "number out of range")),
        serde_json::Value::String(s) => Ok(Scalar::Str(s.as_str().into())),
        _ => Err(Error::invalid(
            path.clone(),
            "must be a string, number or boolean",
        )),
    }
}

fn string(value: &serde_json::Value, path: &FieldPath) -> Result<Box<str>, Error> {
    value
        .as_str()
        .map(Into::into)
        .ok_or_else(|| Error::invalid(path.clone(), "must be a string"))
}

fn set(value: &serde_json::Value, path: &FieldPath) -> Result<Set, Error> {
    let items = value
        .as_array()
        .ok_or_else(|| Error::invalid(path.clone(), "must be an array"))?;
    if items.len() > MAX_LIST {
        return Err(Error::LimitExceeded {
            path: path.clone(),
            message: format!("more than {MAX_LIST} values"),
        });
    }
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    let mut out = Set::default();
    for (i, item) in items.iter().enumerate() {
        match scalar(item, &path.item(i))? {
            Scalar::Str(s) => strings.push(s),
            Scalar::Number(n) => numbers.push(n),
            Scalar::Bool(true) => out.has_true = true,
            Scalar::Bool(false) => out.has_false = true,
        }
    }
    strings.sort_unstable();
    strings.dedup();
    numbers.sort_unstable_by(f64::total_cmp);
    numbers.dedup();
    out.strings = strings.into_boxed_slice();
    out.numbers = numbers.into_boxed_slice();
    Ok(out)
}

#[cfg(test)]
#[path = "targeting_tests.rs"]
mod tests;
