//! The API as a client sees it: every test starts the real server on a free port.

mod account;
mod agent;
mod browsers;
mod conflicts;
mod contacts;
mod control;
mod differential;
mod fixtures;
mod forced;
mod helpers;
mod livechat;
mod openapi;
mod pipeline;
mod process;
mod safety;
mod sessions;
mod update;
mod versions;
mod watch;
