//! Revoking app sessions, and finding a user's: `revoke(token)` ends one;
//! `revokeUser(openid)` and `list(openid)` go through the index in the
//! user's record (the hashes of their newest sessions, at most
//! MAX_SESSIONS_PER_USER) and read each session, so only live ones count.
//!
//! Neither rewrites the user's record. A revoked session stays listed
//! until later logins push it out; reading it again finds nothing. Were
//! revokeUser to clear the list, a login of the same user in another
//! process between its read and its write would vanish from the index,
//! and no later revokeUser could find that session.

use super::io::{Io, Out};
use super::sessions::{decoded, listed, read, unauthorized};
use super::{Cx, Event, Next};
use crate::core::error::Error;
use crate::core::store::{Kind, Payload, Record};
use crate::core::wxcrypt::{is_token_shaped, token_hash};

/// `revoke(token)`: one session, gone from the backend (and memory) at once.
pub(crate) struct RevokeTask {
    hash: String,
}

impl RevokeTask {
    pub fn new(token: &str) -> Result<RevokeTask, Error> {
        if !is_token_shaped(token) {
            return Err(unauthorized("the token is missing or malformed"));
        }
        Ok(RevokeTask {
            hash: token_hash(token),
        })
    }

    pub fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start => {
                let known = cx.store.remove_now(Kind::AppSession, &self.hash);
                if !cx.settings.has_backend {
                    return Next::Done(Ok(Out::Reply(u8::from(known).to_string())));
                }
                Next::Io(Io::Delete {
                    key: Kind::AppSession.key(&self.hash),
                })
            }
            Event::Io(_, answer) => Next::Done(answer.map(|_| Out::Reply("1".to_owned()))),
            Event::Flight(_) => Next::Done(Err(unauthorized("a revoke step arrived out of order"))),
        }
    }
}

/// `list(openid)`: the user's live sessions as a JSON array (what `verify`
/// answers for each, oldest first); `revokeUser(openid)`: ends all of them
/// and answers how many were live.
pub(crate) struct UserTask<P> {
    openid: String,
    revoke: bool,
    st: UserSt,
    hashes: Vec<String>,
    live: Vec<Option<P>>,
    left: usize,
    failure: Option<Error>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum UserSt {
    ReadingUser,
    ReadingSessions,
    Deleting,
}

impl<P: Payload> UserTask<P> {
    pub fn new(openid: String, revoke: bool) -> UserTask<P> {
        UserTask {
            openid,
            revoke,
            st: UserSt::ReadingUser,
            hashes: Vec::new(),
            live: Vec::new(),
            left: 0,
            failure: None,
        }
    }

    pub fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match (self.st, event) {
            (UserSt::ReadingUser, Event::Start) => match read(cx, Kind::MpSession, &self.openid) {
                Ok(user) => self.got_user(cx, user),
                Err(io) => Next::Io(io),
            },
            (UserSt::ReadingUser, Event::Io(_, answer)) => {
                match decoded(Kind::MpSession, answer, cx.now) {
                    Ok(user) => self.got_user(cx, user),
                    Err(e) => Next::Done(Err(e)),
                }
            }
            (UserSt::ReadingSessions, Event::Io(i, answer)) => {
                match decoded::<P>(Kind::AppSession, answer, cx.now) {
                    Ok(found) => {
                        if let Some(slot) = self.live.get_mut(i) {
                            *slot = found.map(|r| r.payload);
                        }
                    }
                    Err(e) => {
                        self.failure.get_or_insert(e);
                    }
                }
                self.answered(|task, cx| task.found(cx), cx)
            }
            (UserSt::Deleting, Event::Io(_, answer)) => {
                if let Err(e) = answer {
                    self.failure.get_or_insert(e);
                }
                self.answered(|task, _| Next::Done(Ok(Out::Reply(task.count()))), cx)
            }
            _ => Next::Done(Err(unauthorized("a session step arrived out of order"))),
        }
    }

    /// One of several answers: Pending until the last, then `then` (or the first failure).
    fn answered(
        &mut self,
        then: impl FnOnce(&mut Self, &mut Cx<P>) -> Next<P>,
        cx: &mut Cx<P>,
    ) -> Next<P> {
        self.left -= 1;
        if self.left > 0 {
            return Next::Pending;
        }
        match self.failure.take() {
            Some(e) => Next::Done(Err(e)),
            None => then(self, cx),
        }
    }

    fn got_user(&mut self, cx: &mut Cx<P>, user: Option<Record<P>>) -> Next<P> {
        self.hashes = listed(user.as_ref()).into_iter().map(|(h, _)| h).collect();
        if !cx.settings.has_backend || self.hashes.is_empty() {
            self.live = self
                .hashes
                .iter()
                .map(|h| {
                    cx.store
                        .record(Kind::AppSession, h, cx.now)
                        .map(|r| r.payload.clone())
                })
                .collect();
            return self.found(cx);
        }
        self.live = self.hashes.iter().map(|_| None).collect();
        self.st = UserSt::ReadingSessions;
        self.left = self.hashes.len();
        Next::Many(
            self.hashes
                .iter()
                .map(|h| Io::Get {
                    key: Kind::AppSession.key(h),
                })
                .collect(),
        )
    }

    fn count(&self) -> String {
        self.live.iter().flatten().count().to_string()
    }

    fn found(&mut self, cx: &mut Cx<P>) -> Next<P> {
        if !self.revoke {
            let items: Vec<String> = self.live.iter().flatten().map(|p| p.to_json()).collect();
            return Next::Done(Ok(Out::Reply(format!("[{}]", items.join(",")))));
        }
        // Every listed session goes, live or not: a delete of a gone one is harmless.
        for h in &self.hashes {
            cx.store.remove_now(Kind::AppSession, h);
        }
        if !cx.settings.has_backend || self.hashes.is_empty() {
            return Next::Done(Ok(Out::Reply(self.count())));
        }
        self.st = UserSt::Deleting;
        self.left = self.hashes.len();
        Next::Many(
            self.hashes
                .iter()
                .map(|h| Io::Delete {
                    key: Kind::AppSession.key(h),
                })
                .collect(),
        )
    }
}
