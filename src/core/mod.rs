//! The pure-Rust core: every decision wxsession makes lives here, with no
//! wasm-bindgen types and no I/O, so it runs under plain `cargo test` with a
//! virtual clock. Hosts (the wasm boundary, the JS glue) execute the effects
//! this core asks for and report back what happened.

pub mod config;
pub mod effects;
pub mod error;
pub mod events;
pub mod json;
pub mod json_object;
pub mod options;
pub mod random;
pub mod server;
pub mod session;
pub mod signature;
pub mod single_flight;
pub mod store;
pub mod token;
pub mod url;
pub mod wxcrypt;

pub use config::{CheckSessionPolicy, SessionConfig};
pub use error::{Error, ErrorCode};
pub use events::{Event, EventKind, Transfer};
pub use options::{ClientOptions, HostKind, ResolvedOptions};
pub use session::{Effect, LoginOutcome, ReqId, Session, SessionState};
