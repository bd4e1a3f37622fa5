//! The server's domain layer: what a request or a background job asks of the system, with its
//! rules, written once. Route handlers parse a request, call one function here and map its
//! error; the jobs (`crate::jobs`) call the same functions.
//!
//! - [`assign`]: assignment through the server, sticky in the cache;
//! - [`changes`]: config changes (validate with core, audit, publish), and reading objects;
//! - [`evaluate`]: flag evaluation through the server, sticky in the cache like assignment;
//! - [`keys`]: API keys (create, list, revoke) and the key cache kept in step;
//! - [`events`]: storing a batch of events and waking the rollup job.

pub mod assign;
pub mod changes;
pub mod environments;
pub mod evaluate;
pub mod events;
pub mod keys;
pub mod people;
pub mod projects;
pub mod sso;
pub mod usage;
pub mod webhooks;
