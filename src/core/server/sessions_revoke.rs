//! `revoke(token)` and `revokeUser(openid)`: under the user's lock, like
//! every change to a user's sessions (see sessions_write.rs).

use super::list::SessionReads;
use super::write::{delete_io, lapsed, set_io, Section};
use super::{decoded, index_text, listed, read, unauthorized};
use crate::core::error::Error;
use crate::core::server::guard::Step;
use crate::core::server::io::Out;
use crate::core::server::{Cx, Event, Next};
use crate::core::store::{Kind, Payload, Record};
use crate::core::wxcrypt::{is_token_shaped, token_hash};

/// `revoke(token)` (one session) and `revokeUser(openid)` (all of theirs,
/// answering how many of them were live).
pub(crate) struct RevokeTask<P> {
    /// One session's hash, or None: every session of `openid`.
    hash: Option<String>,
    openid: String,
    revoked: usize,
    st: RevokeSt,
    section: Section,
    /// revokeUser: the index read under the lock, while its sessions are read.
    index: Option<Record<P>>,
    reads: Option<SessionReads<P>>,
}

#[derive(Debug, PartialEq, Eq)]
enum RevokeSt {
    /// Revoke one: whose session is it?
    ReadingSession,
    Locking,
    ReadingIndex,
    /// revokeUser: which of the listed sessions are live?
    ReadingSessions,
    Writing,
    Unlocking,
}

impl<P: Payload> RevokeTask<P> {
    pub fn session(token: &str) -> Result<RevokeTask<P>, Error> {
        if !is_token_shaped(token) {
            return Err(unauthorized("the token is missing or malformed"));
        }
        let hash = Some(token_hash(token));
        Ok(RevokeTask {
            hash,
            openid: String::new(),
            revoked: 0,
            st: RevokeSt::ReadingSession,
            section: Section::default(),
            index: None,
            reads: None,
        })
    }

    pub fn user(openid: String) -> RevokeTask<P> {
        RevokeTask {
            hash: None,
            openid,
            revoked: 0,
            st: RevokeSt::Locking,
            section: Section::default(),
            index: None,
            reads: None,
        }
    }

    pub fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let (i, answer) = match event {
            Event::Start => return self.start(cx),
            Event::Io(i, answer) => (i, answer),
            Event::Flight(_) => {
                return Next::Done(Err(unauthorized("a revoke step arrived out of order")))
            }
        };
        match self.st {
            RevokeSt::ReadingSession => match decoded(Kind::AppSession, answer, cx.now) {
                Ok(session) => self.owner(cx, session),
                Err(e) => Next::Done(Err(e)),
            },
            RevokeSt::Locking => {
                let step = self.section.answered(cx, answer);
                self.locked(cx, step)
            }
            RevokeSt::ReadingIndex => match decoded(Kind::SessionIndex, answer, cx.now) {
                Ok(index) => self.indexed(cx, index),
                Err(e) => self.finish(cx, Err(e)),
            },
            RevokeSt::ReadingSessions => {
                let now = cx.now;
                let all_in = self
                    .reads
                    .as_mut()
                    .is_none_or(|r| r.answered(i, answer, now));
                if all_in {
                    self.counted(cx)
                } else {
                    Next::Pending
                }
            }
            RevokeSt::Writing => {
                if !self.section.landed(cx, i, answer) {
                    return Next::Pending;
                }
                let count = self.count();
                self.finish(cx, Ok(count))
            }
            RevokeSt::Unlocking => self.section.done(),
        }
    }

    fn start(&mut self, cx: &mut Cx<P>) -> Next<P> {
        let Some(hash) = self.hash.clone() else {
            let step = self.section.lock(cx, &self.openid);
            return self.locked(cx, step);
        };
        match read(cx, Kind::AppSession, &hash) {
            Ok(session) => self.owner(cx, session),
            Err(io) => Next::Io(io),
        }
    }

    /// The session's user, whose lock orders this revoke against a renewal.
    fn owner(&mut self, cx: &mut Cx<P>, session: Option<Record<P>>) -> Next<P> {
        let Some(openid) = session.as_ref().and_then(|s| super::text_of(s, "openid")) else {
            // Unknown, expired or already revoked: nothing to do.
            return Next::Done(Ok(Out::Reply("0".to_owned())));
        };
        self.openid = openid;
        let step = self.section.lock(cx, &self.openid);
        self.locked(cx, step)
    }

    fn locked(&mut self, cx: &mut Cx<P>, step: Step) -> Next<P> {
        match step {
            Step::Held => match read(cx, Kind::SessionIndex, &self.openid) {
                Ok(index) => self.indexed(cx, index),
                Err(io) => {
                    self.st = RevokeSt::ReadingIndex;
                    Next::Io(io)
                }
            },
            Step::Io(io) => {
                self.st = RevokeSt::Locking;
                Next::Io(io)
            }
            Step::Failed(e) => Next::Done(Err(e)),
        }
    }

    fn count(&self) -> String {
        self.revoked.to_string()
    }

    /// The index, read under the lock. revokeUser first reads the sessions
    /// it lists, to answer how many were live (expired ones still go).
    fn indexed(&mut self, cx: &mut Cx<P>, index: Option<Record<P>>) -> Next<P> {
        if self.hash.is_some() {
            return self.write(cx, index);
        }
        let (reads, ios) = SessionReads::start(cx, index.as_ref());
        self.reads = Some(reads);
        self.index = index;
        match ios {
            Some(ios) => {
                self.st = RevokeSt::ReadingSessions;
                Next::Many(ios)
            }
            None => self.counted(cx),
        }
    }

    fn counted(&mut self, cx: &mut Cx<P>) -> Next<P> {
        let now = cx.now;
        let live = match self.reads.take().map(|mut r| r.live(now).map(|l| l.len())) {
            Some(Ok(n)) => n,
            Some(Err(e)) => return self.finish(cx, Err(e)),
            None => 0,
        };
        self.revoked = live;
        let index = self.index.take();
        self.write(cx, index)
    }

    /// Deletes the session(s) and writes the index without them. The user's
    /// MP session stays: its session_key still decrypts their data.
    fn write(&mut self, cx: &mut Cx<P>, index: Option<Record<P>>) -> Next<P> {
        if !self.section.lease_lasts(cx) {
            return self.finish(cx, Err(lapsed()));
        }
        let mut sessions = listed(index.as_ref());
        let gone: Vec<String> = match &self.hash {
            Some(hash) => {
                // One session, read live before the lock was taken.
                self.revoked = 1;
                vec![hash.clone()]
            }
            // revokeUser: `revoked` is the live count, set by `counted`.
            None => sessions.iter().map(|(h, _)| h.clone()).collect(),
        };
        sessions.retain(|(h, _)| !gone.contains(h));
        let mut ios: Vec<_> = gone.iter().filter_map(|h| delete_io(cx, h)).collect();
        if index.is_some() {
            match set_io(
                cx,
                Kind::SessionIndex,
                &self.openid,
                &index_text(&self.openid, &sessions),
            ) {
                Ok(io) => ios.extend(io),
                Err(e) => return self.finish(cx, Err(e)),
            }
        }
        match self.section.send(ios) {
            Some(next) => {
                self.st = RevokeSt::Writing;
                next
            }
            None => {
                let count = self.count();
                self.finish(cx, Ok(count))
            }
        }
    }

    fn finish(&mut self, cx: &mut Cx<P>, result: Result<String, Error>) -> Next<P> {
        match self.section.finish(cx, result) {
            Some(io) => {
                self.st = RevokeSt::Unlocking;
                Next::Io(io)
            }
            None => self.section.done(),
        }
    }
}
