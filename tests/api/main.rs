//! The API as a client sees it: every test starts the real server on a free port.

mod conflicts;
mod differential;
mod fixtures;
mod helpers;
mod openapi;
mod pipeline;
mod update;
