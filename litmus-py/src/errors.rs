//! Errors at the binding edge: core errors become `litmus.errors` exceptions carrying the
//! core's stable code, and a Rust panic becomes `litmus.errors.InternalError` instead of
//! PyO3's `PanicException`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// `litmus.errors._make(message, code, path)`, looked up once.
fn maker(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static MAKE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    MAKE.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("litmus.errors")?.getattr("_make")?.unbind())
    })
    .map(|f| f.bind(py))
}

/// A Python exception of the class for `code`.
pub(crate) fn exception(py: Python<'_>, message: &str, code: &str, path: Option<&str>) -> PyErr {
    match maker(py).and_then(|make| make.call1((message, code, path))) {
        Ok(err) => PyErr::from_value(err),
        Err(e) => e,
    }
}

/// The Python exception for a core error. A `multiple` error also lists each problem as an
/// exception of its own in `problems`.
pub(crate) fn core_error(py: Python<'_>, error: &litmus_core::Error) -> PyErr {
    let err = exception(
        py,
        &error.to_string(),
        error.code(),
        error.path().map(|p| p.as_str()),
    );
    if let litmus_core::Error::Multiple { errors } = error {
        let problems: Vec<Py<PyAny>> = errors
            .iter()
            .map(|e| core_error(py, e).into_value(py).into_any())
            .collect();
        if let Err(e) = err.value(py).setattr("problems", problems) {
            return e;
        }
    }
    err
}

/// A core result as a Python result.
pub(crate) fn check<T>(py: Python<'_>, result: Result<T, litmus_core::Error>) -> PyResult<T> {
    result.map_err(|e| core_error(py, &e))
}

/// An `invalid_argument` exception raised by the binding itself (a Python value of the
/// wrong shape).
pub(crate) fn argument(py: Python<'_>, message: impl AsRef<str>) -> PyErr {
    exception(py, message.as_ref(), "invalid_argument", None)
}

/// Runs `f`, turning a panic into `InternalError` (never `PanicException`).
pub(crate) fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => {
            let detail = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            let message = format!("internal error in litmus (please report it): {detail}");
            let err = exception(py, &message, "internal", None);
            // InternalError derives from RuntimeError; should litmus.errors be unusable,
            // raise a plain RuntimeError rather than anything else.
            Err(if err.is_instance_of::<PyRuntimeError>(py) {
                err
            } else {
                PyRuntimeError::new_err(message)
            })
        }
    }
}
