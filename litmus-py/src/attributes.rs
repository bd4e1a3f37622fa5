//! A unit's attributes read straight from the caller's dict: its strings are borrowed (no
//! copy on Python 3.10 and later) and no map is built per call. Values are checked when the
//! source is made (the values the JSON conversion accepts, with its errors), so a lookup
//! cannot fail.

use litmus_core::attributes::json_as_attr;
use litmus_core::{AttrRef, AttributeSource};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::types::{PyDict, PyString};

use crate::convert::to_json;
use crate::errors::argument;

/// One attribute's value: a str borrowed from the caller's dict, or any other value as JSON
/// (None, bools and numbers allocate nothing; lists and nested dicts are converted once).
enum Slot {
    Str(PyBackedStr),
    Json(serde_json::Value),
}

/// The attributes of one call: the dict's entries, in its order (none for `None`).
pub(crate) struct PyAttributes {
    entries: Vec<(PyBackedStr, Slot)>,
}

impl PyAttributes {
    /// The attributes in `obj`: a dict with str keys and JSON-like values, or None (no
    /// attributes). Anything else is an `invalid_argument` error naming what is wrong.
    pub(crate) fn read(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let Some(obj) = obj.filter(|o| !o.is_none()) else {
            return Ok(PyAttributes {
                entries: Vec::new(),
            });
        };
        let py = obj.py();
        let dict = obj
            .cast::<PyDict>()
            .map_err(|_| argument(py, "attributes must be a dict or None"))?;
        let mut entries = Vec::with_capacity(dict.len());
        for (key, value) in dict.iter() {
            let key = key
                .cast_into::<PyString>()
                .map_err(|_| argument(py, "object keys must be str"))?;
            let slot = match value.cast_into::<PyString>() {
                Ok(s) => Slot::Str(PyBackedStr::try_from(s)?),
                Err(e) => Slot::Json(to_json(&e.into_inner())?),
            };
            let key = PyBackedStr::try_from(key)?;
            entries.push((key, slot));
        }
        Ok(PyAttributes { entries })
    }
}

impl AttributeSource for PyAttributes {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        let (_, slot) = self.entries.iter().find(|(key, _)| &**key == name)?;
        Some(match slot {
            Slot::Str(s) => AttrRef::Str(s),
            Slot::Json(v) => json_as_attr(v),
        })
    }
}
