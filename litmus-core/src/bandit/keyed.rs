//! Arms by key under one policy, with the bandit's own seeded generator: what the bindings
//! offer as `Bandit` (Python's `litmus.bandit.Bandit`, the npm package's `bandit.Bandit`).

use crate::error::Error;
use crate::rng::Xoshiro256PlusPlus;

use super::{Arm, Policy};

/// A multi-armed bandit over named arms: choose, reward, weights.
#[derive(Debug, Clone)]
pub struct KeyedBandit {
    policy: Policy,
    keys: Vec<String>,
    arms: Vec<Arm>,
    rng: Xoshiro256PlusPlus,
}

impl KeyedBandit {
    /// A bandit over the arms `keys`, choosing with `policy` and a generator seeded with
    /// `seed`.
    ///
    /// # Errors
    /// `invalid_argument` when `keys` is empty or repeats a key.
    pub fn new(policy: Policy, keys: Vec<String>, seed: u64) -> Result<Self, Error> {
        let mut sorted: Vec<&String> = keys.iter().collect();
        sorted.sort();
        sorted.dedup();
        if keys.is_empty() || sorted.len() != keys.len() {
            return Err(Error::argument("keys", "must be distinct and not empty"));
        }
        Ok(KeyedBandit {
            policy,
            arms: vec![Arm::new(); keys.len()],
            keys,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        })
    }

    /// The arm keys, in order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Each arm's state, in the order of [`KeyedBandit::keys`].
    pub fn arms(&self) -> &[Arm] {
        &self.arms
    }

    /// The arm to play for one request (its key).
    ///
    /// # Errors
    /// As [`Policy::choose`].
    pub fn choose(&mut self) -> Result<&str, Error> {
        let i = self.policy.choose(&self.arms, &mut self.rng)?;
        Ok(self.keys.get(i).map_or("", String::as_str))
    }

    /// Records a reward for the arm `key`.
    ///
    /// # Errors
    /// `invalid_argument` for an unknown key, and as [`Arm::update`].
    pub fn update(&mut self, key: &str, reward: f64) -> Result<(), Error> {
        let i = self
            .keys
            .iter()
            .position(|k| k == key)
            .ok_or_else(|| Error::argument("key", format!("no arm {key:?}")))?;
        match self.arms.get_mut(i) {
            Some(arm) => arm.update(reward),
            None => Err(Error::argument("key", format!("no arm {key:?}"))),
        }
    }

    /// The probability the policy picks each arm, in the order of [`KeyedBandit::keys`]
    /// (see [`Policy::weights`]).
    ///
    /// # Errors
    /// As [`Policy::weights`].
    pub fn weights(&self, draws: usize, seed: u64) -> Result<Vec<f64>, Error> {
        self.policy.weights(&self.arms, draws, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bandit::{Options, Rule};

    fn policy() -> Option<Policy> {
        let rule = Rule::ThompsonBeta {
            prior_alpha: 1.0,
            prior_beta: 1.0,
        };
        Policy::new(rule, Options::default()).ok()
    }

    #[test]
    fn keys_must_be_distinct_and_present() {
        let Some(p) = policy() else { return };
        assert!(KeyedBandit::new(p, vec![], 0).is_err());
        assert!(KeyedBandit::new(p, vec!["a".into(), "a".into()], 0).is_err());
        let mut b =
            KeyedBandit::new(p, vec!["a".into(), "b".into()], 7).unwrap_or_else(|_| unreachable!());
        assert!(b.update("c", 1.0).is_err());
        for _ in 0..200 {
            assert!(b.update("b", 1.0).is_ok());
            assert!(b.update("a", 0.0).is_ok());
        }
        assert_eq!(b.choose().ok(), Some("b"));
        let w = b.weights(1000, 1).unwrap_or_default();
        assert_eq!(w.len(), 2);
        assert!(w.get(1).copied().unwrap_or(0.0) > 0.99);
    }
}
