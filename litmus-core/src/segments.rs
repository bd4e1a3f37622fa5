//! Segments: the dimensions an experiment's results break down by (country, platform,
//! browser, new or returning), and how a unit's exposure lands in one segment per dimension.
//!
//! - An experiment declares its dimensions (`experiments[].dimensions`, at most
//!   [`MAX_DIMENSIONS`]); each reads one unit attribute.
//! - When an SDK reports a unit's exposure it sends each dimension's attribute value
//!   ([`crate::Experiment::dimension_values`]: text, numbers and booleans as text, cut to
//!   [`MAX_VALUE_CHARS`] characters).
//! - The rollups ([`SegmentBook`]) give a value its own segment when the dimension lists it,
//!   or, without a list, when it is among the first `max_values` distinct values applied;
//!   any other value counts in [`OTHER`], and a unit without the attribute in [`MISSING`].
//!   A unit keeps the segments of its first exposure, as it keeps its variant.
//! - Each segment's rows are those of an experiment of its own, its *subject*
//!   (`experiment#dimension=value`, [`subject`]), kept per hour rather than per minute.

use std::collections::{HashMap, HashSet};

use crate::attributes::{AttrRef, AttributeSource};
use crate::config::wire::WireDimension;
use crate::error::{Error, FieldPath};

/// The most dimensions one experiment declares.
pub const MAX_DIMENSIONS: usize = 5;
/// The segments a dimension gets by default (besides [`OTHER`] and [`MISSING`]).
pub const DEFAULT_MAX_VALUES: usize = 20;
/// The most segments a dimension may get (besides [`OTHER`] and [`MISSING`]).
pub const MAX_MAX_VALUES: usize = 100;
/// The longest value, in characters: SDKs cut longer ones, the server refuses them.
pub const MAX_VALUE_CHARS: usize = 64;
/// The most dimension values one exposure event carries.
pub const MAX_EVENT_DIMENSIONS: usize = 8;
/// The segment of values past a dimension's cap or outside its list.
pub const OTHER: &str = "(other)";
/// The segment of units whose exposure did not carry the dimension.
pub const MISSING: &str = "(missing)";
/// Between an experiment's key and a dimension in a subject: a character keys cannot hold.
const SEPARATOR: char = '#';

/// A compiled dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    key: Box<str>,
    attribute: Box<str>,
    values: Option<Box<[Box<str>]>>,
    max_values: usize,
}

impl Dimension {
    /// Its key, unique in the experiment.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The unit attribute it reads.
    pub fn attribute(&self) -> &str {
        &self.attribute
    }

    /// The values listed for segments of their own, when listed.
    pub fn values(&self) -> Option<&[Box<str>]> {
        self.values.as_deref()
    }

    /// How many values get a segment of their own.
    pub fn max_values(&self) -> usize {
        self.max_values
    }
}

/// Checks an experiment's dimensions (found at `path`) into compiled ones.
pub(crate) fn compile(wire: &[WireDimension], path: &FieldPath) -> Result<Box<[Dimension]>, Error> {
    if wire.len() > MAX_DIMENSIONS {
        return Err(Error::LimitExceeded {
            path: path.clone(),
            message: format!("more than {MAX_DIMENSIONS} dimensions"),
        });
    }
    let mut keys = HashSet::new();
    let mut out = Vec::with_capacity(wire.len());
    for (i, d) in wire.iter().enumerate() {
        let at = path.item(i);
        crate::config::compile::check_key(&d.key, &at.field("key"))?;
        if !keys.insert(d.key.as_str()) {
            return Err(Error::DuplicateKey {
                path: at.field("key"),
                key: d.key.clone(),
            });
        }
        let attribute = d.attribute.as_deref().unwrap_or(&d.key);
        if attribute.is_empty() || attribute.len() > crate::config::limits::MAX_KEY_LEN {
            return Err(Error::invalid(
                at.field("attribute"),
                format!(
                    "must be 1 to {} bytes long",
                    crate::config::limits::MAX_KEY_LEN
                ),
            ));
        }
        let max_values = match d.max_values {
            None => DEFAULT_MAX_VALUES,
            Some(n) if (1..=MAX_MAX_VALUES as u64).contains(&n) => n as usize,
            Some(n) => {
                return Err(Error::invalid(
                    at.field("max_values"),
                    format!("{n} must be from 1 to {MAX_MAX_VALUES}"),
                ));
            }
        };
        let values = if d.values.is_empty() {
            None
        } else {
            Some(listed_values(&d.values, max_values, &at.field("values"))?)
        };
        out.push(Dimension {
            key: d.key.as_str().into(),
            attribute: attribute.into(),
            values,
            max_values,
        });
    }
    Ok(out.into())
}

/// A dimension's listed values, checked: distinct, 1 to [`MAX_VALUE_CHARS`] characters, at
/// most `max`, none of them a reserved segment.
fn listed_values(
    values: &[String],
    max: usize,
    path: &FieldPath,
) -> Result<Box<[Box<str>]>, Error> {
    if values.len() > max {
        return Err(Error::LimitExceeded {
            path: path.clone(),
            message: format!("more than {max} values (max_values)"),
        });
    }
    let mut seen = HashSet::new();
    for (j, v) in values.iter().enumerate() {
        check_value(v, &path.item(j))?;
        if v == OTHER || v == MISSING {
            return Err(Error::invalid(
                path.item(j),
                format!("{v:?} is a reserved segment"),
            ));
        }
        if !seen.insert(v.as_str()) {
            return Err(Error::DuplicateKey {
                path: path.item(j),
                key: v.clone(),
            });
        }
    }
    Ok(values.iter().map(|v| v.as_str().into()).collect())
}

/// Checks one dimension value: 1 to [`MAX_VALUE_CHARS`] characters, no NUL.
pub(crate) fn check_value(value: &str, path: &FieldPath) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid(path.clone(), "must not be empty"));
    }
    if value.contains('\0') {
        return Err(crate::config::nul_error(path.clone()));
    }
    if value.len() > MAX_VALUE_CHARS && value.chars().count() > MAX_VALUE_CHARS {
        return Err(Error::invalid(
            path.clone(),
            format!("is longer than {MAX_VALUE_CHARS} characters"),
        ));
    }
    Ok(())
}

/// An attribute's value as a dimension value: text as it is, a number as JSON writes it
/// (`3`, `2.5`), a boolean as `true` or `false`, cut to [`MAX_VALUE_CHARS`] characters;
/// `None` for empty text, lists, non-finite numbers and text holding NUL.
pub fn value_of(attribute: AttrRef<'_>) -> Option<String> {
    let text = match attribute {
        AttrRef::Str(s) => {
            if s.is_empty() || s.contains('\0') {
                return None;
            }
            return Some(match s.char_indices().nth(MAX_VALUE_CHARS) {
                Some((end, _)) => s.get(..end).unwrap_or(s).to_owned(),
                None => s.to_owned(),
            });
        }
        AttrRef::Bool(b) => b.to_string(),
        AttrRef::Number(n) if n.is_finite() => number_text(n),
        AttrRef::Number(_) | AttrRef::List(_) | AttrRef::Null | AttrRef::Unsupported => {
            return None;
        }
    };
    Some(text)
}

/// A number as JSON writes it: whole numbers without a fraction.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl crate::Experiment {
    /// The dimensions its results break down by.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// The value of each dimension for a unit with `attributes`, in declaration order (a
    /// dimension whose attribute is absent or unusable is left out: the rollups count the
    /// unit in [`MISSING`]). What an SDK sends with the unit's exposure.
    pub fn dimension_values(&self, attributes: &impl AttributeSource) -> Vec<(&str, String)> {
        self.dimensions
            .iter()
            .filter_map(|d| {
                let value = value_of(attributes.attribute(&d.attribute)?)?;
                Some((d.key(), value))
            })
            .collect()
    }
}

/// The name a segment's rows are kept under: `experiment#dimension=value`. Experiment and
/// dimension keys cannot hold `#` or `=`, so [`parse_subject`] reads it back.
pub fn subject(experiment: &str, dimension: &str, value: &str) -> String {
    let mut s = String::with_capacity(experiment.len() + dimension.len() + value.len() + 2);
    s.push_str(experiment);
    s.push(SEPARATOR);
    s.push_str(dimension);
    s.push('=');
    s.push_str(value);
    s
}

/// The prefix of every subject of `experiment`'s `dimension` (`experiment#dimension=`).
pub fn subject_prefix(experiment: &str, dimension: &str) -> String {
    subject(experiment, dimension, "")
}

/// A subject's (experiment, dimension, value); `None` for a name that is not a subject.
pub fn parse_subject(name: &str) -> Option<(&str, &str, &str)> {
    let (experiment, rest) = name.split_once(SEPARATOR)?;
    let (dimension, value) = rest.split_once('=')?;
    Some((experiment, dimension, value))
}

/// The experiment a rollup name belongs to: the name itself, or a subject's experiment.
pub fn experiment_of(name: &str) -> &str {
    name.split_once(SEPARATOR).map_or(name, |(e, _)| e)
}

/// Which values have a segment of their own, per (experiment, dimension): the rollups' record
/// of the values admitted so far (a store rebuilds it from its subjects, [`SegmentBook::admit`]).
#[derive(Debug, Clone, Default)]
pub struct SegmentBook {
    admitted: HashMap<(Box<str>, Box<str>), Values>,
}

/// The values admitted for one (experiment, dimension).
type Values = HashSet<Box<str>>;

impl SegmentBook {
    /// Records a stored subject's value as admitted (reserved segments are not counted).
    pub fn admit(&mut self, subject_name: &str) {
        let Some((experiment, dimension, value)) = parse_subject(subject_name) else {
            return;
        };
        if value == OTHER || value == MISSING {
            return;
        }
        self.admitted
            .entry((experiment.into(), dimension.into()))
            .or_default()
            .insert(value.into());
    }

    /// The segment of `dimension` of `experiment` that a unit whose exposure carried `value`
    /// (`None`: not carried) counts in; a new value is admitted while the cap allows.
    pub fn segment<'v>(
        &mut self,
        experiment: &str,
        dimension: &Dimension,
        value: Option<&'v str>,
    ) -> &'v str {
        let Some(value) = value else {
            return MISSING;
        };
        if value == OTHER || value == MISSING {
            return value;
        }
        if let Some(listed) = dimension.values() {
            return if listed.iter().any(|v| &**v == value) {
                value
            } else {
                OTHER
            };
        }
        let seen = self
            .admitted
            .entry((experiment.into(), dimension.key().into()))
            .or_default();
        if seen.contains(value) {
            value
        } else if seen.len() < dimension.max_values() {
            seen.insert(value.into());
            value
        } else {
            OTHER
        }
    }

    /// How many values are admitted in all.
    pub fn len(&self) -> usize {
        self.admitted.values().map(HashSet::len).sum()
    }

    /// Whether no value is admitted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[path = "segments_tests.rs"]
mod tests;
