//! Multi-armed bandits: arm state, policies (Thompson sampling, UCB1, KL-UCB,
//! epsilon-greedy) and their variates.
//!
//! Sticky assignment: a bandit experiment assigns by hash like any experiment, with its
//! variant weights rewritten from [`Policy::weights`] by [`publish_weights`]. Changing weights moves the units whose
//! variant bucket changes owner (`docs/spec/bucketing-v1.md`, section 6), so a unit keeps its
//! arm only if the application remembers it: the SDKs and the server keep first assignments in
//! a sticky-assignment store (in-process or Redis) keyed by (experiment, unit) and consult it
//! before the engine. Core stays pure and holds no such store.

pub mod arm;
mod best;
pub mod keyed;
pub mod policy;
pub mod publish;
pub mod replay;
pub mod sample;
pub mod simulate;
mod ziggurat;

pub use arm::Arm;
pub use keyed::KeyedBandit;
pub use policy::{Options, Policy, Rule};
pub use publish::publish_weights;
pub use replay::{LoggedPull, ReplayEstimate, replay};
pub use simulate::{Environment, RegretCurve, simulate};
