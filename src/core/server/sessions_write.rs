//! The writing half of app sessions: `login`, and the locked section the
//! revokes share (sessions_revoke.rs). Each change to a user's sessions
//! runs under `lock:user:<openid>` and reads the user's index inside it, so
//! two of them (in one process or many) never build on the same old index.

use super::{
    decoded, index_text, listed, no_wechat, read, settle, unauthorized, user_lock, write_now,
    MAX_SESSIONS_PER_USER,
};
use crate::core::error::{Error, ErrorCode};
use crate::core::server::guard::{Guard, Step};
use crate::core::server::io::{Answer, Io, Out};
use crate::core::server::{wechat, Cx, Event, Next};
use crate::core::store::record::{json_str, object_text, MAX_INFO_LEN};
use crate::core::store::{Kind, Payload, Record};
use crate::core::wxcrypt::{base64url, token_hash};

/// One I/O of a batch, with the record it writes (settled once answered).
pub(super) type Batched = (Io, Option<(Kind, String)>);

/// The part every locked section shares: the guard, the writes in flight
/// and the result to hand back once the lock is released.
#[derive(Default)]
pub(super) struct Section {
    guard: Option<Guard>,
    /// What each I/O of the batch in flight wrote, by its index (None for
    /// deletes, which need no settling).
    writes: Vec<Option<(Kind, String)>>,
    left: usize,
    failure: Option<Error>,
    outcome: Option<Result<String, Error>>,
}

impl Section {
    pub(super) fn lock<P: Payload>(&mut self, cx: &mut Cx<P>, openid: &str) -> Step {
        let mut guard = Guard::new(user_lock(openid), cx);
        let step = guard.acquire(cx);
        self.guard = Some(guard);
        step
    }

    pub(super) fn answered<P: Payload>(&mut self, cx: &mut Cx<P>, answer: Answer) -> Step {
        match self.guard.as_mut() {
            Some(g) => g.answered(cx, answer),
            None => Step::Failed(unauthorized("lost lock")),
        }
    }

    /// Whether the lock still holds long enough for the section's writes.
    pub(super) fn lease_lasts<P: Payload>(&self, cx: &Cx<P>) -> bool {
        self.guard.as_ref().is_some_and(|g| g.lease_lasts(cx))
    }

    /// Sends a batch; None when there is nothing to send.
    pub(super) fn send<P>(&mut self, ios: Vec<Batched>) -> Option<Next<P>> {
        if ios.is_empty() {
            return None;
        }
        self.left = ios.len();
        let (ios, writes): (Vec<Io>, Vec<_>) = ios.into_iter().unzip();
        self.writes = writes;
        Some(Next::Many(ios))
    }

    /// One answer of the batch; true once all are in.
    pub(super) fn landed<P: Payload>(&mut self, cx: &mut Cx<P>, i: usize, answer: Answer) -> bool {
        if let Some(Some((kind, id))) = self.writes.get(i).cloned() {
            settle(cx, kind, &id);
        }
        if let Err(e) = answer {
            self.failure.get_or_insert(e);
        }
        self.left = self.left.saturating_sub(1);
        self.left == 0
    }

    /// Releases the lock (the I/O to perform, if any) and keeps `result`.
    pub(super) fn finish<P: Payload>(
        &mut self,
        cx: &mut Cx<P>,
        result: Result<String, Error>,
    ) -> Option<Io> {
        self.outcome = Some(match self.failure.take() {
            Some(e) => Err(e),
            None => result,
        });
        self.guard.as_mut().and_then(|g| g.release(cx))
    }

    pub(super) fn done<P>(&mut self) -> Next<P> {
        Next::Done(
            self.outcome
                .take()
                .unwrap_or_else(|| Err(unauthorized("lost result")))
                .map(Out::Reply),
        )
    }
}

/// The user's lock ran too long to write under it safely: nothing written.
pub(super) fn lapsed() -> Error {
    Error::new(
        ErrorCode::Timeout,
        "the store was too slow: the user's lock could lapse before the write; nothing was written",
    )
}

/// A record to write, with what the batch settles once it is answered.
pub(super) fn set_io<P: Payload>(
    cx: &mut Cx<P>,
    kind: Kind,
    id: &str,
    info: &str,
) -> Result<Option<Batched>, Error> {
    let record = Record::from_info(kind, info, cx.now)?;
    Ok(write_now(cx, kind, id, record).map(|io| (io, Some((kind, id.to_owned())))))
}

/// Deletes a session everywhere: memory now, the backend in the batch.
pub(super) fn delete_io<P: Payload>(cx: &mut Cx<P>, hash: &str) -> Option<Batched> {
    cx.store.remove_now(Kind::AppSession, hash);
    cx.settings.has_backend.then(|| {
        (
            Io::Delete {
                key: Kind::AppSession.key(hash),
            },
            None,
        )
    })
}

/// `login`: one per code (a flight), so WeChat never sees a code twice.
pub(crate) struct LoginTask {
    code: String,
    token: String,
    data: Option<String>,
    st: LoginSt,
    /// (openid, session_key, unionid) from WeChat.
    user: Option<(String, String, Option<String>)>,
    section: Section,
}

#[derive(Debug, PartialEq, Eq)]
enum LoginSt {
    Exchanging,
    Locking,
    ReadingIndex,
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
            section: Section::default(),
        }
    }

    pub fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let Some(cfg) = cx.cfg else {
            return Next::Done(Err(no_wechat()));
        };
        let (i, answer) = match event {
            Event::Start if self.st == LoginSt::Exchanging => {
                return Next::Io(Io::Call(wechat::code2session_call(cfg, &self.code)));
            }
            Event::Io(i, answer) => (i, answer),
            _ => {
                return Next::Done(Err(Error::new(
                    ErrorCode::ExchangeFailed,
                    "a login step arrived out of order",
                )))
            }
        };
        match self.st {
            LoginSt::Exchanging => match exchanged(answer) {
                Ok(user) => {
                    let step = self.section.lock(cx, &user.0);
                    self.user = Some(user);
                    self.locked(cx, step)
                }
                Err(e) => Next::Done(Err(e)),
            },
            LoginSt::Locking => {
                let step = self.section.answered(cx, answer);
                self.locked(cx, step)
            }
            LoginSt::ReadingIndex => match decoded(Kind::SessionIndex, answer, cx.now) {
                Ok(index) => self.write(cx, index),
                Err(e) => self.finish(cx, Err(e)),
            },
            LoginSt::Writing => {
                if !self.section.landed(cx, i, answer) {
                    return Next::Pending;
                }
                let reply = self.reply(cfg.session_ttl_ms);
                self.finish(cx, Ok(reply))
            }
            LoginSt::Unlocking => self.section.done(),
        }
    }

    fn openid(&self) -> String {
        self.user.as_ref().map(|u| u.0.clone()).unwrap_or_default()
    }

    fn locked<P: Payload>(&mut self, cx: &mut Cx<P>, step: Step) -> Next<P> {
        match step {
            Step::Held => match read(cx, Kind::SessionIndex, &self.openid()) {
                Ok(index) => self.write(cx, index),
                Err(io) => {
                    self.st = LoginSt::ReadingIndex;
                    Next::Io(io)
                }
            },
            Step::Io(io) => {
                self.st = LoginSt::Locking;
                Next::Io(io)
            }
            Step::Failed(e) => Next::Done(Err(e)),
        }
    }

    fn write<P: Payload>(&mut self, cx: &mut Cx<P>, index: Option<Record<P>>) -> Next<P> {
        if !self.section.lease_lasts(cx) {
            return self.finish(cx, Err(lapsed()));
        }
        match self.batch(cx, index) {
            Ok(Some(next)) => {
                self.st = LoginSt::Writing;
                next
            }
            Ok(None) => {
                let reply = self.reply(cx.cfg.map_or(0, |c| c.session_ttl_ms));
                self.finish(cx, Ok(reply))
            }
            Err(e) => self.finish(cx, Err(e)),
        }
    }

    /// The session, the user's MP session (WeChat's newest session_key: it
    /// rotates on every login) and their index, newest last, at most MAX.
    fn batch<P: Payload>(
        &mut self,
        cx: &mut Cx<P>,
        index: Option<Record<P>>,
    ) -> Result<Option<Next<P>>, Error> {
        let ttl = cx.cfg.map_or(0, |c| c.session_ttl_ms);
        let (openid, session_key, unionid) = self.user.clone().unwrap_or_default();
        let now = cx.now;
        let hash = token_hash(&self.token);
        let mut fields = vec![("openid", json_str(&openid))];
        let mut user = vec![
            ("openid", json_str(&openid)),
            ("session_key", json_str(&session_key)),
        ];
        if let Some(u) = &unionid {
            fields.push(("unionid", json_str(u)));
            user.push(("unionid", json_str(u)));
        }
        fields.push(("createdAt", now.to_string()));
        fields.push(("expiresAt", (now + ttl).to_string()));
        if let Some(data) = &self.data {
            fields.push(("data", data.clone()));
        }
        let session = object_text(&fields);
        let mut sessions = listed(index.as_ref());
        sessions.retain(|(h, _)| *h != hash);
        sessions.push((hash.clone(), now as i64));
        let excess = sessions.len().saturating_sub(MAX_SESSIONS_PER_USER);
        let dropped: Vec<(String, i64)> = sessions.drain(..excess).collect();
        let index_info = index_text(&openid, &sessions);
        if session.len() > MAX_INFO_LEN || index_info.len() > MAX_INFO_LEN {
            return Err(Error::new(
                ErrorCode::BadInput,
                "the session's data is larger than 64 KiB",
            ));
        }
        let mut ios = Vec::new();
        ios.extend(set_io(cx, Kind::AppSession, &hash, &session)?);
        ios.extend(set_io(cx, Kind::MpSession, &openid, &object_text(&user))?);
        ios.extend(set_io(cx, Kind::SessionIndex, &openid, &index_info)?);
        for (old, _) in &dropped {
            ios.extend(delete_io(cx, old));
        }
        Ok(self.section.send(ios))
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

    fn finish<P: Payload>(&mut self, cx: &mut Cx<P>, result: Result<String, Error>) -> Next<P> {
        match self.section.finish(cx, result) {
            Some(io) => {
                self.st = LoginSt::Unlocking;
                Next::Io(io)
            }
            None => self.section.done(),
        }
    }
}

/// WeChat's jscode2session answer: (openid, session_key, unionid).
fn exchanged(answer: Answer) -> Result<(String, String, Option<String>), Error> {
    let obj = wechat::parse(answer?.unwrap_or(""))?;
    let text = |f: &str| obj.get_str(f).filter(|s| !s.is_empty());
    let (Some(openid), Some(key)) = (text("openid"), text("session_key")) else {
        return Err(Error::new(
            ErrorCode::ExchangeFailed,
            "jscode2session answered no openid or session_key",
        ));
    };
    if openid.len() > 256 || openid.chars().any(char::is_control) {
        return Err(Error::new(
            ErrorCode::ExchangeFailed,
            "jscode2session answered an unusable openid",
        ));
    }
    Ok((openid, key, text("unionid")))
}
