//! Publishing a policy's allocation as the variant weights of a `bandit` experiment, so that
//! every SDK assigns by hash exactly as for an A/B test and the server only has to push a new
//! config version.

use crate::config::wire::{Kind, WireConfig};
use crate::error::{Error, FieldPath};

/// Sets the variant weights of the `bandit` experiment `experiment_key` in `config` to
/// `weights`, one per variant in the order the variants are listed (the order of the arms
/// given to [`super::Policy::weights`]).
///
/// Nothing changes on error: an unknown key gives `unknown_reference`, an experiment of another
/// kind `invalid_value`, and a weight list of the wrong length or with a negative, NaN or
/// infinite weight (or a zero total) `invalid_argument`.
pub fn publish_weights(
    config: &mut WireConfig,
    experiment_key: &str,
    weights: &[f64],
) -> Result<(), Error> {
    let experiments = FieldPath::root().field("experiments");
    let (index, experiment) = config
        .experiments
        .iter_mut()
        .enumerate()
        .find(|(_, e)| e.key == experiment_key)
        .ok_or_else(|| Error::UnknownReference {
            path: experiments.clone(),
            key: experiment_key.to_owned(),
        })?;
    if experiment.kind != Kind::Bandit {
        return Err(Error::InvalidValue {
            path: experiments.item(index).field("kind"),
            message: format!(
                "weights are published to bandit experiments only, not {}",
                experiment.kind.as_str()
            ),
        });
    }
    if weights.len() != experiment.variants.len() {
        return Err(Error::argument(
            "weights",
            format!(
                "{} weights for {} variants",
                weights.len(),
                experiment.variants.len()
            ),
        ));
    }
    if let Some(bad) = weights.iter().find(|w| !(w.is_finite() && **w >= 0.0)) {
        return Err(Error::argument(
            "weights",
            format!("{bad} is not a finite weight >= 0"),
        ));
    }
    if weights.iter().sum::<f64>() <= 0.0 {
        return Err(Error::argument("weights", "the total must be positive"));
    }
    for (variant, &weight) in experiment.variants.iter_mut().zip(weights) {
        variant.weight = weight;
    }
    Ok(())
}
