//! Quantile exports of the analysis module: the DDSketch (`litmus_core::stats::sketch`) as a
//! wasm-bindgen class, and quantile inference from sketches. The JavaScript layer wraps the
//! class (`stats.QuantileSketch`) and builds the result objects.

use litmus_core::stats::{self, QuantileSketch as CoreSketch, sketch};
use wasm_bindgen::prelude::*;

use crate::{argument, error};

fn core<T>(r: Result<T, litmus_core::Error>) -> Result<T, JsValue> {
    r.map_err(|e| error(&e))
}

/// The largest magnitude of a bucket count from JavaScript: counts are safe integers.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A mergeable DDSketch: net counts per bucket key, quantiles within relative accuracy
/// `alpha`. Every change is all or nothing: a call that fails leaves the sketch as it was.
#[wasm_bindgen(js_name = QuantileSketch)]
pub struct Sketch {
    inner: CoreSketch,
}

#[wasm_bindgen(js_class = QuantileSketch)]
impl Sketch {
    /// An empty sketch with relative accuracy `alpha` in [0.001, 0.05].
    #[wasm_bindgen(constructor)]
    pub fn new(alpha: f64) -> Result<Sketch, JsValue> {
        Ok(Sketch {
            inner: core(CoreSketch::new(alpha))?,
        })
    }

    /// Counts one value (NaN and infinities are `invalid_argument`).
    pub fn add(&mut self, x: f64) -> Result<(), JsValue> {
        core(self.inner.add(x))
    }

    /// Counts every value, all or nothing.
    pub fn extend(&mut self, values: &[f64]) -> Result<(), JsValue> {
        let mut part = core(CoreSketch::new(self.inner.alpha()))?;
        values.iter().try_for_each(|&x| core(part.add(x)))?;
        core(self.inner.merge(&part))
    }

    /// Takes one value away.
    pub fn remove(&mut self, x: f64) -> Result<(), JsValue> {
        core(self.inner.remove(x))
    }

    /// Adds buckets given as flat `(key, count)` pairs (integers; counts may be negative),
    /// all or nothing.
    #[wasm_bindgen(js_name = addBuckets)]
    pub fn add_buckets(&mut self, pairs: &[f64]) -> Result<(), JsValue> {
        if pairs.len() % 2 != 0 {
            return Err(argument("buckets come as (key, count) pairs"));
        }
        let mut next = self.inner.clone();
        for pair in pairs.chunks_exact(2) {
            let &[key, count] = pair else {
                return Err(argument("buckets come as (key, count) pairs"));
            };
            if !(key.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&key)) {
                return Err(argument(&format!("{key} is not a bucket key")));
            }
            if !(count.fract() == 0.0 && count.abs() <= MAX_SAFE) {
                return Err(argument(&format!(
                    "{count} is not a count (a safe integer)"
                )));
            }
            core(next.add_key(key as i32, count as i64))?;
        }
        self.inner = next;
        Ok(())
    }

    /// Adds every bucket of `other` (same `alpha`).
    pub fn merge(&mut self, other: &Sketch) -> Result<(), JsValue> {
        core(self.inner.merge(&other.inner))
    }

    /// The `q`-quantile (numpy's `method="lower"`), within `alpha` relatively.
    pub fn quantile(&self, q: f64) -> Result<f64, JsValue> {
        core(self.inner.quantile(q))
    }

    /// The net number of values.
    #[wasm_bindgen(getter)]
    pub fn count(&self) -> f64 {
        self.inner.count() as f64
    }

    /// The relative accuracy.
    #[wasm_bindgen(getter)]
    pub fn alpha(&self) -> f64 {
        self.inner.alpha()
    }

    /// The buckets with a nonzero count as flat `(key, count)` pairs, in ascending key order.
    pub fn buckets(&self) -> Vec<f64> {
        self.inner
            .buckets()
            .flat_map(|(k, c)| [f64::from(k), c as f64])
            .collect()
    }
}

/// A sketch's `q`-quantile with its `1 - alpha` interval: (estimate, lower, upper, standard
/// error, count, lower rank, upper rank).
#[wasm_bindgen(js_name = statsQuantileInterval)]
pub fn quantile_interval(s: &Sketch, q: f64, alpha: f64) -> Result<Vec<f64>, JsValue> {
    let e = core(stats::quantile_interval(&s.inner, q, alpha))?;
    let mut out = e.values().to_vec();
    out.extend([e.count(), e.lower_rank(), e.upper_rank()].map(|n| n as f64));
    Ok(out)
}

/// Two sketches' `q`-quantiles compared (core's `QuantileComparison::values`).
#[wasm_bindgen(js_name = statsQuantileZtest)]
pub fn quantile_ztest(t: &Sketch, c: &Sketch, q: f64, alpha: f64) -> Result<Vec<f64>, JsValue> {
    Ok(core(stats::quantile_ztest(&t.inner, &c.inner, q, alpha))?
        .values()
        .to_vec())
}

/// The exact `q`-quantile of the values (numpy's `method="lower"`).
#[wasm_bindgen(js_name = statsExactQuantile)]
pub fn exact_quantile(values: &[f64], q: f64) -> Result<f64, JsValue> {
    core(stats::exact_quantile(values, q))
}

/// The bucket key of `x` at relative accuracy `alpha`.
#[wasm_bindgen(js_name = statsSketchKey)]
pub fn sketch_key(x: f64, alpha: f64) -> Result<i32, JsValue> {
    let s = core(CoreSketch::new(alpha))?;
    s.key(x)
        .ok_or_else(|| argument(&format!("{x} is not a finite number")))
}

/// The representative value of bucket `key` at relative accuracy `alpha`.
#[wasm_bindgen(js_name = statsSketchValue)]
pub fn sketch_value(key: f64, alpha: f64) -> Result<f64, JsValue> {
    core(CoreSketch::new(alpha))?;
    let valid = key.fract() == 0.0 && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&key);
    valid
        .then(|| sketch::value(key as i32, alpha))
        .flatten()
        .ok_or_else(|| {
            argument(&format!(
                "{key} is not a bucket at relative accuracy {alpha}"
            ))
        })
}
