//! The mini-program login session as a state machine that performs no I/O.
//!
//! A host drives it: it calls `request`, runs each `Effect` the machine queues
//! (`wx.checkSession`, `wx.login` + code exchange, the HTTP request) and
//! reports the outcome back. Because every decision happens here, single
//! flight, expiry and the bounded re-login loop are tested with a virtual
//! clock in plain `cargo test`, and every host gets the same behaviour.

use crate::core::config::{CheckSessionPolicy, SessionConfig};
use crate::core::error::{Error, ErrorCode};
use crate::core::events::{EventKind, Transfer};
use crate::core::single_flight::{Flight, Joined};
use crate::core::token::{Loaded, TokenRecord};
use std::collections::VecDeque;

pub use crate::core::effects::{Effect, LoginOutcome, ReqId, SessionState, MAX_REQ_ID};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Send,
    LoginOnly,
}

#[derive(Debug)]
struct Pending {
    purpose: Purpose,
    kind: Transfer,
    replays: u32,
    sent_generation: Option<u32>,
    /// When the attempt in flight was handed to the host; None while the
    /// request waits for a login or a check.
    sent_at: Option<u64>,
}

#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    token: Option<TokenRecord>,
    /// Bumped whenever a token is adopted, so a 401 can tell whether it was
    /// caused by the current token or by one that was already replaced.
    generation: u32,
    /// `wx.checkSession` passed, or a fresh `wx.login` made it moot.
    checked: bool,
    login: Flight<ReqId>,
    /// `logout()` ran while a login was in flight: its token must not be kept.
    login_stale: bool,
    /// Why the last login failed, for the messages of the waiters it rejects.
    login_error: Option<Error>,
    check: Flight<ReqId>,
    /// Logins started so far, and how many had started when the running
    /// check began: a check answers for the WeChat session it saw, and a
    /// wx.login since then has replaced that session.
    logins_started: u32,
    check_started_after: u32,
    /// Sorted by id (ids only grow): a Vec keeps a second map type out of the
    /// mini-program's wasm, and lookups are binary searches.
    pending: Vec<(ReqId, Pending)>,
    next_req: ReqId,
    effects: VecDeque<Effect>,
    reported: SessionState,
    /// For the reports: when the running login and check began, whether the
    /// login replaces a token that stopped working, and how many logins
    /// failed since the last that succeeded.
    login_started: u64,
    login_kind: EventKind,
    login_failures: u32,
    check_started: u64,
    token_rejected: bool,
}

impl Session {
    pub fn new(config: SessionConfig, stored: Option<&str>, now: u64) -> Session {
        let mut s = Session {
            config,
            token: None,
            generation: 0,
            checked: false,
            login: Flight::default(),
            login_stale: false,
            login_error: None,
            check: Flight::default(),
            logins_started: 0,
            check_started_after: 0,
            pending: Vec::new(),
            next_req: 0,
            effects: VecDeque::new(),
            reported: SessionState::Anonymous,
            login_started: 0,
            login_kind: EventKind::Login,
            login_failures: 0,
            check_started: 0,
            token_rejected: false,
        };
        s.restore(stored, now);
        s
    }

    /// Adopts the token a previous app lifecycle stored, if it is still good.
    /// Returns whether it was adopted.
    pub fn restore(&mut self, stored: Option<&str>, now: u64) -> bool {
        match TokenRecord::load(stored) {
            Loaded::Valid(t) if t.is_fresh(now, self.config.expiry_margin_ms) => {
                self.token = Some(t);
                self.generation = self.generation.wrapping_add(1);
                self.reported = self.state();
                true
            }
            // Expired, corrupted or foreign: anonymous; the next login overwrites it.
            _ => false,
        }
    }

    pub fn state(&self) -> SessionState {
        if self.login.running().is_some() {
            SessionState::LoggingIn
        } else if self.token.is_some() {
            SessionState::Authenticated
        } else {
            SessionState::Anonymous
        }
    }

    /// The token of the current generation, for the request header.
    pub fn token(&self) -> Option<&str> {
        self.token.as_ref().map(|t| t.token.as_str())
    }

    pub fn generation(&self) -> u32 {
        self.generation
    }

    pub fn expires_at(&self) -> Option<u64> {
        self.token.as_ref().and_then(|t| t.expires_at)
    }

    pub fn persisted_value(&self) -> Option<String> {
        self.token.as_ref().map(TokenRecord::to_json)
    }

    pub fn last_login_error(&self) -> Option<&Error> {
        self.login_error.as_ref()
    }

    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    pub fn next_effect(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// Pops the queue's only effect if `want` accepts it: lets a host take
    /// the common case (send now, resolve now) without draining a list.
    pub fn take_only(&mut self, want: impl Fn(&Effect) -> bool) -> Option<Effect> {
        if self.effects.len() == 1 && want(&self.effects[0]) {
            self.effects.pop_front()
        } else {
            None
        }
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        self.effects.drain(..).collect()
    }

    /// A business request wants to go out. Returns its id.
    pub fn request(&mut self, now: u64) -> ReqId {
        self.transfer(Transfer::Request, now)
    }

    /// A request, upload or download wants to go out: one rule for all.
    pub fn transfer(&mut self, kind: Transfer, now: u64) -> ReqId {
        let id = self.add(Purpose::Send, kind);
        self.route(id, now);
        self.report_state();
        id
    }

    /// `login()`: settle once logged in; with `force`, always with a new login.
    pub fn login(&mut self, force: bool, now: u64) -> ReqId {
        let id = self.add(Purpose::LoginOnly, Transfer::Request);
        if force {
            self.token = None;
            self.token_rejected = false;
            self.join_login(id, now);
        } else {
            self.route(id, now);
        }
        self.report_state();
        id
    }

    pub fn logout(&mut self) {
        self.token = None;
        self.token_rejected = false;
        self.checked = false;
        if self.login.running().is_some() {
            self.login_stale = true;
        }
        self.effects.push_back(Effect::ClearStorage);
        self.report_state();
    }

    pub fn check_session_done(&mut self, check: u32, ok: bool, now: u64) {
        let Some(waiters) = self.check.complete(check) else {
            return;
        };
        self.report_check(ok, now);
        if self.logins_started != self.check_started_after {
            // A login started while this check ran: its wx.login renewed the
            // session the check was about, so the answer is moot either way.
        } else if ok {
            self.checked = true;
        } else {
            // WeChat's session is gone, so whatever the backend holds for this
            // user is suspect: log in again before anything is sent.
            self.token = None;
            self.token_rejected = true;
            self.checked = false;
        }
        for id in waiters {
            if self.token_is_fresh(now) && self.login.running().is_none() {
                self.dispatch(id, now);
            } else {
                self.route(id, now);
            }
        }
        self.report_state();
    }

    pub fn login_done(&mut self, login: u32, outcome: LoginOutcome<'_>, now: u64) {
        let Some(waiters) = self.login.complete(login) else {
            return;
        };
        let result = match outcome {
            LoginOutcome::Exchanged { token, expires_in } => {
                TokenRecord::from_exchange(token, expires_in, now)
            }
            LoginOutcome::Failed(error) => Err(error),
        };
        self.report_login(result.as_ref().err().map(|e| e.code), now);
        if std::mem::take(&mut self.login_stale) {
            // Logged out meanwhile: the new token belongs to nobody. Waiters
            // still want a session, so they start a fresh login.
            for id in waiters {
                self.route(id, now);
            }
            self.report_state();
            return;
        }
        match result {
            Ok(record) => {
                self.token = Some(record);
                self.token_rejected = false;
                self.generation = self.generation.wrapping_add(1);
                self.checked = true;
                self.effects.push_back(Effect::Persist);
                for id in waiters {
                    self.dispatch(id, now);
                }
            }
            Err(error) => {
                for id in waiters {
                    self.settle(id, Err((error.code, true)));
                }
                self.login_error = Some(error);
            }
        }
        self.report_state();
    }

    /// The server answered request `req` with `status`.
    pub fn response(&mut self, req: ReqId, status: u16, now: u64) {
        let relogin = self.config.relogin_on.contains(&status);
        let error = if (200..300).contains(&status) {
            None
        } else if relogin {
            Some(ErrorCode::Unauthorized)
        } else {
            Some(ErrorCode::HttpError)
        };
        if !self.report_attempt(req, Some(status), error, now) {
            return;
        }
        let Some(p) = find(&mut self.pending, req) else {
            return;
        };
        if error.is_none() {
            self.settle(req, Ok(()));
        } else if relogin {
            let replay = p.replays < self.config.max_relogin;
            p.replays += 1;
            let sent_with = p.sent_generation;
            // Drop the token only if this request carried it: a 401 for a
            // token already replaced must not throw away the new one.
            if self.token.is_some() && sent_with == Some(self.generation) {
                self.token = None;
                self.token_rejected = true;
                self.effects.push_back(Effect::ClearStorage);
            }
            if replay {
                self.route(req, now);
            } else {
                self.settle(req, Err((ErrorCode::Unauthorized, false)));
            }
        } else {
            self.settle(req, Err((ErrorCode::HttpError, false)));
        }
        self.report_state();
    }

    /// The request never got a status: network error or timeout.
    pub fn request_failed(&mut self, req: ReqId, code: ErrorCode, now: u64) {
        if self.report_attempt(req, None, Some(code), now) {
            self.settle(req, Err((code, false)));
            self.report_state();
        }
    }

    /// The caller gave up on `req` (an upload's or download's `abort()`):
    /// it rejects ABORTED at once, whether it waits for a login or is in
    /// flight (the host then stops that). A login it waited for goes on for
    /// the others. Returns whether `req` was still pending.
    pub fn abort(&mut self, req: ReqId, now: u64) -> bool {
        if !self.report_attempt(req, None, Some(ErrorCode::Aborted), now) {
            return false;
        }
        self.settle(req, Err((ErrorCode::Aborted, false)));
        self.report_state();
        true
    }

    fn add(&mut self, purpose: Purpose, kind: Transfer) -> ReqId {
        // Ids stay below 2^31 so hosts may use the top bit as a flag.
        self.next_req = if self.next_req >= MAX_REQ_ID {
            1
        } else {
            self.next_req + 1
        };
        let id = self.next_req;
        let p = Pending {
            purpose,
            kind,
            replays: 0,
            sent_generation: None,
            sent_at: None,
        };
        // Ids grow, so this is a push except after a wrap at 2^31.
        let at = self.pending.partition_point(|(k, _)| *k < id);
        self.pending.insert(at, (id, p));
        id
    }

    fn token_is_fresh(&self, now: u64) -> bool {
        matches!(&self.token, Some(t) if t.is_fresh(now, self.config.expiry_margin_ms))
    }

    /// Decides the next step for a request that has no token to send yet.
    fn route(&mut self, id: ReqId, now: u64) {
        if self.login.running().is_some() {
            self.join_login(id, now);
        } else if !self.token_is_fresh(now) {
            self.token = None;
            self.join_login(id, now);
        } else if self.needs_check() {
            if let Joined::Started(check) = self.check.join(id) {
                self.check_started_after = self.logins_started;
                self.check_started = now;
                self.effects.push_back(Effect::CheckSession { check });
            }
        } else {
            self.dispatch(id, now);
        }
    }

    fn needs_check(&self) -> bool {
        match self.config.check_session {
            CheckSessionPolicy::Never => false,
            CheckSessionPolicy::Once => !self.checked,
            CheckSessionPolicy::Always => true,
        }
    }

    fn join_login(&mut self, id: ReqId, now: u64) {
        if let Joined::Started(login) = self.login.join(id) {
            self.logins_started = self.logins_started.wrapping_add(1);
            self.login_started = now;
            self.login_kind = if self.token_rejected {
                EventKind::Relogin
            } else {
                EventKind::Login
            };
            self.effects.push_back(Effect::Login { login });
        }
    }

    fn dispatch(&mut self, id: ReqId, now: u64) {
        let Some(p) = find(&mut self.pending, id) else {
            return;
        };
        match p.purpose {
            Purpose::Send => {
                p.sent_generation = Some(self.generation);
                p.sent_at = Some(now);
                self.effects.push_back(Effect::Send {
                    req: id,
                    generation: self.generation,
                });
            }
            Purpose::LoginOnly => self.settle(id, Ok(())),
        }
    }

    fn settle(&mut self, id: ReqId, result: Result<(), (ErrorCode, bool)>) {
        let Ok(i) = self.pending.binary_search_by_key(&id, |(k, _)| *k) else {
            return;
        };
        self.pending.remove(i);
        self.effects.push_back(match result {
            Ok(()) => Effect::Resolve { req: id },
            Err((code, login)) => Effect::Reject {
                req: id,
                code,
                login,
            },
        });
    }

    fn report_state(&mut self) {
        let now = self.state();
        if now != self.reported {
            self.reported = now;
            self.effects.push_back(Effect::State(now));
        }
    }
}

fn find(pending: &mut [(ReqId, Pending)], id: ReqId) -> Option<&mut Pending> {
    let i = pending.binary_search_by_key(&id, |(k, _)| *k).ok()?;
    Some(&mut pending[i].1)
}

#[path = "session_report.rs"]
mod report;

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "session_events_tests.rs"]
mod events_tests;
