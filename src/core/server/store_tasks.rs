//! Tasks on the Store itself: loading a key, re-reading a credential past
//! the cache, saving a caller's record and flushing what is dirty.

use super::config::{WechatConfig, DEFAULT_RECHECK_MS};
use super::io::{Io, Out};
use super::tasks::{unexpected, Task};
use super::{Cx, Event, FlightKey, Next};
use crate::core::error::{Error, ErrorCode};
use crate::core::store::{Incoming, Kind, Payload, Record, StoreCore};

pub(crate) struct LoadTask {
    kind: Kind,
    id: String,
    epoch: u32,
}

impl LoadTask {
    pub fn new(kind: Kind, id: &str) -> LoadTask {
        LoadTask {
            kind,
            id: id.to_owned(),
            epoch: 0,
        }
    }

    pub(crate) fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start => {
                self.epoch = cx.store.epoch();
                Next::Io(Io::Get {
                    key: self.kind.key(&self.id),
                })
            }
            Event::Io(_, Ok(raw)) => Next::Done(
                cx.store
                    .loaded(self.kind, &self.id, raw, self.epoch, cx.now)
                    .map(Out::Record),
            ),
            Event::Io(_, Err(e)) => Next::Done(Err(e)),
            Event::Flight(_) => Next::Done(Err(unexpected())),
        }
    }
}

/// Whether the global record may hold another process's refresh unseen:
/// unknown here, or not re-read for `recheckInterval` (60 s without a Wechat).
pub(crate) fn global_due_in<P: Payload>(
    store: &StoreCore<P>,
    cfg: Option<&WechatConfig>,
    now: u64,
) -> bool {
    let recheck = cfg.map_or(DEFAULT_RECHECK_MS, |c| c.recheck_ms);
    store.due_for_recheck(Kind::Global, "", now, recheck)
}

pub(crate) fn global_due<P: Payload>(cx: &Cx<P>) -> bool {
    global_due_in(cx.store, cx.cfg, cx.now)
}

/// A credential record read again past the cache.
pub(crate) struct RereadTask {
    kind: Kind,
    id: String,
    epoch: u32,
}

impl RereadTask {
    pub fn new(kind: Kind, id: &str) -> RereadTask {
        RereadTask {
            kind,
            id: id.to_owned(),
            epoch: 0,
        }
    }

    pub(crate) fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start => {
                self.epoch = cx.store.epoch();
                Next::Io(Io::Get {
                    key: self.kind.key(&self.id),
                })
            }
            // A failed or unreadable read keeps what memory has: the
            // refresh that may follow reports the store's own error.
            Event::Io(_, answer) => {
                cx.store
                    .reread(self.kind, &self.id, answer, self.epoch, cx.now);
                Next::Done(Ok(Out::Unit))
            }
            Event::Flight(_) => Next::Done(Err(unexpected())),
        }
    }
}

pub(crate) struct SaveTask<P> {
    pub(super) kind: Kind,
    pub(super) id: String,
    pub(super) info: String,
    pub(super) made: Option<P>,
    pub(super) merge: bool,
    pub(super) flush: bool,
    pub(super) stored: Option<P>,
}

impl<P: Payload> SaveTask<P> {
    pub(crate) fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start => {
                if self.merge && cx.settings.has_backend && !cx.store.is_known(self.kind, &self.id)
                {
                    let key = self.kind.key(&self.id);
                    return Next::Wait(
                        FlightKey::Load(key),
                        Task::Load(LoadTask::new(self.kind, &self.id)),
                    );
                }
                let base = cx.store.record(self.kind, &self.id, cx.now).cloned();
                self.apply(cx, base)
            }
            Event::Flight(Ok(Out::Record(base))) if self.stored.is_none() => self.apply(cx, base),
            Event::Flight(Ok(_)) => Next::Done(Ok(Out::Info(self.stored.take()))),
            Event::Flight(Err(e)) => Next::Done(Err(e)),
            Event::Io(..) => Next::Done(Err(unexpected())),
        }
    }

    fn apply(&mut self, cx: &mut Cx<P>, base: Option<Record<P>>) -> Next<P> {
        let info = std::mem::take(&mut self.info);
        let incoming = Incoming {
            info: &info,
            merge: self.merge,
            made: self.made.take(),
        };
        match cx
            .store
            .save_onto(self.kind, &self.id, base.as_ref(), incoming, cx.now)
        {
            Ok(stored) if self.flush && cx.settings.has_backend => {
                self.stored = Some(stored);
                Next::Wait(
                    FlightKey::Flush(cx.flush.started + 1),
                    Task::Flush(FlushTask::new(cx.flush.started + 1)),
                )
            }
            Ok(stored) => Next::Done(Ok(Out::Info(Some(stored)))),
            Err(e) => Next::Done(Err(e)),
        }
    }
}

pub(crate) struct FlushTask {
    gen: u32,
    keys: Vec<String>,
    left: usize,
    failures: Vec<Error>,
}

impl FlushTask {
    pub(crate) fn new(gen: u32) -> FlushTask {
        FlushTask {
            gen,
            keys: Vec::new(),
            left: 0,
            failures: Vec::new(),
        }
    }

    pub(crate) fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start if cx.flush.done + 1 < self.gen => {
                // The flush before this one is still writing: wait for it.
                Next::Wait(FlightKey::Flush(self.gen - 1), Task::Noop)
            }
            Event::Start | Event::Flight(_) => {
                cx.flush.started = self.gen;
                let batch = cx.store.flush_batch(cx.now);
                if batch.is_empty() {
                    return self.done(cx);
                }
                self.left = batch.len();
                let mut ios = Vec::with_capacity(batch.len());
                for w in batch {
                    self.keys.push(w.key.clone());
                    ios.push(match w.value {
                        Some(value) => Io::Set {
                            key: w.key,
                            value,
                            ttl_ms: w.ttl_ms,
                        },
                        None => Io::Delete { key: w.key },
                    });
                }
                Next::Many(ios)
            }
            Event::Io(i, answer) => {
                let ok = answer.is_ok();
                if let Err(e) = answer {
                    self.failures.push(e);
                }
                cx.store.write_done(&self.keys[i], ok, cx.now);
                self.left -= 1;
                if self.left > 0 {
                    Next::Pending
                } else {
                    self.done(cx)
                }
            }
        }
    }

    fn done<P: Payload>(&mut self, cx: &mut Cx<P>) -> Next<P> {
        cx.flush.done = cx.flush.done.max(self.gen);
        if self.failures.is_empty() {
            return Next::Done(Ok(Out::Unit));
        }
        let first = self.failures.swap_remove(0);
        let code = match first.code {
            ErrorCode::StoreCorrupt | ErrorCode::StoreUnavailable | ErrorCode::BadInput => {
                first.code
            }
            _ => ErrorCode::StoreUnavailable,
        };
        let mut e = Error::new(
            code,
            format!(
                "{} of {} writes failed (kept in memory, retried on the next flush): {}",
                self.failures.len() + 1,
                self.keys.len(),
                first.message
            ),
        );
        e.cause = first.cause;
        Next::Done(Err(e))
    }
}
