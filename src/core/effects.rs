//! What the session machine and its host say to each other: the effects it
//! queues for the host to run, and the login outcome the host reports back.

use crate::core::error::{Error, ErrorCode};
use crate::core::events::Event;

pub type ReqId = u32;
pub const MAX_REQ_ID: ReqId = 0x7fff_ffff;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    Anonymous,
    LoggingIn,
    Authenticated,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Anonymous => "anonymous",
            SessionState::LoggingIn => "logging-in",
            SessionState::Authenticated => "authenticated",
        }
    }
}

/// Work the host must do, in queue order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Run `wx.checkSession`, then call `check_session_done(check, ok)`.
    CheckSession {
        check: u32,
    },
    /// Run `wx.login` and the code exchange, then call `login_done(login, …)`.
    Login {
        login: u32,
    },
    /// Send request `req` with the token of `generation` (see `token()`).
    Send {
        req: ReqId,
        generation: u32,
    },
    /// Settle `req` successfully (with the last response, for requests).
    Resolve {
        req: ReqId,
    },
    /// `login`: the failure came from the login this request waited for,
    /// not from its own response, so hosts can report the right details.
    Reject {
        req: ReqId,
        code: ErrorCode,
        login: bool,
    },
    /// Write `persisted_value()` to storage; a failed write may be ignored.
    Persist,
    ClearStorage,
    State(SessionState),
    /// Hand this to the `onEvent` hook (only with `report_events`).
    Report(Event),
}

/// What the host's login attempt produced.
#[derive(Debug, Clone)]
pub enum LoginOutcome<'a> {
    /// The exchange answered 2xx with this body; the core validates it.
    Exchanged {
        token: Option<&'a str>,
        expires_in: Option<f64>,
    },
    Failed(Error),
}
