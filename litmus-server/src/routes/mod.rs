//! The HTTP routes: health, SDK delivery, assignment and the admin API.

pub mod admin;
pub mod assign;
pub mod auth;
pub mod dashboard;
pub mod environments;
pub mod events;
pub mod health;
pub mod keys;
pub mod live;
pub mod metrics;
pub mod projects;
pub mod results;
pub mod sdk;
pub mod sso;
pub mod usage;
pub mod users;
pub mod webhooks;
