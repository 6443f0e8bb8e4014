//! What makes this a mock rather than a replica: isolated sessions of state, the request
//! journal, forced responses, latency and faults (`Prefer` and the command line), and
//! fixture reloading.

pub mod journal;
pub mod sessions;

pub(crate) mod catalogue;
pub(crate) mod deadline;
pub(crate) mod fault;
pub(crate) mod guard;
pub(crate) mod layer;
pub(crate) mod prefer;
pub(crate) mod redact;
pub(crate) mod watch;

/// The header that picks an isolated session of state.
pub const SESSION_HEADER: &str = "X-Mock-Session";
