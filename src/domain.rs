//! The documents of a Rocket.Chat workspace that the contacts routes touch, the request
//! bodies, and the business rules.

pub mod account;
pub mod contact;
pub mod livechat;
pub mod paging;
pub mod request;
pub mod rules;
pub mod search;
pub mod workspace;
