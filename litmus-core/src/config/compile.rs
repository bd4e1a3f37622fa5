//! Wire types to validated, compiled types. Each experiment compiles on its own, so a bad one is
//! reported (naming its key and field) and the others still run.

use std::collections::{HashMap, HashSet};

use super::lifecycle::Scope;
use super::limits::*;
use super::parse::{Decoded, ParsedDocument, unknown_paths};
use super::wire::{
    Kind, WireExperiment, WireFactor, WireHoldout, WireLayer, WireMetric, WireVariant,
};
use crate::assign::experiment::{Arms, Experiment, Factor, LayerSlot, Variant};
use crate::assign::key_index::KeyIndex;
use crate::assign::targeting;
use crate::error::{Error, FieldPath};
use crate::hash::{self, HASH_VERSION, Purpose, Seed};
use crate::metrics::{Catalogue, Metric};
use crate::results::AnalysisSettings;
use crate::time::Timestamp;

/// A compiled layer.
#[derive(Debug, Clone)]
pub(crate) struct Layer {
    pub(crate) key: Box<str>,
    pub(crate) seed: Seed,
}

/// A compiled holdout.
#[derive(Debug, Clone)]
pub(crate) struct Holdout {
    pub(crate) key: Box<str>,
    pub(crate) seed: Seed,
    pub(crate) bound: u64,
    /// The share of units held out, as configured.
    pub(crate) share: f64,
}

impl Holdout {
    /// The share of units held out.
    pub(crate) fn share(&self) -> f64 {
        self.share
    }

    /// Whether the holdout holds the unit out.
    #[inline]
    pub(crate) fn holds_out(&self, unit: &str) -> bool {
        self.bound > 0 && u64::from(self.seed.bucket(unit)) < self.bound
    }
}

/// The result of compiling a document.
#[derive(Debug, Default)]
pub(crate) struct Compiled {
    pub(crate) version: Option<String>,
    /// Every experiment with a readable key, compiled or with the error that rejected it.
    pub(crate) experiments: Vec<(Box<str>, Result<Experiment, Error>)>,
    pub(crate) layers: Vec<Layer>,
    pub(crate) holdouts: Vec<Holdout>,
    /// Every flag with a readable key, compiled or with the error that rejected it.
    pub(crate) flags: Vec<(Box<str>, Result<crate::flags::Flag, Error>)>,
    /// Every problem found, in document order.
    pub(crate) problems: Vec<Error>,
    /// Fields the schema does not define (rejected by strict parsing only).
    pub(crate) unknown: Vec<FieldPath>,
}

/// Compiles a parsed document.
pub(crate) fn compile(doc: ParsedDocument) -> Compiled {
    let mut out = Compiled {
        version: doc.version,
        unknown: doc.unknown,
        ..Compiled::default()
    };
    let layers = compile_layers(doc.layers, &mut out);
    let items = doc.metrics.into_iter().map(|d| (d.path, d.value)).collect();
    let (catalogue, problems) = Catalogue::from_decoded(items, &mut out.unknown);
    out.problems.extend(problems);
    compile_experiments(doc.experiments, &layers, &catalogue, &mut out);
    check_layer_overlaps(&mut out);
    compile_holdouts(doc.holdouts, &layers, &mut out);
    crate::flags::compile_flags(doc.flags, &mut out);
    out
}

/// Layer keys to their index, and the keys of layers that failed to compile.
struct LayerTable {
    index: HashMap<String, usize>,
    broken: HashSet<String>,
}

fn compile_layers(decoded: Vec<Decoded<WireLayer>>, out: &mut Compiled) -> LayerTable {
    let mut table = LayerTable {
        index: HashMap::new(),
        broken: HashSet::new(),
    };
    for d in decoded {
        let result = d.value.and_then(|w| {
            out.unknown.extend(unknown_paths(&w.unknown, &d.path));
            check_key(&w.key, &d.path.field("key"))?;
            if table.index.contains_key(&w.key) {
                return Err(Error::DuplicateKey {
                    path: d.path.clone(),
                    key: w.key,
                });
            }
            let salt = salt_of(w.salt.as_deref(), &w.key, &d.path)?;
            Ok(Layer {
                seed: Seed::new(salt, Purpose::Layer),
                key: w.key.into(),
            })
        });
        match result {
            Ok(layer) => {
                table.index.insert(layer.key.to_string(), out.layers.len());
                out.layers.push(layer);
            }
            Err(e) => {
                if let Some(k) = d.key {
                    if !table.index.contains_key(&k) {
                        table.broken.insert(k);
                    }
                }
                out.problems.push(e);
            }
        }
    }
    table
}

fn compile_experiments(
    decoded: Vec<Decoded<WireExperiment>>,
    layers: &LayerTable,
    catalogue: &Catalogue,
    out: &mut Compiled,
) {
    if decoded.len() > MAX_EXPERIMENTS {
        out.problems.push(Error::LimitExceeded {
            path: FieldPath::root().field("experiments"),
            message: format!("more than {MAX_EXPERIMENTS} experiments"),
        });
    }
    let mut seen = HashSet::new();
    for d in decoded.into_iter().take(MAX_EXPERIMENTS) {
        let result = d.value.and_then(|w| {
            out.unknown.extend(experiment_unknowns(&w, &d.path));
            if seen.contains(w.key.as_str()) {
                return Err(Error::DuplicateKey {
                    path: d.path.clone(),
                    key: w.key,
                });
            }
            let metrics = resolve_metrics(catalogue, &w.metrics, &d.path.field("metrics"));
            let analysis = w
                .analysis
                .as_ref()
                .map(|v| AnalysisSettings::decode(v, &d.path.field("analysis")))
                .transpose();
            let dimensions = crate::segments::compile(&w.dimensions, &d.path.field("dimensions"));
            let mut experiment = compile_experiment(w, &d.path, layers)?;
            // A metric or settings problem fails strict parsing, but an SDK still assigns the
            // experiment.
            match metrics {
                Ok(m) => experiment.metrics = m.iter().map(Metric::spec).collect(),
                Err(e) => out.problems.push(e),
            }
            match analysis {
                Ok(a) => {
                    if let Some(a) = a {
                        out.unknown.extend(a.unknown.iter().cloned());
                        experiment.analysis = Some(Box::new(a));
                    }
                }
                Err(e) => out.problems.push(e),
            }
            match dimensions {
                Ok(d) => experiment.dimensions = d,
                Err(e) => out.problems.push(e),
            }
            Ok(experiment)
        });
        if let Err(e) = &result {
            out.problems.push(e.clone());
        }
        if let Some(key) = d.key {
            if seen.insert(key.clone()) {
                out.experiments.push((key.into(), result));
            }
        }
    }
}

fn experiment_unknowns(w: &WireExperiment, path: &FieldPath) -> Vec<FieldPath> {
    let mut paths = unknown_paths(&w.unknown, path);
    for (i, v) in w.variants.iter().enumerate() {
        paths.extend(unknown_paths(&v.unknown, &path.field("variants").item(i)));
    }
    for (i, f) in w.factors.iter().enumerate() {
        let fp = path.field("factors").item(i);
        paths.extend(unknown_paths(&f.unknown, &fp));
        for (j, l) in f.levels.iter().enumerate() {
            paths.extend(unknown_paths(&l.unknown, &fp.field("levels").item(j)));
        }
    }
    if let Some(slot) = &w.layer {
        paths.extend(unknown_paths(&slot.unknown, &path.field("layer")));
    }
    for (i, d) in w.dimensions.iter().enumerate() {
        paths.extend(unknown_paths(&d.unknown, &path.field("dimensions").item(i)));
    }
    for (env, state) in &w.environments {
        paths.extend(unknown_paths(
            &state.unknown,
            &path.field("environments").item(env),
        ));
    }
    for (i, m) in w.metrics.iter().enumerate() {
        let at = path.field("metrics").item(i);
        match m {
            WireMetric::Reference(r) => paths.extend(unknown_paths(&r.unknown, &at)),
            WireMetric::Inline(d) => paths.extend(d.unknown_paths(&at)),
        }
    }
    paths
}

/// The most metrics an experiment declares.
const MAX_METRICS: usize = 100;

/// An experiment's metrics resolved against the catalogue (at most [`MAX_METRICS`]).
fn resolve_metrics(
    catalogue: &Catalogue,
    metrics: &[WireMetric],
    path: &FieldPath,
) -> Result<Vec<Metric>, Error> {
    if metrics.len() > MAX_METRICS {
        return Err(Error::LimitExceeded {
            path: path.clone(),
            message: format!("more than {MAX_METRICS} metrics"),
        });
    }
    catalogue.resolve(metrics, path)
}

/// Whether `key` is a valid key: 1 to [`MAX_KEY_LEN`] letters, digits, `_ - . : /`.
pub(crate) fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'/'))
}

pub(crate) fn check_key(key: &str, path: &FieldPath) -> Result<(), Error> {
    if is_key(key) {
        Ok(())
    } else {
        Err(Error::invalid(
            path.clone(),
            format!(
                "{key:?} is not a valid key: use 1 to {MAX_KEY_LEN} letters, digits, '_', '-', '.', ':' or '/'"
            ),
        ))
    }
}

pub(crate) fn salt_of<'a>(
    salt: Option<&'a str>,
    key: &'a str,
    path: &FieldPath,
) -> Result<&'a str, Error> {
    let salt = salt.unwrap_or(key);
    if salt.len() > MAX_SALT_LEN {
        return Err(Error::LimitExceeded {
            path: path.field("salt"),
            message: format!("salt longer than {MAX_SALT_LEN} bytes"),
        });
    }
    Ok(salt)
}

fn fraction(value: f64, path: &FieldPath) -> Result<f64, Error> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(Error::invalid(
            path.clone(),
            format!("{value} must be a number from 0 to 1"),
        ))
    }
}

pub(crate) fn time(text: Option<&str>, path: &FieldPath) -> Result<Option<Timestamp>, Error> {
    text.map(|t| {
        Timestamp::parse_rfc3339(t).ok_or_else(|| {
            Error::invalid(
                path.clone(),
                format!("{t:?} is not an RFC 3339 date-time like 2026-03-01T12:00:00Z"),
            )
        })
    })
    .transpose()
}

fn compile_experiment(
    w: WireExperiment,
    path: &FieldPath,
    layers: &LayerTable,
) -> Result<Experiment, Error> {
    check_key(&w.key, &path.field("key"))?;
    if w.hash_version != HASH_VERSION {
        return Err(Error::UnsupportedHashVersion {
            path: path.field("hash_version"),
            found: w.hash_version,
        });
    }
    let salt = salt_of(w.salt.as_deref(), &w.key, path)?;
    let start = time(w.start_time.as_deref(), &path.field("start_time"))?;
    let end = time(w.end_time.as_deref(), &path.field("end_time"))?;
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            return Err(Error::invalid(
                path.field("end_time"),
                "end_time must be after start_time",
            ));
        }
    }
    let traffic = fraction(w.traffic, &path.field("traffic"))?;
    let (variants, arms) = match w.kind {
        Kind::Ab | Kind::Bandit => {
            if !w.factors.is_empty() {
                return Err(Error::invalid(
                    path.field("factors"),
                    format!("a {} experiment has variants, not factors", w.kind.as_str()),
                ));
            }
            weighted_arms(&w.variants, salt, &path.field("variants"))?
        }
        Kind::Multivariate => {
            if !w.variants.is_empty() {
                return Err(Error::invalid(
                    path.field("variants"),
                    "a multivariate experiment declares factors; its variants are their combinations",
                ));
            }
            factorial_arms(&w.factors, salt, &path.field("factors"))?
        }
    };
    let targeting = w
        .targeting
        .as_ref()
        .map(|t| targeting::compile(t, &path.field("targeting")))
        .transpose()?;
    let overrides = compile_overrides(&w.overrides, &variants, &path.field("overrides"))?;
    let layer = match &w.layer {
        None => None,
        Some(slot) => {
            let lp = path.field("layer");
            let Some(&index) = layers.index.get(&slot.key) else {
                return Err(if layers.broken.contains(&slot.key) {
                    Error::invalid(
                        lp.field("key"),
                        format!("layer {:?} is invalid (see its own error)", slot.key),
                    )
                } else {
                    Error::UnknownReference {
                        path: lp.field("key"),
                        key: slot.key.clone(),
                    }
                });
            };
            let rp = lp.field("range");
            let [a, b] = slot.range;
            let (a, b) = (fraction(a, &rp.item(0))?, fraction(b, &rp.item(1))?);
            if a >= b {
                return Err(Error::invalid(rp, "range start must be below its end"));
            }
            Some(LayerSlot {
                layer: index,
                lo: hash::bound(a),
                hi: hash::bound(b),
            })
        }
    };
    Ok(Experiment {
        key: w.key.as_str().into(),
        kind: w.kind,
        status: w.status,
        start,
        end,
        traffic,
        traffic_bound: hash::bound(traffic),
        traffic_seed: Seed::new(salt, Purpose::Traffic),
        variants,
        arms,
        targeting,
        overrides,
        layer,
        holdouts: Box::new([]),
        metrics: Box::new([]),
        analysis: None,
        dimensions: Box::new([]),
        plain: false,
        position: 0,
    })
}

/// Checks keys (valid, unique) and weights of variants or levels; returns the bounds.
fn weighted_keys(items: &[WireVariant], path: &FieldPath, what: &str) -> Result<Vec<u64>, Error> {
    if items.is_empty() {
        return Err(Error::invalid(
            path.clone(),
            format!("at least one {what} is required"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, v) in items.iter().enumerate() {
        let p = path.item(i);
        check_key(&v.key, &p.field("key"))?;
        if !seen.insert(v.key.as_str()) {
            return Err(Error::DuplicateKey {
                path: p,
                key: v.key.clone(),
            });
        }
        if !v.weight.is_finite() || v.weight < 0.0 {
            return Err(Error::invalid(
                p.field("weight"),
                format!("{} must be a finite number >= 0", v.weight),
            ));
        }
    }
    let weights: Vec<f64> = items.iter().map(|v| v.weight).collect();
    hash::cumulative_bounds(&weights)
        .ok_or_else(|| Error::invalid(path.clone(), "weights must have a positive, finite total"))
}

fn weighted_arms(
    items: &[WireVariant],
    salt: &str,
    path: &FieldPath,
) -> Result<(Box<[Variant]>, Arms), Error> {
    if items.len() > MAX_VARIANTS {
        return Err(Error::LimitExceeded {
            path: path.clone(),
            message: format!("more than {MAX_VARIANTS} variants"),
        });
    }
    let bounds = weighted_keys(items, path, "variant")?;
    let variants = items
        .iter()
        .enumerate()
        .map(|(index, v)| Variant {
            key: v.key.as_str().into(),
            index,
            weight: v.weight,
            payload: v.payload.clone(),
            levels: Box::new([]),
        })
        .collect();
    let arms = Arms::Weighted {
        seed: Seed::new(salt, Purpose::Variant),
        bounds: bounds.into_boxed_slice(),
    };
    Ok((variants, arms))
}

fn factorial_arms(
    factors: &[WireFactor],
    salt: &str,
    path: &FieldPath,
) -> Result<(Box<[Variant]>, Arms), Error> {
    if factors.is_empty() {
        return Err(Error::invalid(
            path.clone(),
            "at least one factor is required",
        ));
    }
    if factors.len() > MAX_FACTORS {
        return Err(Error::LimitExceeded {
            path: path.clone(),
            message: format!("more than {MAX_FACTORS} factors"),
        });
    }
    let mut seen = HashSet::new();
    let mut cells = 1usize;
    let mut shares: Vec<Vec<f64>> = Vec::new();
    let mut compiled: Vec<Factor> = Vec::new();
    for (i, f) in factors.iter().enumerate() {
        let p = path.item(i);
        check_key(&f.key, &p.field("key"))?;
        if !seen.insert(f.key.as_str()) {
            return Err(Error::DuplicateKey {
                path: p,
                key: f.key.clone(),
            });
        }
        let lp = p.field("levels");
        if f.levels.len() > MAX_LEVELS {
            return Err(Error::LimitExceeded {
                path: lp,
                message: format!("more than {MAX_LEVELS} levels"),
            });
        }
        let bounds = weighted_keys(&f.levels, &lp, "level")?;
        cells = cells.saturating_mul(f.levels.len());
        if cells > MAX_CELLS {
            return Err(Error::LimitExceeded {
                path: path.clone(),
                message: format!("more than {MAX_CELLS} combinations of levels"),
            });
        }
        let total: f64 = f.levels.iter().map(|l| l.weight).sum();
        shares.push(f.levels.iter().map(|l| l.weight / total).collect());
        compiled.push(Factor {
            key: f.key.as_str().into(),
            seed: Seed::new(salt, Purpose::Factor(&f.key)),
            levels: f.levels.iter().map(|l| l.key.as_str().into()).collect(),
            bounds: bounds.into_boxed_slice(),
            stride: 0,
        });
    }
    // Row-major strides: the last factor varies fastest.
    let mut stride = 1;
    for f in compiled.iter_mut().rev() {
        f.stride = stride;
        stride *= f.levels.len();
    }
    let variants = (0..cells)
        .map(|index| cell(index, factors, &compiled, &shares))
        .collect();
    Ok((
        variants,
        Arms::Factorial {
            factors: compiled.into_boxed_slice(),
        },
    ))
}

/// The variant for one cell of the full factorial.
fn cell(index: usize, wire: &[WireFactor], factors: &[Factor], shares: &[Vec<f64>]) -> Variant {
    let mut key = String::new();
    let mut weight = 1.0;
    let mut levels = Vec::with_capacity(factors.len());
    let mut payload = serde_json::Map::new();
    for ((f, w), s) in factors.iter().zip(wire).zip(shares) {
        let level = (index / f.stride.max(1)) % f.levels.len().max(1);
        let name = f.levels.get(level).cloned().unwrap_or_default();
        if !key.is_empty() {
            key.push(',');
        }
        key.push_str(&f.key);
        key.push('=');
        key.push_str(&name);
        weight *= s.get(level).copied().unwrap_or(0.0);
        if let Some(p) = w.levels.get(level).and_then(|l| l.payload.clone()) {
            payload.insert(f.key.to_string(), p);
        }
        levels.push((f.key.clone(), name));
    }
    Variant {
        key: key.into(),
        index,
        weight,
        payload: (!payload.is_empty()).then_some(serde_json::Value::Object(payload)),
        levels: levels.into_boxed_slice(),
    }
}

fn compile_overrides(
    overrides: &std::collections::BTreeMap<String, String>,
    variants: &[Variant],
    path: &FieldPath,
) -> Result<KeyIndex, Error> {
    if overrides.len() > MAX_OVERRIDES {
        return Err(Error::LimitExceeded {
            path: path.clone(),
            message: format!("more than {MAX_OVERRIDES} overrides"),
        });
    }
    let mut pairs = Vec::with_capacity(overrides.len());
    for (unit, variant) in overrides {
        let index = variants
            .iter()
            .position(|v| *v.key == **variant)
            .ok_or_else(|| Error::UnknownReference {
                path: path.item(unit),
                key: variant.clone(),
            })?;
        pairs.push((unit.as_str(), index as u32));
    }
    Ok(KeyIndex::new(pairs))
}

/// Later experiments whose layer slice overlaps an earlier one's are rejected.
fn check_layer_overlaps(out: &mut Compiled) {
    let mut taken: Vec<(usize, u64, u64, Box<str>)> = Vec::new();
    for (key, result) in &mut out.experiments {
        let Ok(exp) = result else { continue };
        let Some(slot) = exp.layer else { continue };
        let clash = taken
            .iter()
            .find(|(l, lo, hi, _)| *l == slot.layer && slot.lo < *hi && *lo < slot.hi);
        if let Some((_, _, _, other)) = clash {
            let e = Error::OverlappingRanges {
                path: FieldPath::root()
                    .field("experiments")
                    .item(&**key)
                    .field("layer")
                    .field("range"),
                other: other.to_string(),
            };
            out.problems.push(e.clone());
            *result = Err(e);
        } else {
            taken.push((slot.layer, slot.lo, slot.hi, key.clone()));
        }
    }
}

fn compile_holdouts(decoded: Vec<Decoded<WireHoldout>>, layers: &LayerTable, out: &mut Compiled) {
    let position: HashMap<Box<str>, usize> = out
        .experiments
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (k.clone(), i))
        .collect();
    let mut keys = HashSet::new();
    for d in decoded {
        let compiled = d.value.and_then(|w| {
            out.unknown.extend(unknown_paths(&w.unknown, &d.path));
            compile_holdout(&w, &d.path, &mut keys, layers, &position, out)
        });
        match compiled {
            Ok((holdout, scope)) => {
                let index = out.holdouts.len();
                out.holdouts.push(holdout);
                for i in scope {
                    if let Some((_, Ok(exp))) = out.experiments.get_mut(i) {
                        let mut list = exp.holdouts.to_vec();
                        list.push(index);
                        exp.holdouts = list.into_boxed_slice();
                    }
                }
            }
            Err(e) => {
                // A holdout that cannot be applied must not let the experiments it guards run
                // without it: they are rejected too.
                let scope = raw_scope(&d.raw, out);
                for i in scope {
                    if let Some((key, result)) = out.experiments.get_mut(i) {
                        if result.is_ok() {
                            *result = Err(Error::invalid(
                                FieldPath::root().field("experiments").item(&**key),
                                format!("holdout {} in scope is invalid: {e}", d.path),
                            ));
                        }
                    }
                }
                out.problems.push(e);
            }
        }
    }
}

type HoldoutScope = (Holdout, Vec<usize>);

fn compile_holdout(
    w: &WireHoldout,
    path: &FieldPath,
    keys: &mut HashSet<String>,
    layers: &LayerTable,
    position: &HashMap<Box<str>, usize>,
    out: &Compiled,
) -> Result<HoldoutScope, Error> {
    check_key(&w.key, &path.field("key"))?;
    if !keys.insert(w.key.clone()) {
        return Err(Error::DuplicateKey {
            path: path.clone(),
            key: w.key.clone(),
        });
    }
    let share = fraction(w.share, &path.field("share"))?;
    let salt = salt_of(w.salt.as_deref(), &w.key, path)?;
    // The references first: a scope naming nothing is an error.
    for (i, key) in w.experiments.iter().enumerate() {
        if !position.contains_key(key.as_str()) {
            return Err(Error::UnknownReference {
                path: path.field("experiments").item(i),
                key: key.clone(),
            });
        }
    }
    for (i, key) in w.layers.iter().enumerate() {
        if !layers.index.contains_key(key) {
            return Err(Error::UnknownReference {
                path: path.field("layers").item(i),
                key: key.clone(),
            });
        }
    }
    let scope = covered(&Scope::of(w), out);
    if !w.all && scope.is_empty() {
        return Err(Error::invalid(
            path.clone(),
            "a holdout needs a scope: `all`, `experiments` or `layers`",
        ));
    }
    Ok((
        Holdout {
            key: w.key.as_str().into(),
            seed: Seed::new(salt, Purpose::Holdout),
            bound: hash::bound(share),
            share,
        },
        scope,
    ))
}

/// The positions of the experiments `scope` covers (`lifecycle::Scope`, the one statement of
/// the rule); an experiment's layer is known once it compiled.
fn covered(scope: &Scope<'_>, out: &Compiled) -> Vec<usize> {
    out.experiments
        .iter()
        .enumerate()
        .filter(|(_, (key, result))| {
            let layer = result
                .as_ref()
                .ok()
                .and_then(|e| e.layer)
                .and_then(|s| out.layers.get(s.layer))
                .map(|l| &*l.key);
            scope.covers(key, layer)
        })
        .map(|(i, _)| i)
        .collect()
}

/// The experiments a holdout that failed to compile meant to guard, read from its raw JSON.
fn raw_scope(raw: &serde_json::Value, out: &Compiled) -> Vec<usize> {
    let all = raw.get("all").and_then(serde_json::Value::as_bool) == Some(true);
    let names = |field: &str| -> Vec<&str> {
        raw.get(field)
            .and_then(serde_json::Value::as_array)
            .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
            .unwrap_or_default()
    };
    covered(&Scope::new(all, names("experiments"), names("layers")), out)
}
