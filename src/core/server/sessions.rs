//! App sessions: the server half of the mini-program login. `login` trades
//! a wx.login code for a new random token (the client's Bearer token); only
//! its SHA-256 is stored (`sess:<hash>`), with the user's openid, unionid and
//! the caller's data, under a TTL. Per user, `mp:<openid>` is wechat-jssdk's
//! MP session (openid, session_key, unionid) and `idx:<openid>` lists their
//! sessions, so `revokeUser` is one read and one batch. The session_key
//! stays in its record: no result, error or log line carries it.
//!
//! Every change to a user's sessions (login, renewal, revoke, revokeUser)
//! runs under the user's lock, and a renewal re-reads the session under it:
//! a revoke can never be undone by a renewal that read before it. Sessions
//! are read from the backend on every `verify` (one GET), never from a
//! process's memory, so a revoke in one process counts in all at once.

use super::guard::{Guard, Step};
use super::io::{Answer, Io, Out};
use super::tasks::Task;
use super::{Cx, Event, FlightKey, Next};
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::RawObject;
use crate::core::store::record::{json_str, object_text};
use crate::core::store::{Kind, Payload, Record};
use crate::core::wxcrypt::{decrypt_data, is_token_shaped, token_hash};

/// Sessions listed per user; a new one past this revokes the oldest.
pub const MAX_SESSIONS_PER_USER: usize = 20;

fn unauthorized(why: &str) -> Error {
    Error::new(ErrorCode::Unauthorized, why)
}

fn no_wechat() -> Error {
    Error::new(ErrorCode::BadConfig, "no Wechat is attached to this store")
}

fn user_lock(openid: &str) -> String {
    format!("lock:user:{openid}")
}

/// A record read past the cache: from the backend when there is one.
fn read<P: Payload>(cx: &Cx<P>, kind: Kind, id: &str) -> Result<Option<Record<P>>, Io> {
    if cx.settings.has_backend {
        return Err(Io::Get { key: kind.key(id) });
    }
    Ok(cx.store.record(kind, id, cx.now).cloned())
}

fn decoded<P: Payload>(kind: Kind, answer: Answer, now: u64) -> Result<Option<Record<P>>, Error> {
    match answer? {
        None => Ok(None),
        Some(raw) => Ok(Some(Record::decode(kind, raw)?).filter(|r| !r.is_expired(now))),
    }
}

fn text_of<P: Payload>(record: &Record<P>, field: &str) -> Option<String> {
    RawObject::parse(&record.payload.to_json())
        .ok()?
        .get_str(field)
        .filter(|s| !s.is_empty())
}

/// Used in the second half of its life: due for a sliding renewal.
fn used_late<P: Payload>(record: &Record<P>, now: u64, ttl: u64) -> bool {
    record
        .expiry()
        .is_some_and(|e| e.saturating_sub(now) < ttl / 2)
}

/// A user's sessions from their index: (token hash, created), oldest first.
/// The index is a JSON object read by the core's linear parser.
fn listed<P: Payload>(index: Option<&Record<P>>) -> Vec<(String, i64)> {
    let Some(obj) = index.and_then(|r| RawObject::parse(&r.payload.to_json()).ok()) else {
        return Vec::new();
    };
    let Some(map) = obj
        .get_raw("sessions")
        .and_then(|m| RawObject::parse(m).ok())
    else {
        return Vec::new();
    };
    let mut out: Vec<(String, i64)> = map
        .members()
        .filter(|(h, _)| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|(h, c)| (h.to_owned(), c.parse().unwrap_or(0)))
        .collect();
    out.sort_by_key(|(_, c)| *c);
    out
}

fn index_text(openid: &str, sessions: &[(String, i64)]) -> String {
    let map = object_text(
        &sessions
            .iter()
            .map(|(h, c)| (h.as_str(), c.to_string()))
            .collect::<Vec<_>>(),
    );
    object_text(&[("openid", json_str(openid)), ("sessions", map)])
}

/// Writes a record the core built. Without a backend, memory is the store.
/// With one, the record goes out as one SET of its own, never through the
/// cache's dirty states: a Store write of the same key (`setMPSession`)
/// keeps its own order and promise, and a session write that fails is never
/// sent again later by a flush, outside the user's lock. A clean copy in
/// memory (a `getMPSession` read) would be stale: it goes.
fn write_now<P: Payload>(cx: &mut Cx<P>, kind: Kind, id: &str, record: Record<P>) -> Option<Io> {
    if !cx.settings.has_backend {
        cx.store.put(kind, id, record, cx.now);
        return None;
    }
    cx.store.drop_clean(kind, id);
    Some(Io::Set {
        key: kind.key(id),
        value: record.encode(),
        ttl_ms: record.ttl_ms(cx.now),
    })
}

/// A session write was answered: a clean copy read while it was in flight
/// may predate it, so it goes too.
fn settle<P: Payload>(cx: &mut Cx<P>, kind: Kind, id: &str) {
    cx.store.drop_clean(kind, id);
}

/// How long a renewal waits for the user's lock: a renewal is optional (the
/// session is valid as read), so a busy lock (a login, a revoke, a holder
/// that died) skips it rather than holding the request; a later one renews.
const RENEWAL_LOCK_WAIT_MS: u64 = 200;

/// `verify` (renewing past half the ttl), and `decrypt`.
pub(crate) struct VerifyTask {
    hash: String,
    renew: bool,
    decrypt: Option<(String, String)>,
    st: VerifySt,
    /// Whose lock a renewal takes.
    openid: String,
    /// The session as first read, while a renewal is awaited.
    as_read: Option<String>,
    guard: Option<Guard>,
    /// The renewed session, and the result to hand back after unlocking.
    outcome: Option<Result<Out<String>, Error>>,
}

#[derive(PartialEq, Eq)]
enum VerifySt {
    /// A renewal flight, started by the first verify that needed it.
    Renewal,
    Reading,
    ReadingUser,
    Locking,
    Rereading,
    Renewing,
    Unlocking,
}

impl VerifyTask {
    pub fn new(
        token: &str,
        renew: bool,
        decrypt: Option<(String, String)>,
    ) -> Result<VerifyTask, Error> {
        if !is_token_shaped(token) {
            return Err(unauthorized("the token is missing or malformed"));
        }
        Ok(VerifyTask {
            hash: token_hash(token),
            renew,
            decrypt,
            st: VerifySt::Reading,
            openid: String::new(),
            as_read: None,
            guard: None,
            outcome: None,
        })
    }

    /// The renewal of one session, as a flight: every verify of it that
    /// crosses the half-life meanwhile waits for this one write.
    fn renewal(hash: String, openid: String) -> VerifyTask {
        VerifyTask {
            hash,
            renew: true,
            decrypt: None,
            st: VerifySt::Renewal,
            openid,
            as_read: None,
            guard: None,
            outcome: None,
        }
    }

    pub fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let Some(cfg) = cx.cfg else {
            return Next::Done(Err(no_wechat()));
        };
        let app_id = cfg.app_id.clone();
        let answer = match event {
            Event::Start => None,
            Event::Io(_, answer) => Some(answer),
            // The renewal this verify joined: its answer is this verify's,
            // but a renewal that could not be made (backend down, lock
            // busy) leaves the session as read: still valid.
            Event::Flight(result) => {
                return Next::Done(match (result, self.as_read.take()) {
                    (Err(e), Some(read)) if e.code != ErrorCode::Unauthorized => {
                        Ok(Out::Info(Some(P::from_json(&read))))
                    }
                    (result, _) => result,
                })
            }
        };
        let now = cx.now;
        match (&self.st, answer) {
            (VerifySt::Renewal, None) => {
                let mut guard = Guard::brief(user_lock(&self.openid), cx, RENEWAL_LOCK_WAIT_MS);
                let step = guard.acquire(cx);
                self.guard = Some(guard);
                self.locked(cx, Some(step))
            }
            (VerifySt::Reading, None) => match read(cx, Kind::AppSession, &self.hash) {
                Ok(record) => self.found(cx, record),
                Err(io) => Next::Io(io),
            },
            (VerifySt::Reading, Some(answer)) => match decoded(Kind::AppSession, answer, now) {
                Ok(record) => self.found(cx, record),
                Err(e) => Next::Done(Err(e)),
            },
            (VerifySt::ReadingUser, Some(answer)) => match decoded(Kind::MpSession, answer, now) {
                Ok(user) => self.decrypt_with(&app_id, user),
                Err(e) => Next::Done(Err(e)),
            },
            (VerifySt::Locking, Some(answer)) => {
                let step = self.guard.as_mut().map(|g| g.answered(cx, answer));
                self.locked(cx, step)
            }
            (VerifySt::Rereading, Some(answer)) => {
                match decoded::<P>(Kind::AppSession, answer, now) {
                    Ok(record) => self.renew_under_lock(cx, record),
                    Err(e) => self.finish(cx, Err(e)),
                }
            }
            (VerifySt::Renewing, Some(answer)) => {
                settle(cx, Kind::AppSession, &self.hash);
                // A failed renewal leaves the session as it was: still valid,
                // with the expiry it has in the store.
                let result = match (answer, self.as_read.take()) {
                    (Err(_), Some(before)) => Ok(Out::Info(Some(before))),
                    _ => self
                        .outcome
                        .take()
                        .unwrap_or_else(|| Err(unauthorized("lost renewal"))),
                };
                self.finish(cx, result)
            }
            (VerifySt::Unlocking, Some(_)) => self.done(),
            _ => Next::Done(Err(unauthorized("a session step arrived out of order"))),
        }
    }

    fn found<P: Payload>(&mut self, cx: &mut Cx<P>, record: Option<Record<P>>) -> Next<P> {
        let Some(record) = record else {
            return Next::Done(Err(unauthorized(
                "the session is unknown, expired or revoked",
            )));
        };
        let Some(cfg) = cx.cfg else {
            return Next::Done(Err(no_wechat()));
        };
        if self.decrypt.is_some() {
            let Some(openid) = text_of(&record, "openid") else {
                return Next::Done(Err(unauthorized("the session names no user")));
            };
            let app_id = cfg.app_id.clone();
            self.st = VerifySt::ReadingUser;
            return match read(cx, Kind::MpSession, &openid) {
                Ok(user) => self.decrypt_with(&app_id, user),
                Err(io) => Next::Io(io),
            };
        }
        if !(self.renew && cfg.session_renew && used_late(&record, cx.now, cfg.session_ttl_ms)) {
            return Next::Done(Ok(Out::Info(Some(record.payload))));
        }
        // Sliding expiry, under the user's lock and only if the session is
        // still there when read again under it (a revoke may have won).
        let openid = text_of(&record, "openid").unwrap_or_default();
        let renewal = VerifyTask::renewal(self.hash.clone(), openid);
        self.as_read = Some(record.payload.to_json());
        Next::Wait(
            FlightKey::Renew(self.hash.clone()),
            Task::Verify(Box::new(renewal)),
        )
    }

    fn locked<P: Payload>(&mut self, cx: &mut Cx<P>, step: Option<Step>) -> Next<P> {
        match step {
            Some(Step::Held) => match read(cx, Kind::AppSession, &self.hash) {
                Ok(record) => self.renew_under_lock(cx, record),
                Err(io) => {
                    self.st = VerifySt::Rereading;
                    Next::Io(io)
                }
            },
            Some(Step::Io(io)) => {
                self.st = VerifySt::Locking;
                Next::Io(io)
            }
            Some(Step::Failed(e)) => Next::Done(Err(e)),
            None => Next::Done(Err(unauthorized("lost lock"))),
        }
    }

    fn renew_under_lock<P: Payload>(
        &mut self,
        cx: &mut Cx<P>,
        record: Option<Record<P>>,
    ) -> Next<P> {
        let Some(record) = record else {
            return self.finish(
                cx,
                Err(unauthorized("the session is unknown, expired or revoked")),
            );
        };
        let ttl = cx.cfg.map_or(0, |c| c.session_ttl_ms);
        let now = cx.now;
        // Renewed by another process while this one waited for the lock, or
        // a lease too short now for the write: the session stays as it is.
        let lease = self.guard.as_ref().is_some_and(|g| g.lease_lasts(cx));
        if !used_late(&record, now, ttl) || !lease {
            let payload = record.payload.to_json();
            return self.finish(cx, Ok(Out::Info(Some(payload))));
        }
        let update = object_text(&[("expiresAt", (now + ttl).to_string())]);
        let renewed = match record.merged(Kind::AppSession, &update, now) {
            Ok(r) => r,
            Err(_) => return self.finish(cx, Ok(Out::Info(Some(record.payload.to_json())))),
        };
        let payload = renewed.payload.to_json();
        match write_now(cx, Kind::AppSession, &self.hash, renewed) {
            Some(io) => {
                self.outcome = Some(Ok(Out::Info(Some(payload))));
                self.as_read = Some(record.payload.to_json());
                self.st = VerifySt::Renewing;
                Next::Io(io)
            }
            None => self.finish(cx, Ok(Out::Info(Some(payload)))),
        }
    }

    /// Releases the lock, then resolves with `result` (payloads as JSON
    /// text here; `done` turns them back into payloads).
    fn finish<P: Payload>(
        &mut self,
        cx: &mut Cx<P>,
        result: Result<Out<String>, Error>,
    ) -> Next<P> {
        self.outcome = Some(result);
        match self.guard.as_mut().and_then(|g| g.release(cx)) {
            Some(io) => {
                self.st = VerifySt::Unlocking;
                Next::Io(io)
            }
            None => self.done(),
        }
    }

    fn done<P: Payload>(&mut self) -> Next<P> {
        Next::Done(match self.outcome.take() {
            Some(Ok(Out::Info(Some(text)))) => Ok(Out::Info(Some(P::from_json(&text)))),
            Some(Err(e)) => Err(e),
            _ => Err(unauthorized("lost result")),
        })
    }

    fn decrypt_with<P: Payload>(&mut self, app_id: &str, user: Option<Record<P>>) -> Next<P> {
        // Without the user's session_key nothing can be decrypted until they
        // log in again: UNAUTHORIZED sends the client to do exactly that.
        let Some(session_key) = user.as_ref().and_then(|u| text_of(u, "session_key")) else {
            return Next::Done(Err(unauthorized(
                "no session_key is stored for this user: log in again",
            )));
        };
        let (data, iv) = self.decrypt.take().unwrap_or_default();
        Next::Done(decrypt_data(&data, &iv, &session_key, app_id).map(Out::Reply))
    }
}

#[path = "sessions_list.rs"]
mod list;
#[path = "sessions_revoke.rs"]
mod revoke;
#[path = "sessions_write.rs"]
mod write;
pub(crate) use list::ListTask;
pub(crate) use revoke::RevokeTask;
pub(crate) use write::LoginTask;
