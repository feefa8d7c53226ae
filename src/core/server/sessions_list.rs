//! Reading a user's sessions: `list(openid)`, and the live count that
//! `revokeUser` answers. The index names them; each is read (one batch of
//! GETs with a backend) and only the live ones count.

use super::{decoded, listed, read};
use crate::core::error::Error;
use crate::core::server::io::{Answer, Io, Out};
use crate::core::server::{Cx, Event, Next};
use crate::core::store::{Kind, Payload, Record};

/// The sessions an index lists, read one by one.
pub(super) struct SessionReads<P> {
    found: Vec<Option<Record<P>>>,
    left: usize,
    failure: Option<Error>,
}

impl<P: Payload> SessionReads<P> {
    /// Reads every session `index` lists: from memory at once (Ok), or the
    /// batch of backend reads to send (Err).
    pub fn start(cx: &Cx<P>, index: Option<&Record<P>>) -> (SessionReads<P>, Option<Vec<Io>>) {
        let hashes: Vec<String> = listed(index).into_iter().map(|(h, _)| h).collect();
        let mut reads = SessionReads {
            found: Vec::with_capacity(hashes.len()),
            left: 0,
            failure: None,
        };
        let mut ios = Vec::new();
        for h in &hashes {
            match read(cx, Kind::AppSession, h) {
                Ok(record) => reads.found.push(record),
                Err(io) => {
                    reads.found.push(None);
                    ios.push(io);
                }
            }
        }
        reads.left = ios.len();
        let ios = (!ios.is_empty()).then_some(ios);
        (reads, ios)
    }

    /// One answer of the batch (its index in it); true once all are in.
    pub fn answered(&mut self, i: usize, answer: Answer, now: u64) -> bool {
        match decoded(Kind::AppSession, answer, now) {
            Ok(record) => {
                if let Some(slot) = self.found.get_mut(i) {
                    *slot = record;
                }
            }
            Err(e) => {
                self.failure.get_or_insert(e);
            }
        }
        self.left = self.left.saturating_sub(1);
        self.left == 0
    }

    /// The live sessions, oldest first; the first failed read fails all.
    pub fn live(&mut self, now: u64) -> Result<Vec<&Record<P>>, Error> {
        if let Some(e) = self.failure.take() {
            return Err(e);
        }
        Ok(self
            .found
            .iter()
            .flatten()
            .filter(|r| !r.is_expired(now))
            .collect())
    }
}

/// `list(openid)`: a JSON array of the user's live sessions, each as
/// `verify` answers it. A read, so no lock: a login or revoke running
/// meanwhile shows up in this answer or the next.
pub(crate) struct ListTask<P> {
    openid: String,
    reads: Option<SessionReads<P>>,
}

impl<P: Payload> ListTask<P> {
    pub fn new(openid: String) -> ListTask<P> {
        ListTask {
            openid,
            reads: None,
        }
    }

    pub fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let now = cx.now;
        match (event, self.reads.as_mut()) {
            (Event::Start, _) => match read(cx, Kind::SessionIndex, &self.openid) {
                Ok(index) => self.read_sessions(cx, index),
                Err(io) => Next::Io(io),
            },
            (Event::Io(_, answer), None) => match decoded(Kind::SessionIndex, answer, now) {
                Ok(index) => self.read_sessions(cx, index),
                Err(e) => Next::Done(Err(e)),
            },
            (Event::Io(i, answer), Some(reads)) => {
                if reads.answered(i, answer, now) {
                    self.answer(now)
                } else {
                    Next::Pending
                }
            }
            (Event::Flight(result), _) => Next::Done(result),
        }
    }

    fn read_sessions(&mut self, cx: &Cx<P>, index: Option<Record<P>>) -> Next<P> {
        let (reads, ios) = SessionReads::start(cx, index.as_ref());
        self.reads = Some(reads);
        match ios {
            Some(ios) => Next::Many(ios),
            None => self.answer(cx.now),
        }
    }

    fn answer(&mut self, now: u64) -> Next<P> {
        let Some(reads) = self.reads.as_mut() else {
            return Next::Done(Ok(Out::Reply("[]".to_owned())));
        };
        Next::Done(reads.live(now).map(|live| {
            let items: Vec<String> = live.iter().map(|r| r.payload.to_json()).collect();
            Out::Reply(format!("[{}]", items.join(",")))
        }))
    }
}
