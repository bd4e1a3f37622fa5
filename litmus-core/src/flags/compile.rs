//! Flag wire types to compiled flags. Each flag compiles on its own, so a bad one is reported
//! (by key and field) while the others serve; prerequisite cycles and chains that are too deep
//! are found once every flag is compiled.

use std::collections::HashMap;

use serde_json::Value;

use super::flag::{Action, Flag, Phase, Rule};
use super::wire::{FlagType, RuleKind, WireFlag, WireRule};
use crate::assign::experiment::Experiment;
use crate::assign::targeting;
use crate::config::compile::{Compiled, check_key, salt_of, time};
use crate::config::decode::DecodeOwned;
use crate::config::parse::FlagSource;
use crate::error::{Error, FieldPath};
use crate::hash::{self, Purpose, Seed};

/// Most flags in one document.
pub const MAX_FLAGS: usize = 20_000;
/// Most rules of one flag (in each rule list).
pub const MAX_RULES: usize = 200;
/// Most scheduled changes of one flag.
pub const MAX_SCHEDULE: usize = 50;
/// Longest chain of prerequisites: a flag, its prerequisite, that flag's, and so on.
pub const MAX_PREREQUISITE_DEPTH: usize = 16;
/// Most tags of one flag.
pub const MAX_TAGS: usize = 50;

/// Reads, decodes and compiles the document's flags against its compiled experiments, into
/// `out.flags`, one flag at a time: each flag's JSON is parsed, taken apart as it is decoded,
/// and its wire form dropped as soon as it is compiled, so memory freed by one flag is reused
/// by the next. Prerequisites name flags by key and are resolved once every flag is compiled.
pub(crate) fn compile_flags(sources: Vec<FlagSource>, out: &mut Compiled) {
    if sources.len() > MAX_FLAGS {
        out.problems.push(Error::LimitExceeded {
            path: FieldPath::root().field("flags"),
            message: format!("more than {MAX_FLAGS} flags"),
        });
    }
    let experiments: HashMap<&str, usize> = out
        .experiments
        .iter()
        .enumerate()
        .map(|(i, (k, _))| (&**k, i))
        .collect();
    let context = Context {
        experiments: &experiments,
        compiled: &out.experiments,
    };
    let count = sources.len().min(MAX_FLAGS);
    // Sized up front: growing these one doubling at a time is a large share of loading ten
    // thousand flags.
    let mut compiled: Vec<(Box<str>, FieldPath, Result<Flag, Error>)> = Vec::with_capacity(count);
    let mut index: HashMap<Box<str>, usize> = HashMap::with_capacity(count);
    // Problems of objects that are not flags of the engine (a repeated or unreadable key), by
    // the position they come before in `compiled`, so problems stay in document order.
    let mut extra: Vec<(usize, Error)> = Vec::new();
    let mut unknown = Vec::new();
    let list = FieldPath::root().field("flags");
    for (i, source) in sources.into_iter().take(MAX_FLAGS).enumerate() {
        let value = match source.into_value() {
            Ok(v) => v,
            Err(e) => {
                extra.push((compiled.len(), e));
                continue;
            }
        };
        let key: Option<Box<str>> = value.get("key").and_then(Value::as_str).map(Into::into);
        let path = match key.as_deref() {
            Some(k) if !k.is_empty() => list.item(k),
            _ => list.item(i),
        };
        let result = <WireFlag as DecodeOwned>::decode_owned(value, &path).and_then(|w| {
            unknown.extend(super::wire::unknown_paths(&w, &path));
            if index.contains_key(w.key.as_str()) {
                return Err(Error::DuplicateKey {
                    path: path.clone(),
                    key: w.key,
                });
            }
            compile_flag(&w, &path, &context)
        });
        match key {
            Some(k) if !index.contains_key(&k) => {
                index.insert(k.clone(), compiled.len());
                compiled.push((k, path, result));
            }
            _ => {
                if let Err(e) = result {
                    extra.push((compiled.len(), e));
                }
            }
        }
    }
    out.unknown.extend(unknown);
    resolve_prerequisites(&mut compiled, &index);
    reject_cycles_and_deep_chains(&mut compiled);
    let mut extra = extra.into_iter().peekable();
    out.flags.reserve(compiled.len());
    for (i, (key, _, result)) in compiled.into_iter().enumerate() {
        while let Some((_, e)) = extra.next_if(|(at, _)| *at <= i) {
            out.problems.push(e);
        }
        if let Err(e) = &result {
            out.problems.push(e.clone());
        }
        out.flags.push((key, result));
    }
    out.problems.extend(extra.map(|(_, e)| e));
}

/// Points each prerequisite rule at its flag's index; a flag whose prerequisite names no flag
/// is rejected (`unknown_reference` at the rule's `flag`).
fn resolve_prerequisites(
    flags: &mut [(Box<str>, FieldPath, Result<Flag, Error>)],
    index: &HashMap<Box<str>, usize>,
) {
    for (_, path, result) in flags.iter_mut() {
        let Ok(flag) = result else {
            continue;
        };
        let mut missing = None;
        for (s, set) in flag.rule_sets.iter_mut().enumerate() {
            for (r, rule) in set.iter_mut().enumerate() {
                if let Action::Prerequisite {
                    flag: target, key, ..
                } = &mut rule.action
                {
                    match index.get(&**key) {
                        Some(&i) => *target = i,
                        None => {
                            missing.get_or_insert((s, r, key.to_string()));
                        }
                    }
                }
            }
        }
        if let Some((s, r, key)) = missing {
            let at = rule_path(flag, path, s, r).field("flag");
            *result = Err(Error::UnknownReference { path: at, key });
        }
    }
}

/// The path of rule `r` of rule list `s` of a flag at `path` (list 0 is the flag's `rules`,
/// the others its scheduled changes' in order).
fn rule_path(flag: &Flag, path: &FieldPath, s: usize, r: usize) -> FieldPath {
    let list = match s {
        0 => path.field("rules"),
        _ => {
            let change = flag
                .phases
                .iter()
                .skip(1)
                .position(|p| p.rules == s)
                .unwrap_or(0);
            path.field("schedule").item(change).field("rules")
        }
    };
    list.item(r)
}

/// What a flag may refer to.
struct Context<'a> {
    experiments: &'a HashMap<&'a str, usize>,
    compiled: &'a [(Box<str>, Result<Experiment, Error>)],
}

fn compile_flag(w: &WireFlag, path: &FieldPath, cx: &Context<'_>) -> Result<Flag, Error> {
    check_key(&w.key, &path.field("key"))?;
    let salt = salt_of(w.salt.as_deref(), &w.key, path)?;
    check_value(w.value_type, &w.default, || path.field("default"))?;
    if w.tags.len() > MAX_TAGS {
        return Err(Error::LimitExceeded {
            path: path.field("tags"),
            message: format!("more than {MAX_TAGS} tags"),
        });
    }
    if w.schedule.len() > MAX_SCHEDULE {
        return Err(Error::LimitExceeded {
            path: path.field("schedule"),
            message: format!("more than {MAX_SCHEDULE} scheduled changes"),
        });
    }
    let mut rule_sets = vec![compile_rules(w, &w.rules, salt, &path.field("rules"), cx)?];
    let mut phases = vec![Phase {
        from: None,
        enabled: w.enabled,
        rules: 0,
    }];
    for (i, change) in w.schedule.iter().enumerate() {
        let at = path.field("schedule").item(i);
        let from = time(Some(&change.at), &at.field("at"))?;
        let previous = phases.last().copied().unwrap_or(Phase {
            from: None,
            enabled: w.enabled,
            rules: 0,
        });
        if let (Some(from), Some(before)) = (from, previous.from) {
            if from <= before {
                return Err(Error::invalid(
                    at.field("at"),
                    "scheduled changes must be in time order, each after the one before",
                ));
            }
        }
        let rules = match &change.rules {
            Some(rules) => {
                rule_sets.push(compile_rules(w, rules, salt, &at.field("rules"), cx)?);
                rule_sets.len() - 1
            }
            None => previous.rules,
        };
        if change.enabled.is_none() && change.rules.is_none() {
            return Err(Error::invalid(
                at,
                "a scheduled change sets `enabled`, `rules` or both",
            ));
        }
        phases.push(Phase {
            from,
            enabled: change.enabled.unwrap_or(previous.enabled),
            rules,
        });
    }
    // Number the outcomes: 0 is the default, then each rule's (one per variant for an
    // experiment rule), rule list by rule list.
    let mut next = 1u32;
    for rule in rule_sets.iter_mut().flat_map(|set| set.iter_mut()) {
        rule.outcome = next;
        let count = match &rule.action {
            Action::Experiment { values, .. } => values.len(),
            _ => 1,
        };
        next = next.saturating_add(u32::try_from(count).unwrap_or(u32::MAX));
    }
    Ok(Flag {
        timed: false,
        index: super::evaluation::NO_INDEX,
        key: w.key.as_str().into(),
        value_type: w.value_type,
        default: w.default.clone(),
        description: w.description.as_deref().map(Into::into),
        tags: w.tags.iter().map(|t| t.as_str().into()).collect(),
        rule_sets: rule_sets.into_boxed_slice(),
        phases: phases.into_boxed_slice(),
    })
}

fn compile_rules(
    flag: &WireFlag,
    rules: &[WireRule],
    flag_salt: &str,
    path: &FieldPath,
    cx: &Context<'_>,
) -> Result<Box<[Rule]>, Error> {
    if rules.len() > MAX_RULES {
        return Err(Error::LimitExceeded {
            path: path.clone(),
            message: format!("more than {MAX_RULES} rules"),
        });
    }
    let mut out: Vec<Rule> = Vec::with_capacity(rules.len());
    for (i, w) in rules.iter().enumerate() {
        let at = path.item(i);
        let id = match &w.id {
            Some(id) => {
                check_key(id, &at.field("id"))?;
                id.clone()
            }
            None => format!("{}-{i}", w.kind.as_str()),
        };
        if out.iter().any(|r| *r.id == *id) {
            return Err(Error::DuplicateKey {
                path: at.field("id"),
                key: id,
            });
        }
        out.push(compile_rule(flag, w, id, flag_salt, &at, cx)?);
    }
    Ok(out.into_boxed_slice())
}

/// The fields each kind of rule takes, besides `id`, `kind` and `condition`.
fn allowed(kind: RuleKind) -> &'static [&'static str] {
    match kind {
        RuleKind::Force => &["value"],
        RuleKind::Rollout => &["value", "percentage", "salt"],
        RuleKind::Experiment => &["experiment", "values"],
        RuleKind::Prerequisite => &["flag", "is", "value"],
    }
}

fn compile_rule(
    flag: &WireFlag,
    w: &WireRule,
    id: String,
    flag_salt: &str,
    at: &FieldPath,
    cx: &Context<'_>,
) -> Result<Rule, Error> {
    let present = [
        ("value", w.value.is_some()),
        ("percentage", w.percentage.is_some()),
        ("salt", w.salt.is_some()),
        ("experiment", w.experiment.is_some()),
        ("values", !w.values.is_empty()),
        ("flag", w.flag.is_some()),
        ("is", w.is.is_some()),
    ];
    if let Some((name, _)) = present
        .iter()
        .find(|(name, set)| *set && !allowed(w.kind).contains(name))
    {
        return Err(Error::invalid(
            at.field(name),
            format!("a {} rule has no `{name}`", w.kind.as_str()),
        ));
    }
    let condition = w
        .condition
        .as_ref()
        .map(|c| targeting::compile(c, &at.field("condition")))
        .transpose()?;
    let served = |name: &str| -> Result<Value, Error> {
        let value = w.value.clone().ok_or_else(|| Error::MissingField {
            path: at.field(name),
        })?;
        check_value(flag.value_type, &value, || at.field(name))?;
        Ok(value)
    };
    let action = match w.kind {
        RuleKind::Force => Action::Force(served("value")?),
        RuleKind::Rollout => {
            let percentage = w.percentage.ok_or_else(|| Error::MissingField {
                path: at.field("percentage"),
            })?;
            if !(percentage.is_finite() && (0.0..=100.0).contains(&percentage)) {
                return Err(Error::invalid(
                    at.field("percentage"),
                    format!("{percentage} must be a number from 0 to 100"),
                ));
            }
            let salt = salt_of(w.salt.as_deref(), flag_salt, at)?;
            Action::Rollout {
                seed: Seed::new(salt, Purpose::Rollout),
                bound: hash::bound(percentage / 100.0),
                percentage,
                value: served("value")?,
            }
        }
        RuleKind::Experiment => experiment_action(flag, w, at, cx)?,
        RuleKind::Prerequisite => {
            let parent = w.flag.as_deref().ok_or_else(|| Error::MissingField {
                path: at.field("flag"),
            })?;
            let is = w.is.clone().ok_or_else(|| Error::MissingField {
                path: at.field("is"),
            })?;
            if is.is_null() {
                return Err(Error::invalid(at.field("is"), "must not be null"));
            }
            Action::Prerequisite {
                // Resolved once every flag is compiled (`resolve_prerequisites`).
                flag: usize::MAX,
                key: parent.into(),
                is,
                value: served("value")?,
            }
        }
    };
    Ok(Rule {
        outcome: 0,
        id: id.into(),
        condition,
        action,
    })
}

fn experiment_action(
    flag: &WireFlag,
    w: &WireRule,
    at: &FieldPath,
    cx: &Context<'_>,
) -> Result<Action, Error> {
    let key = w.experiment.as_deref().ok_or_else(|| Error::MissingField {
        path: at.field("experiment"),
    })?;
    let &index = cx
        .experiments
        .get(key)
        .ok_or_else(|| Error::UnknownReference {
            path: at.field("experiment"),
            key: key.to_owned(),
        })?;
    let values_at = || at.field("values");
    for (variant, value) in &w.values {
        check_value(flag.value_type, value, || values_at().field(variant))?;
    }
    // An experiment rejected at load assigns nobody, so the rule never applies; its values
    // cannot be checked against variants it does not have.
    let Some(Ok(experiment)) = cx.compiled.get(index).map(|(_, e)| e) else {
        return Ok(Action::Experiment {
            experiment: index,
            values: Box::default(),
        });
    };
    if let Some(unknown) = w
        .values
        .keys()
        .find(|k| experiment.variant(k.as_str()).is_none())
    {
        return Err(Error::UnknownReference {
            path: values_at().field(unknown),
            key: unknown.clone(),
        });
    }
    let values = experiment
        .variants()
        .iter()
        .map(|v| {
            w.values.get(v.key()).cloned().ok_or_else(|| {
                Error::invalid(
                    values_at(),
                    format!("no value for the experiment's variant {:?}", v.key()),
                )
            })
        })
        .collect::<Result<Box<[Value]>, Error>>()?;
    Ok(Action::Experiment {
        experiment: index,
        values,
    })
}

/// Checks that `value` is a value of the flag's type.
fn check_value(
    value_type: FlagType,
    value: &Value,
    path: impl FnOnce() -> FieldPath,
) -> Result<(), Error> {
    if value_type.admits(value) {
        Ok(())
    } else {
        let expected = match value_type {
            FlagType::Boolean => "true or false",
            FlagType::String => "a string",
            FlagType::Number => "a number",
            FlagType::Json => "a JSON value other than null",
        };
        Err(Error::invalid(
            path(),
            format!(
                "a {} flag serves {expected}, not {value}",
                value_type.as_str()
            ),
        ))
    }
}

/// The flags each flag's prerequisite rules name (at any time), with the path of the rule's
/// `flag` field.
fn edges(flag: &Flag, path: &FieldPath) -> Vec<(usize, FieldPath)> {
    let mut out = Vec::new();
    for (s, set) in flag.rule_sets.iter().enumerate() {
        for (r, rule) in set.iter().enumerate() {
            if let Action::Prerequisite { flag: target, .. } = rule.action {
                out.push((target, rule_path(flag, path, s, r).field("flag")));
            }
        }
    }
    out
}

/// Rejects every flag on a prerequisite cycle (naming one cycle through it) and every flag
/// whose chain of prerequisites is longer than [`MAX_PREREQUISITE_DEPTH`], so evaluation
/// always ends.
fn reject_cycles_and_deep_chains(flags: &mut [(Box<str>, FieldPath, Result<Flag, Error>)]) {
    let graph: Vec<Vec<(usize, FieldPath)>> = flags
        .iter()
        .map(|(_, path, f)| f.as_ref().map(|f| edges(f, path)).unwrap_or_default())
        .collect();
    let keys: Vec<&str> = flags.iter().map(|(k, _, _)| &**k).collect();
    let mut rejected: Vec<Option<Error>> = vec![None; flags.len()];
    for component in strongly_connected(&graph) {
        let Some(&first) = component.iter().min() else {
            continue;
        };
        let self_loop = graph
            .get(first)
            .is_some_and(|g| g.iter().any(|(t, _)| *t == first));
        if component.len() < 2 && !self_loop {
            continue;
        }
        let members: std::collections::HashSet<usize> = component.iter().copied().collect();
        let cycle: Vec<String> = one_cycle(first, &members, &graph)
            .into_iter()
            .map(|n| keys.get(n).copied().unwrap_or("?").to_owned())
            .collect();
        for &member in &component {
            // The member's first prerequisite inside the cycle's component.
            let path = graph
                .get(member)
                .and_then(|g| g.iter().find(|(t, _)| members.contains(t)))
                .map(|(_, p)| p.clone())
                .unwrap_or_else(FieldPath::root);
            if let Some(slot) = rejected.get_mut(member) {
                *slot = Some(Error::PrerequisiteCycle {
                    path,
                    cycle: cycle.clone(),
                });
            }
        }
    }
    // Depth: the longest chain below each flag not on a cycle (memoised, iteratively).
    let mut depth: Vec<Option<usize>> = vec![None; flags.len()];
    for start in 0..flags.len() {
        chain_depth(start, &graph, &rejected, &mut depth);
    }
    for (i, d) in depth.iter().enumerate() {
        if d.is_some_and(|d| d > MAX_PREREQUISITE_DEPTH) {
            if let (Some(slot), Some((_, path, _))) = (rejected.get_mut(i), flags.get(i)) {
                slot.get_or_insert(Error::LimitExceeded {
                    path: path.field("rules"),
                    message: format!("a chain of more than {MAX_PREREQUISITE_DEPTH} prerequisites"),
                });
            }
        }
    }
    for (slot, error) in flags.iter_mut().zip(rejected) {
        if let (Some(error), Ok(_)) = (error, &slot.2) {
            slot.2 = Err(error);
        }
    }
}

/// The strongly connected components of the graph (Tarjan's algorithm, without recursion).
fn strongly_connected(graph: &[Vec<(usize, FieldPath)>]) -> Vec<Vec<usize>> {
    let n = graph.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0usize;
    for root in 0..n {
        if index.get(root) != Some(&usize::MAX) {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(node, next)) = work.last() {
            if next == 0 && index.get(node) == Some(&usize::MAX) {
                if let (Some(i), Some(l), Some(o)) = (
                    index.get_mut(node),
                    low.get_mut(node),
                    on_stack.get_mut(node),
                ) {
                    (*i, *l, *o) = (counter, counter, true);
                }
                counter += 1;
                stack.push(node);
            }
            let edge = graph.get(node).and_then(|g| g.get(next)).map(|(t, _)| *t);
            if let Some(last) = work.last_mut() {
                last.1 += 1;
            }
            match edge {
                Some(to) if index.get(to) == Some(&usize::MAX) => work.push((to, 0)),
                Some(to) => {
                    if on_stack.get(to) == Some(&true) {
                        let to_index = index.get(to).copied().unwrap_or(usize::MAX);
                        if let Some(l) = low.get_mut(node) {
                            *l = (*l).min(to_index);
                        }
                    }
                }
                None => {
                    work.pop();
                    let node_low = low.get(node).copied().unwrap_or(0);
                    if let Some(&(parent, _)) = work.last() {
                        if let Some(l) = low.get_mut(parent) {
                            *l = (*l).min(node_low);
                        }
                    }
                    if index.get(node) == Some(&node_low) {
                        let mut component = Vec::new();
                        while let Some(member) = stack.pop() {
                            if let Some(o) = on_stack.get_mut(member) {
                                *o = false;
                            }
                            component.push(member);
                            if member == node {
                                break;
                            }
                        }
                        components.push(component);
                    }
                }
            }
        }
    }
    components
}

/// One cycle through `start` inside its component, as the flags in order, ending back at
/// `start` (breadth-first, so the shortest).
fn one_cycle(
    start: usize,
    component: &std::collections::HashSet<usize>,
    graph: &[Vec<(usize, FieldPath)>],
) -> Vec<usize> {
    let mut came_from: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for (to, _) in graph.get(node).map_or(&[][..], Vec::as_slice) {
            if !component.contains(to) {
                continue;
            }
            if *to == start {
                let mut middle = Vec::new();
                let mut at = node;
                while at != start {
                    middle.push(at);
                    at = came_from.get(&at).copied().unwrap_or(start);
                }
                middle.reverse();
                let mut path = vec![start];
                path.extend(middle);
                path.push(start);
                return path;
            }
            if let std::collections::hash_map::Entry::Vacant(e) = came_from.entry(*to) {
                e.insert(node);
                queue.push_back(*to);
            }
        }
    }
    vec![start, start]
}

/// The number of flags in the longest prerequisite chain from `start` (1 for a flag with no
/// prerequisite). Flags on a cycle count as 1 (they are rejected already).
fn chain_depth(
    start: usize,
    graph: &[Vec<(usize, FieldPath)>],
    rejected: &[Option<Error>],
    memo: &mut [Option<usize>],
) {
    let mut stack = vec![(start, false)];
    while let Some((node, expanded)) = stack.pop() {
        if memo.get(node).is_some_and(Option::is_some) {
            continue;
        }
        let on_cycle = rejected.get(node).is_some_and(Option::is_some);
        let children = graph.get(node).map_or(&[][..], Vec::as_slice);
        if on_cycle || children.is_empty() {
            if let Some(m) = memo.get_mut(node) {
                *m = Some(1);
            }
            continue;
        }
        if expanded {
            let deepest = children
                .iter()
                .map(|(c, _)| memo.get(*c).copied().flatten().unwrap_or(1))
                .max()
                .unwrap_or(0);
            if let Some(m) = memo.get_mut(node) {
                *m = Some(deepest.saturating_add(1));
            }
        } else {
            stack.push((node, true));
            for (c, _) in children {
                if memo.get(*c).is_some_and(Option::is_none) {
                    stack.push((*c, false));
                }
            }
        }
    }
}
