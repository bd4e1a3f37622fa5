//! Assignment: the engine, compiled experiments, targeting, and the result of an assignment.

pub(crate) mod assignment;
pub(crate) mod engine;
pub(crate) mod experiment;
pub mod holdout_exposure;
pub(crate) mod key_index;
pub(crate) mod targeting;
pub(crate) mod version;

pub use assignment::{Assignment, Reason};
pub use engine::Engine;
pub use experiment::{Experiment, Variant};
pub use targeting::MissKind;
