//! What `onEvent` hears: one report per backend call attempt, login and
//! `wx.checkSession`, decided by the session machine. A report says what
//! happened and how long it took, never with what: no token, login code or
//! body is part of it (the host adds the URL without its query).

use crate::core::effects::ReqId;
use crate::core::error::ErrorCode;

/// What a request moves. All three follow one rule (login first and shared,
/// the token only to the backend's origin, a `reloginOn` status replays
/// once after one shared re-login); the kind only names their reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Transfer {
    Request = 0,
    Upload = 1,
    Download = 2,
}

impl Transfer {
    pub fn from_u8(n: u8) -> Option<Transfer> {
        [Transfer::Request, Transfer::Upload, Transfer::Download]
            .into_iter()
            .find(|t| *t as u8 == n)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum EventKind {
    Request = 0,
    Upload = 1,
    Download = 2,
    /// A login with no token to replace: the first, after an expiry, a
    /// logout or `login({ force: true })`.
    Login = 3,
    /// A login because the token stopped working: a `reloginOn` status, or
    /// a failed `wx.checkSession`.
    Relogin = 4,
    CheckSession = 5,
}

impl From<Transfer> for EventKind {
    fn from(t: Transfer) -> EventKind {
        match t {
            Transfer::Request => EventKind::Request,
            Transfer::Upload => EventKind::Upload,
            Transfer::Download => EventKind::Download,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The request whose attempt this was (the host knows its URL); 0 for
    /// logins and checks.
    pub req: ReqId,
    /// The HTTP status the attempt got, if any.
    pub status: Option<u16>,
    /// Why the attempt did not succeed: the code it would reject with
    /// (`UNAUTHORIZED` for a `reloginOn` status even when it is replayed),
    /// or `SESSION_EXPIRED` for a failed `wx.checkSession`.
    pub error: Option<ErrorCode>,
    /// 1 for a first try; a replay after a re-login is 2. Logins count the
    /// attempts since the last one that succeeded.
    pub attempt: u32,
    pub duration_ms: u64,
}
