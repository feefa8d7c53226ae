//! App sessions: the server half of the mini-program login. `login` trades
//! a wx.login code for a new random token (the client's Bearer token);
//! only the token's SHA-256 is stored, with the user's openid, unionid and
//! the caller's data, under a TTL. The user's record (wechat-jssdk's MP
//! session: openid, session_key, unionid) also lists their sessions, so
//! `revokeUser` finds them all (session_users.rs). The session_key stays in
//! that record: no result, error or log line carries it.
//!
//! Sessions are read from the backend on every `verify` (one GET), never
//! from a process's memory: a session revoked by one process is refused by
//! all of them at once.

use super::io::{Io, Out};
use super::tasks::Task;
use super::{wechat, Cx, Event, FlightKey, Next};
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::RawObject;
use crate::core::store::record::{json_str, object_text, MAX_INFO_LEN};
use crate::core::store::{Kind, Payload, Record};
use crate::core::wxcrypt::{base64url, decrypt_data, is_token_shaped, token_hash};

/// Sessions listed per user; a new one past this revokes the oldest.
pub const MAX_SESSIONS_PER_USER: usize = 20;

pub(super) fn unauthorized(why: &str) -> Error {
    Error::new(ErrorCode::Unauthorized, why)
}

/// A record read past the cache: from the backend when there is one.
pub(super) fn read<P: Payload>(cx: &Cx<P>, kind: Kind, id: &str) -> Result<Option<Record<P>>, Io> {
    if cx.settings.has_backend {
        return Err(Io::Get { key: kind.key(id) });
    }
    Ok(cx.store.record(kind, id, cx.now).cloned())
}

pub(super) fn decoded<P: Payload>(
    kind: Kind,
    answer: Result<Option<&str>, Error>,
    now: u64,
) -> Result<Option<Record<P>>, Error> {
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

/// The user's sessions as listed in their record: (token hash, created).
pub(super) fn listed<P: Payload>(record: Option<&Record<P>>) -> Vec<(String, i64)> {
    let Some(obj) = record.and_then(|r| RawObject::parse(&r.payload.to_json()).ok()) else {
        return Vec::new();
    };
    let Some(list) = obj.get_raw("sessions") else {
        return Vec::new();
    };
    // `[{"h":"…","c":123}, …]`: read as an object's members one by one.
    let mut out = Vec::new();
    let inner = list.trim().trim_start_matches('[').trim_end_matches(']');
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, c) in inner.char_indices() {
        match c {
            '{' => {
                if depth == 0 {
                    start = i;
                }
                depth += 1;
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Ok(o) = RawObject::parse(&inner[start..=i]) {
                        if let (Some(h), Some(c)) = (o.get_str("h"), o.get_int("c")) {
                            if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
                                out.push((h, c));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn sessions_json(list: &[(String, i64)]) -> String {
    let items: Vec<String> = list
        .iter()
        .map(|(h, c)| object_text(&[("h", json_str(h)), ("c", c.to_string())]))
        .collect();
    format!("[{}]", items.join(","))
}

/// Writes a record the core built now (put, then the backend write). Any
/// copy in memory goes first: were one still being written (another
/// login of the same user, a revokeUser), the cache would only mark this
/// one to be written by a later flush, and the caller would be answered
/// before the backend holds it.
pub(super) fn write_now<P: Payload>(
    cx: &mut Cx<P>,
    kind: Kind,
    id: &str,
    record: Record<P>,
) -> Option<Io> {
    if cx.settings.has_backend {
        cx.store.remove_now(kind, id);
    }
    cx.store.put(kind, id, record, cx.now);
    let w = cx.store.write_now(kind, id, cx.now)?;
    Some(Io::Set {
        key: w.key,
        value: w.value.unwrap_or_default(),
        ttl_ms: w.ttl_ms,
    })
}

/// A session write answered. A failed one is forgotten, never left dirty
/// for a later flush: by then it could overwrite what another process
/// wrote meanwhile (a revoke, a newer login). Its caller was answered with
/// the failure, or, for a renewal, with the session as it was.
pub(super) fn written<P: Payload>(cx: &mut Cx<P>, kind: Kind, id: &str, ok: bool) {
    let key = kind.key(id);
    cx.store.write_done(&key, ok, cx.now);
    if ok {
        cx.store.drop_clean(kind, id);
    } else {
        cx.store.remove_now(kind, id);
    }
}

/// `verify`, and the first half of `decrypt`.
pub(crate) struct VerifyTask {
    hash: String,
    renew: bool,
    /// Decrypt: (encryptedData, iv), once the session is known.
    decrypt: Option<(String, String)>,
    st: VerifySt,
}

enum VerifySt {
    Reading,
    Renewing,
    ReadingUser,
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
        })
    }

    pub fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let Some(cfg) = cx.cfg else {
            return Next::Done(Err(unauthorized("no Wechat is attached to this store")));
        };
        let now = cx.now;
        match (&self.st, event) {
            (VerifySt::Reading, Event::Start) => match read(cx, Kind::AppSession, &self.hash) {
                Ok(record) => self.found(cx, record),
                Err(io) => Next::Io(io),
            },
            (VerifySt::Reading, Event::Io(_, answer)) => {
                match decoded(Kind::AppSession, answer, now) {
                    Ok(record) => self.found(cx, record),
                    Err(e) => Next::Done(Err(e)),
                }
            }
            (VerifySt::Renewing, Event::Flight(result)) => Next::Done(result),
            (VerifySt::ReadingUser, Event::Io(_, answer)) => {
                match decoded(Kind::MpSession, answer, now) {
                    Ok(user) => self.decrypt_with(cfg.app_id.as_str(), user),
                    Err(e) => Next::Done(Err(e)),
                }
            }
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
            return Next::Done(Err(unauthorized("no Wechat is attached to this store")));
        };
        if self.decrypt.is_some() {
            let Some(openid) = text_of(&record, "openid") else {
                return Next::Done(Err(unauthorized("the session names no user")));
            };
            self.st = VerifySt::ReadingUser;
            return match read(cx, Kind::MpSession, &openid) {
                Ok(user) => self.decrypt_with(&cfg.app_id.clone(), user),
                Err(io) => Next::Io(io),
            };
        }
        let now = cx.now;
        let ttl = cfg.session_ttl_ms;
        let used_late = record
            .expires_at
            .is_some_and(|e| e.saturating_sub(now) < ttl / 2);
        if !(self.renew && cfg.session_renew && used_late) {
            return Next::Done(Ok(Out::Info(Some(record.payload))));
        }
        // Sliding expiry: used after half its life, it lives another ttl.
        let update = object_text(&[("expiresAt", (now + ttl).to_string())]);
        let renewed = match record.merged(Kind::AppSession, &update, now) {
            Ok(r) => r,
            Err(_) => return Next::Done(Ok(Out::Info(Some(record.payload)))),
        };
        if !cx.settings.has_backend {
            let payload = cx.store.put(Kind::AppSession, &self.hash, renewed, now);
            return Next::Done(Ok(Out::Info(Some(payload))));
        }
        // Concurrent verifies of this session that find it due share one write.
        self.st = VerifySt::Renewing;
        Next::Wait(
            FlightKey::Renew(self.hash.clone()),
            Task::Renew(Box::new(RenewTask {
                hash: self.hash.clone(),
                renewed: Some(renewed),
                old: Some(record.payload),
            })),
        )
    }

    fn decrypt_with<P: Payload>(&mut self, app_id: &str, user: Option<Record<P>>) -> Next<P> {
        let Some(session_key) = user.as_ref().and_then(|u| text_of(u, "session_key")) else {
            return Next::Done(Err(Error::new(
                ErrorCode::DecryptFailed,
                "no session_key is stored for this user: log in again",
            )));
        };
        let (data, iv) = self.decrypt.take().unwrap_or_default();
        Next::Done(decrypt_data(&data, &iv, &session_key, app_id).map(Out::Reply))
    }
}

/// The write of a renewed session: a flight per session, so a burst of
/// requests crossing its half-life costs one write here, not one each.
pub(crate) struct RenewTask<P> {
    hash: String,
    renewed: Option<Record<P>>,
    old: Option<P>,
}

impl<P: Payload> RenewTask<P> {
    pub fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start => {
                let Some(renewed) = self.renewed.take() else {
                    return Next::Done(Err(unauthorized("a renewal started twice")));
                };
                let payload = renewed.payload.clone();
                self.renewed = Some(renewed.clone());
                match write_now(cx, Kind::AppSession, &self.hash, renewed) {
                    Some(io) => Next::Io(io),
                    None => Next::Done(Ok(Out::Info(Some(payload)))),
                }
            }
            Event::Io(_, answer) => {
                written(cx, Kind::AppSession, &self.hash, answer.is_ok());
                // A failed renewal leaves the session as it was: still valid.
                let shown = if answer.is_ok() {
                    self.renewed.take().map(|r| r.payload)
                } else {
                    self.old.take()
                };
                Next::Done(Ok(Out::Info(shown)))
            }
            Event::Flight(_) => {
                Next::Done(Err(unauthorized("a renewal step arrived out of order")))
            }
        }
    }
}

/// `login`: one per code (a flight), so WeChat never sees a code twice.
pub(crate) struct LoginTask {
    code: String,
    token: String,
    data: Option<String>,
    st: LoginSt,
    user: Option<(String, String, Option<String>)>,
    lease: Option<(String, String)>,
    deadline: u64,
    left: usize,
    failure: Option<Error>,
    writes: Vec<(Kind, String)>,
    dropped: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum LoginSt {
    Exchanging,
    Locking,
    Sleeping,
    ReadingUser,
    Writing,
    Unlocking,
}

impl LoginTask {
    pub fn new(code: String, entropy: [u8; 32], data: Option<String>) -> LoginTask {
        LoginTask {
            code,
            token: base64url(&entropy),
            data,
            st: LoginSt::Exchanging,
            user: None,
            lease: None,
            deadline: 0,
            left: 0,
            failure: None,
            writes: Vec::new(),
            dropped: Vec::new(),
        }
    }

    pub fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let Some(cfg) = cx.cfg else {
            return Next::Done(Err(Error::new(
                ErrorCode::BadConfig,
                "no Wechat is attached to this store",
            )));
        };
        match (&self.st, event) {
            (LoginSt::Exchanging, Event::Start) => {
                self.deadline = cx.now + cfg.wait_ms;
                Next::Io(Io::Call(wechat::code2session_call(cfg, &self.code)))
            }
            (LoginSt::Exchanging, Event::Io(_, answer)) => {
                let body = match answer {
                    Ok(body) => body.unwrap_or(""),
                    Err(e) => return Next::Done(Err(e)),
                };
                let obj = match wechat::parse(body) {
                    Ok(obj) => obj,
                    Err(e) => return Next::Done(Err(e)),
                };
                let text = |f: &str| obj.get_str(f).filter(|s| !s.is_empty());
                let (Some(openid), Some(key)) = (text("openid"), text("session_key")) else {
                    return Next::Done(Err(Error::new(
                        ErrorCode::ExchangeFailed,
                        "jscode2session answered no openid or session_key",
                    )));
                };
                if openid.len() > 256 || openid.chars().any(char::is_control) {
                    return Next::Done(Err(Error::new(
                        ErrorCode::ExchangeFailed,
                        "jscode2session answered an unusable openid",
                    )));
                }
                self.user = Some((openid, key, text("unionid")));
                self.lock_or_read(cx, cfg.lock_ttl_ms)
            }
            (LoginSt::Locking, Event::Io(_, answer)) => match answer {
                Ok(Some(token)) => {
                    let name = self.lock_name();
                    self.lease = Some((name, token.to_owned()));
                    self.read_user(cx)
                }
                Ok(None) if cx.now < self.deadline => {
                    self.st = LoginSt::Sleeping;
                    Next::Io(Io::Sleep { ms: 20 })
                }
                Ok(None) => Next::Done(Err(Error::new(
                    ErrorCode::Timeout,
                    "another login of this user held its record too long",
                ))),
                Err(e) => Next::Done(Err(e)),
            },
            (LoginSt::Sleeping, Event::Io(..)) => self.lock_or_read(cx, cfg.lock_ttl_ms),
            (LoginSt::ReadingUser, Event::Io(_, answer)) => {
                match decoded(Kind::MpSession, answer, cx.now) {
                    Ok(user) => self.write(cx, user),
                    Err(e) => self.finish(Err(e)),
                }
            }
            (LoginSt::Writing, Event::Io(i, answer)) => {
                if let Some((kind, id)) = self.writes.get(i).cloned() {
                    written(cx, kind, &id, answer.is_ok());
                }
                if let Err(e) = answer {
                    self.failure.get_or_insert(e);
                }
                self.left -= 1;
                if self.left > 0 {
                    return Next::Pending;
                }
                match self.failure.take() {
                    Some(e) => self.finish(Err(e)),
                    None => {
                        let reply = self.reply(cfg.session_ttl_ms);
                        self.finish(Ok(reply))
                    }
                }
            }
            (LoginSt::Unlocking, Event::Io(..)) => Next::Done(
                self.failure
                    .take()
                    .map_or_else(|| Ok(Out::Reply(self.reply(cfg.session_ttl_ms))), Err),
            ),
            _ => Next::Done(Err(Error::new(
                ErrorCode::ExchangeFailed,
                "a login step arrived out of order",
            ))),
        }
    }

    fn lock_name(&self) -> String {
        format!(
            "lock:mp:{}",
            self.user.as_ref().map_or("", |u| u.0.as_str())
        )
    }

    fn lock_or_read<P: Payload>(&mut self, cx: &mut Cx<P>, ttl_ms: u64) -> Next<P> {
        if cx.settings.can_lock {
            self.st = LoginSt::Locking;
            return Next::Io(Io::Lock {
                name: self.lock_name(),
                ttl_ms,
            });
        }
        self.read_user(cx)
    }

    fn read_user<P: Payload>(&mut self, cx: &mut Cx<P>) -> Next<P> {
        let openid = self.user.as_ref().map(|u| u.0.clone()).unwrap_or_default();
        match read(cx, Kind::MpSession, &openid) {
            Ok(user) => self.write(cx, user),
            Err(io) => {
                self.st = LoginSt::ReadingUser;
                Next::Io(io)
            }
        }
    }

    fn write<P: Payload>(&mut self, cx: &mut Cx<P>, user: Option<Record<P>>) -> Next<P> {
        let Some(cfg) = cx.cfg else {
            return self.finish(Err(Error::new(
                ErrorCode::BadConfig,
                "no Wechat is attached",
            )));
        };
        let (openid, session_key, unionid) = self.user.clone().unwrap_or_default();
        let now = cx.now;
        let hash = token_hash(&self.token);
        let mut fields = vec![("openid", json_str(&openid))];
        if let Some(u) = &unionid {
            fields.push(("unionid", json_str(u)));
        }
        fields.push(("createdAt", now.to_string()));
        fields.push(("expiresAt", (now + cfg.session_ttl_ms).to_string()));
        if let Some(data) = &self.data {
            fields.push(("data", data.clone()));
        }
        let session = object_text(&fields);
        // The user's record: WeChat's newest session_key (it rotates on every
        // login) and their sessions, newest last, at most MAX per user.
        let mut sessions = listed(user.as_ref());
        sessions.push((hash.clone(), now as i64));
        if sessions.len() > MAX_SESSIONS_PER_USER {
            let excess = sessions.len() - MAX_SESSIONS_PER_USER;
            self.dropped = sessions.drain(..excess).map(|(h, _)| h).collect();
        }
        let mut user_fields = vec![
            ("openid", json_str(&openid)),
            ("session_key", json_str(&session_key)),
        ];
        if let Some(u) = &unionid {
            user_fields.push(("unionid", json_str(u)));
        }
        user_fields.push(("sessions", sessions_json(&sessions)));
        let user_info = object_text(&user_fields);
        if session.len() > MAX_INFO_LEN || user_info.len() > MAX_INFO_LEN {
            return self.finish(Err(Error::new(
                ErrorCode::BadInput,
                "the session's data is larger than 64 KiB",
            )));
        }
        let records = (
            Record::from_info(Kind::AppSession, &session, now),
            Record::from_info(Kind::MpSession, &user_info, now),
        );
        let (Ok(session_rec), Ok(user_rec)) = records else {
            return self.finish(Err(Error::new(
                ErrorCode::BadInput,
                "the session could not be stored",
            )));
        };
        let mut ios = Vec::new();
        for (kind, id, record) in [
            (Kind::AppSession, hash, session_rec),
            (Kind::MpSession, openid, user_rec),
        ] {
            if let Some(io) = write_now(cx, kind, &id, record) {
                self.writes.push((kind, id));
                ios.push(io);
            }
        }
        for old in std::mem::take(&mut self.dropped) {
            cx.store.remove_now(Kind::AppSession, &old);
            if cx.settings.has_backend {
                self.writes.push((Kind::AppSession, old.clone()));
                ios.push(Io::Delete {
                    key: Kind::AppSession.key(&old),
                });
            }
        }
        if ios.is_empty() {
            let reply = self.reply(cfg.session_ttl_ms);
            return self.finish(Ok(reply));
        }
        self.st = LoginSt::Writing;
        self.left = ios.len();
        Next::Many(ios)
    }

    fn reply(&self, ttl_ms: u64) -> String {
        let (openid, _, unionid) = self.user.clone().unwrap_or_default();
        let mut fields = vec![
            ("token", json_str(&self.token)),
            ("expiresIn", (ttl_ms / 1000).to_string()),
            ("openid", json_str(&openid)),
        ];
        if let Some(u) = unionid {
            fields.push(("unionid", json_str(&u)));
        }
        object_text(&fields)
    }

    fn finish<P: Payload>(&mut self, result: Result<String, Error>) -> Next<P> {
        if let Err(e) = &result {
            self.failure = Some(e.clone());
        }
        match self.lease.take() {
            Some((name, token)) => {
                self.st = LoginSt::Unlocking;
                Next::Io(Io::Unlock { name, token })
            }
            None => Next::Done(result.map(Out::Reply)),
        }
    }
}
