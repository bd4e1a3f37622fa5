//! Conversions between Python objects and the core's JSON, attribute and time types.

use litmus_core::Timestamp;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::errors::argument;

/// Deepest nesting accepted from Python (the core's JSON limits apply after).
const MAX_DEPTH: usize = 128;

/// A Python value (None, bool, int, float, str, list, tuple, dict with str keys) as JSON.
pub(crate) fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    to_json_at(obj, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<serde_json::Value> {
    use serde_json::Value as J;
    let py = obj.py();
    if depth > MAX_DEPTH {
        return Err(argument(py, format!("nesting deeper than {MAX_DEPTH}")));
    }
    if obj.is_none() {
        return Ok(J::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(J::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(J::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(J::from(u));
        }
        let f: f64 = obj.extract()?;
        return Ok(serde_json::Number::from_f64(f).map_or(J::Null, J::Number));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        return serde_json::Number::from_f64(v)
            .map(J::Number)
            .ok_or_else(|| argument(py, format!("{v} is not a JSON number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(J::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| argument(py, "object keys must be str"))?
                .to_cow()?
                .into_owned();
            map.insert(key, to_json_at(&v, depth + 1)?);
        }
        return Ok(J::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|v| to_json_at(&v, depth + 1)).collect();
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|v| to_json_at(&v, depth + 1)).collect();
    }
    Err(argument(
        py,
        format!(
            "cannot convert {} to JSON",
            obj.get_type()
                .name()
                .map_or_else(|_| "?".to_owned(), |n| n.to_string())
        ),
    ))
}

/// JSON as a Python value (objects become dicts).
pub(crate) fn from_json<'py>(
    py: Python<'py>,
    value: &serde_json::Value,
) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => py.None().into_bound(py),
        J::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (_, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        J::String(s) => PyString::new(py, s).into_any(),
        J::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_json(py, item)?)?;
            }
            list.into_any()
        }
        J::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, from_json(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A config given as a JSON str, bytes or a dict, as JSON text.
pub(crate) fn config_text(config: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = config.py();
    if let Ok(s) = config.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(b) = config.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec()).map_err(|e| {
            crate::errors::exception(
                py,
                &format!("config is not UTF-8: {e}"),
                "invalid_json",
                None,
            )
        });
    }
    if config.is_instance_of::<PyDict>() {
        return Ok(to_json(config)?.to_string());
    }
    Err(argument(py, "config must be a JSON str, bytes or a dict"))
}

/// The instant to assign at: a datetime (aware, or naive meaning UTC), a number of seconds
/// since the Unix epoch, or an RFC 3339 string.
pub(crate) fn timestamp(obj: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s.to_cow()?;
        return Timestamp::parse_rfc3339(&text)
            .ok_or_else(|| argument(py, format!("{text:?} is not an RFC 3339 time")));
    }
    let seconds: f64 = if obj.is_instance_of::<PyInt>() || obj.is_instance_of::<PyFloat>() {
        obj.extract()?
    } else if obj.hasattr("timestamp")? {
        // datetime: a naive one is taken as UTC, not local time.
        let aware = if obj.getattr("tzinfo")?.is_none() {
            let utc = py.import("datetime")?.getattr("timezone")?.getattr("utc")?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("tzinfo", utc)?;
            obj.call_method("replace", (), Some(&kwargs))?
        } else {
            obj.clone()
        };
        aware.call_method0("timestamp")?.extract()?
    } else {
        return Err(argument(
            py,
            "now must be a datetime, seconds since the epoch, or an RFC 3339 string",
        ));
    };
    if !seconds.is_finite() || seconds.abs() > 1e14 {
        return Err(argument(py, format!("{seconds} is not a usable time")));
    }
    Ok(Timestamp::from_unix_millis(
        (seconds * 1000.0).floor() as i64
    ))
}
