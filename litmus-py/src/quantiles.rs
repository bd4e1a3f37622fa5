//! `litmus._litmus` quantiles: the mergeable DDSketch (`litmus.QuantileSketch`) and quantile
//! inference from sketches (`litmus_core::stats::{sketch, quantile}`). The Python module
//! `litmus.stats` wraps the functions in result objects and accepts raw values too.

use std::sync::{Mutex, PoisonError};

use litmus_core::stats::{self, QuantileSketch as CoreSketch, sketch};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyMemoryView, PyString, PyType};

use crate::errors::{argument, check, guard};

/// A DDSketch of values (Masson, Rim and Lee, VLDB 2019): quantiles within relative accuracy
/// `alpha`, mergeable across processes and storable as `(key, count)` buckets. Thread-safe.
#[pyclass(module = "litmus._litmus", name = "QuantileSketch", frozen)]
pub(crate) struct QuantileSketch {
    inner: Mutex<CoreSketch>,
}

impl QuantileSketch {
    fn wrap(inner: CoreSketch) -> Self {
        QuantileSketch {
            inner: Mutex::new(inner),
        }
    }

    /// A copy of the core sketch (the lock is held only for the copy, so a sketch may be
    /// passed where another one is expected, itself included).
    pub(crate) fn snapshot(&self) -> CoreSketch {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Runs `f` on the sketch under its lock.
    fn with<T>(&self, f: impl FnOnce(&mut CoreSketch) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Adds every bucket of `other` (same accuracy), all or nothing.
    fn absorb(&self, py: Python<'_>, other: &CoreSketch) -> PyResult<()> {
        check(py, self.with(|s| s.merge(other)))
    }
}

#[pymethods]
impl QuantileSketch {
    /// An empty sketch with relative accuracy `alpha` in [0.001, 0.05] (0.01: every quantile
    /// within 1% of the exact order statistic).
    #[new]
    #[pyo3(signature = (alpha = 0.01))] // sketch::DEFAULT_RELATIVE_ACCURACY, as a literal for __text_signature__
    fn new(py: Python<'_>, alpha: f64) -> PyResult<Self> {
        guard(py, || Ok(Self::wrap(check(py, CoreSketch::new(alpha))?)))
    }

    /// A sketch from `buckets()`'s output (or a database's rows): an iterable of
    /// `(key, count)` pairs at relative accuracy `alpha`. Counts may be negative (rows of
    /// changes); a sketch with a negative bucket answers no query.
    #[classmethod]
    #[pyo3(signature = (buckets, alpha = 0.01))]
    fn from_buckets(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        buckets: &Bound<'_, PyAny>,
        alpha: f64,
    ) -> PyResult<Self> {
        guard(py, || {
            let mut s = check(py, CoreSketch::new(alpha))?;
            for pair in pairs(buckets)? {
                let (key, count) = pair?;
                check(py, s.add_key(key, count))?;
            }
            Ok(Self::wrap(s))
        })
    }

    /// Counts one value (NaN and infinities raise `InvalidArgumentError`).
    fn add(&self, py: Python<'_>, x: f64) -> PyResult<()> {
        guard(py, || check(py, self.with(|s| s.add(x))))
    }

    /// Counts every value of an iterable (a list, `array.array`, a numpy array, a generator),
    /// all or nothing: a NaN or an infinity raises and leaves the sketch as it was.
    fn extend(&self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<()> {
        guard(py, || {
            let xs = f64_values(values)?;
            let alpha = self.with(|s| s.alpha());
            let part = py.detach(|| {
                let mut part = CoreSketch::new(alpha)?;
                xs.iter().try_for_each(|&x| part.add(x))?;
                Ok::<_, litmus_core::Error>(part)
            });
            self.absorb(py, &check(py, part)?)
        })
    }

    /// Takes one value away (the inverse of `add`).
    fn remove(&self, py: Python<'_>, x: f64) -> PyResult<()> {
        guard(py, || check(py, self.with(|s| s.remove(x))))
    }

    /// Adds every bucket of `other`, which must have the same `alpha`.
    fn merge(&self, py: Python<'_>, other: &Bound<'_, QuantileSketch>) -> PyResult<()> {
        guard(py, || {
            let other = other.get().snapshot();
            self.absorb(py, &other)
        })
    }

    /// The `q`-quantile, q in [0, 1]: the lower order statistic at rank `floor(q (n - 1))`
    /// (numpy's `method="lower"`), within `alpha` relatively.
    fn quantile(&self, py: Python<'_>, q: f64) -> PyResult<f64> {
        guard(py, || check(py, self.with(|s| s.quantile(q))))
    }

    /// The net number of values.
    #[getter]
    fn count(&self) -> i64 {
        self.with(|s| s.count())
    }

    /// The relative accuracy.
    #[getter]
    fn alpha(&self) -> f64 {
        self.with(|s| s.alpha())
    }

    /// The buckets with a nonzero count, as `(key, count)` pairs in ascending order of key
    /// (and value): what `from_buckets` takes back, and what a database can store and sum.
    fn buckets(&self) -> Vec<(i32, i64)> {
        self.with(|s| s.buckets().collect())
    }

    fn __repr__(&self) -> String {
        self.with(|s| {
            format!(
                "QuantileSketch(alpha={}, count={}, buckets={})",
                s.alpha(),
                s.count(),
                s.buckets().count()
            )
        })
    }
}

/// `(key, count)` pairs from an iterable of 2-item sequences.
fn pairs<'py>(
    buckets: &Bound<'py, PyAny>,
) -> PyResult<impl Iterator<Item = PyResult<(i32, i64)>> + 'py> {
    let py = buckets.py();
    if buckets.is_instance_of::<PyString>() || buckets.is_instance_of::<PyBytes>() {
        return Err(argument(py, "buckets must be (key, count) pairs"));
    }
    Ok(buckets.try_iter()?.map(move |item| {
        let item = item?;
        if item.is_instance_of::<PyString>() || item.len().ok() != Some(2) {
            return Err(argument(py, "each bucket is a (key, count) pair"));
        }
        let key: i64 = item.get_item(0)?.extract()?;
        let count: i64 = item.get_item(1)?.extract()?;
        let key =
            i32::try_from(key).map_err(|_| argument(py, format!("{key} is not a bucket key")))?;
        Ok((key, count))
    }))
}

/// The numbers of an iterable: one copy for a contiguous float64 buffer (numpy, array.array),
/// else each item as a float.
pub(crate) fn f64_values(values: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    let py = values.py();
    if values.is_instance_of::<PyString>() || values.is_instance_of::<PyBytes>() {
        return Err(argument(py, "values must be numbers, not a str or bytes"));
    }
    if let Ok(view) = PyMemoryView::from(values) {
        let format: Option<String> = view.getattr("format")?.extract().ok();
        let contiguous: bool = view.getattr("c_contiguous")?.extract()?;
        if format.as_deref() == Some("d") && contiguous {
            let bytes = view.call_method0("tobytes")?;
            let bytes = bytes.cast::<PyBytes>()?;
            return Ok(crate::stats::values(bytes.as_bytes()).collect());
        }
    }
    values
        .try_iter()?
        .map(|item| item?.extract::<f64>())
        .collect()
}

/// The `q`-quantile of a sketch with its `1 - alpha` order-statistic interval: (estimate,
/// lower, upper, standard error, count, lower rank, upper rank).
#[pyfunction]
pub(crate) fn quantile_interval(
    py: Python<'_>,
    sketch: &Bound<'_, QuantileSketch>,
    q: f64,
    alpha: f64,
) -> PyResult<(f64, f64, f64, f64, u64, u64, u64)> {
    guard(py, || {
        let s = sketch.get().snapshot();
        let e = check(py, stats::quantile_interval(&s, q, alpha))?;
        let [estimate, lower, upper, se] = e.values();
        Ok((
            estimate,
            lower,
            upper,
            se,
            e.count(),
            e.lower_rank(),
            e.upper_rank(),
        ))
    })
}

/// The comparison of two sketches' `q`-quantiles (core's `QuantileComparison::values`):
/// (q_t, q_c, se_t, se_c, se, statistic, pvalue, diff_lower, diff_upper, relative,
/// relative_lower, relative_upper).
#[pyfunction]
#[allow(clippy::type_complexity)] // a tuple Python unpacks
pub(crate) fn quantile_ztest(
    py: Python<'_>,
    treatment: &Bound<'_, QuantileSketch>,
    control: &Bound<'_, QuantileSketch>,
    q: f64,
    alpha: f64,
) -> PyResult<(f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64, f64)> {
    guard(py, || {
        let (t, c) = (treatment.get().snapshot(), control.get().snapshot());
        let r = check(py, stats::quantile_ztest(&t, &c, q, alpha))?;
        let [qt, qc, se_t, se_c, se, z, p, dl, du, rel, rl, ru] = r.values();
        Ok((qt, qc, se_t, se_c, se, z, p, dl, du, rel, rl, ru))
    })
}

/// The exact `q`-quantile (numpy's `method="lower"`) of native-endian f64 values packed in
/// `data`, selected without the GIL.
#[pyfunction]
pub(crate) fn exact_quantile_from_f64_bytes(
    py: Python<'_>,
    data: &Bound<'_, PyBytes>,
    q: f64,
) -> PyResult<f64> {
    guard(py, || {
        let xs: Vec<f64> = crate::stats::f64s(py, data)?;
        check(py, py.detach(|| stats::exact_quantile(&xs, q)))
    })
}

/// The bucket key of `x` at relative accuracy `alpha` (what the server's sketches store).
#[pyfunction]
pub(crate) fn sketch_key(py: Python<'_>, x: f64, alpha: f64) -> PyResult<i32> {
    guard(py, || {
        let s = check(py, CoreSketch::new(alpha))?;
        s.key(x)
            .ok_or_else(|| argument(py, format!("{x} is not a finite number")))
    })
}

/// The representative value of bucket `key` at relative accuracy `alpha`.
#[pyfunction]
pub(crate) fn sketch_value(py: Python<'_>, key: i64, alpha: f64) -> PyResult<f64> {
    guard(py, || {
        check(py, CoreSketch::new(alpha))?;
        i32::try_from(key)
            .ok()
            .and_then(|k| sketch::value(k, alpha))
            .ok_or_else(|| {
                argument(
                    py,
                    format!("{key} is not a bucket at relative accuracy {alpha}"),
                )
            })
    })
}
