//! rocketchat-mock: a faithful mock of Rocket.Chat's Omnichannel Contacts REST API.

pub(crate) mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub(crate) mod json;
pub mod mock;
pub mod openapi;
pub(crate) mod routes;
pub mod startup;
pub mod store;
pub mod validation;
