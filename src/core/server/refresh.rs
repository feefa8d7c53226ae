//! One refresh of one credential, shared by every caller in the process.
//!
//! With a store that locks across processes: take the lock, re-read the
//! record (someone may have refreshed while we waited), fetch only if it
//! still holds nothing usable, write, unlock. Others back off and re-read
//! until the holder's result appears or the lock frees (a dead holder's
//! lock expires after its TTL). Two rules keep the lease honest:
//!
//! - Nothing is awaited under a lock but bounded I/O: a ticket gets its
//!   access_token *before* taking the ticket lock, and when WeChat rejects
//!   that token mid-flight the lock is released before the token refresh.
//! - Before writing, the holder checks its lease by the clock (it knows when
//!   it asked for the lock and that the backend answers within its timeout).
//!   A lapsed lease means someone else may hold the lock: it locks again and
//!   re-reads, adopting a newer credential instead of overwriting it.
//!
//! `stale` is a value known to be bad (a forced refresh, or a token WeChat
//! just rejected): a re-read accepts anything valid but it. That is
//! compare-and-expire: a token is replaced only if the store still holds
//! the one that failed.

use super::config::WechatConfig;
use super::guard::lease_outlives;
use super::io::{Io, Out};
use super::need::{Got, Need, Which};
use super::wechat;
use super::{Cx, Event, Next};
use crate::core::error::{Error, ErrorCode};
use crate::core::store::meta::Slot;
use crate::core::store::{fingerprint, Payload, Record};

/// A failed write under the lock is sent again after this long.
const RESEND_AFTER_MS: u64 = 200;

#[derive(Debug)]
enum St {
    Start,
    Token(Need),
    Locking {
        sent_at: u64,
    },
    Sleeping,
    Reading {
        epoch: u32,
    },
    Fetching,
    Writing {
        key: String,
        slot: Slot,
    },
    /// Waiting to send a failed write again while the lock still holds.
    Resending {
        key: String,
        slot: Slot,
    },
    Unlocking {
        retry: bool,
    },
}

#[derive(Debug)]
struct Lease {
    name: String,
    token: String,
    /// When the lock was asked for: it holds at least `lock_ttl` from here.
    asked_at: u64,
}

#[derive(Debug)]
pub(crate) struct RefreshTask {
    which: Which,
    stale: Option<String>,
    st: St,
    deadline: u64,
    attempt: u32,
    jitter: u64,
    lease: Option<Lease>,
    /// Ticket: the access_token to fetch with, and one that WeChat refused.
    token: Option<String>,
    token_stale: Option<String>,
    retried: bool,
    /// Fetched but not written (its lease lapsed and it is locking again).
    fresh: Option<(Slot, String)>,
    outcome: Option<Result<Slot, Error>>,
    last_error: Option<Error>,
    /// The fingerprint of the record this refresh's write is built on.
    base: u64,
    /// The fingerprint of what the last read under the lock found.
    read_fp: u64,
    /// The fingerprint of what the last write sent.
    sent_fp: u64,
}

impl RefreshTask {
    pub fn new<P: Payload>(
        which: Which,
        stale: Option<String>,
        cfg: &WechatConfig,
        cx: &mut Cx<P>,
    ) -> RefreshTask {
        let mut seed = [0u8; 8];
        let jitter = match cx.rng.fill(&mut seed) {
            Ok(()) => u64::from_le_bytes(seed),
            Err(_) => cx.now,
        };
        RefreshTask {
            which,
            stale,
            st: St::Start,
            deadline: cx.now + cfg.wait_ms,
            attempt: 0,
            jitter: jitter | 1,
            lease: None,
            token: None,
            token_stale: None,
            retried: false,
            fresh: None,
            outcome: None,
            last_error: None,
            base: 0,
            read_fp: 0,
            sent_fp: 0,
        }
    }

    pub fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let Some(cfg) = cx.cfg else {
            return Next::Done(Err(Error::new(
                ErrorCode::BadConfig,
                "no Wechat is attached to this store",
            )));
        };
        let st = std::mem::replace(&mut self.st, St::Start);
        match (st, event) {
            (St::Start, Event::Start) => self.start(cx, cfg),
            (St::Token(mut need), Event::Flight(result)) => {
                let got = need.on_flight(cx, result);
                self.got_token(cx, cfg, need, got)
            }
            (St::Locking { sent_at }, Event::Io(_, answer)) => match answer {
                Ok(Some(token)) => {
                    self.lease = Some(Lease {
                        name: self.lock_name(),
                        token: token.to_owned(),
                        asked_at: sent_at,
                    });
                    self.read(cx)
                }
                Ok(None) => self.wait(cx, cfg),
                Err(e) => {
                    self.last_error = Some(e);
                    self.wait(cx, cfg)
                }
            },
            (St::Sleeping, Event::Io(..)) => self.read(cx),
            (St::Reading { epoch }, Event::Io(_, answer)) => {
                let holding = self.holding(cx);
                if let Err(e) = &answer {
                    if !holding {
                        self.last_error = Some(e.clone());
                        return self.wait(cx, cfg);
                    }
                    return self.finish(Err(e.clone()));
                }
                let (kind, id) = self.which.record();
                // What the backend holds, as read under the lock: the base a
                // write built now stands on (memory may hold local changes).
                let now = cx.now;
                let seen = answer
                    .as_ref()
                    .ok()
                    .copied()
                    .flatten()
                    .and_then(|raw| Record::<P>::decode(kind, raw).ok())
                    .filter(|r| !r.is_expired(now));
                self.read_fp = fingerprint(seen.as_ref());
                cx.store.reread(kind, id, answer, epoch, cx.now);
                self.decide(cx, cfg)
            }
            (St::Fetching, Event::Io(_, answer)) => self.fetched(cx, cfg, answer),
            (St::Writing { key, slot }, Event::Io(_, answer)) => {
                cx.store.held_write_done(&key, answer.is_ok(), cx.now);
                if answer.is_ok() {
                    let (kind, id) = self.which.record();
                    if cx.store.is_held(kind, id) {
                        // Changed here while written: ours landed, the
                        // change goes out under this lock or at the recheck.
                        self.base = self.sent_fp;
                        if self.lease_lasts(cx, cfg, 0) {
                            return self.send(cx, slot);
                        }
                        cx.store.unsent(&key, self.base);
                    }
                    return self.finish(Ok(slot));
                }
                // Sent again only while the lock is ours (no flush sends a
                // held record meanwhile: it could land over a credential
                // someone fetched after the lease ran out).
                if self.lease_lasts(cx, cfg, RESEND_AFTER_MS) {
                    self.st = St::Resending { key, slot };
                    return Next::Io(Io::Sleep {
                        ms: RESEND_AFTER_MS,
                    });
                }
                // Still served here (it is valid and the newest), and
                // written under the lock at the next recheck if no one has
                // written since.
                cx.store.unsent(&key, self.base);
                self.finish(Ok(slot))
            }
            (St::Resending { key, slot }, Event::Io(..)) => {
                if !self.lease_lasts(cx, cfg, 0) {
                    cx.store.unsent(&key, self.base);
                    return self.finish(Ok(slot));
                }
                self.send(cx, slot)
            }
            (St::Unlocking { retry }, Event::Io(..)) => {
                if retry {
                    let mut need = Need::new(Which::Token, self.token_stale.clone());
                    let got = need.step(cx);
                    return self.got_token(cx, cfg, need, got);
                }
                Next::Done(
                    self.outcome
                        .take()
                        .unwrap_or_else(|| Err(unexpected()))
                        .map(Out::Cred),
                )
            }
            (st, _) => {
                self.st = st;
                Next::Done(Err(unexpected()))
            }
        }
    }

    /// One lock for the global record: the token and the ticket live in
    /// it, and a write of one must never restore a stale copy of the other.
    fn lock_name(&self) -> String {
        match &self.which {
            Which::Token | Which::Ticket => "lock:global".into(),
            which => format!("lock:{}", which.name()),
        }
    }

    /// Whether our lease (if the refresh runs under one) still holds for a
    /// write sent `after` ms from now: the write must land before it lapses.
    fn lease_lasts<P: Payload>(&self, cx: &Cx<P>, cfg: &WechatConfig, after: u64) -> bool {
        match &self.lease {
            Some(l) => lease_outlives(
                cx.now + after,
                cx.settings.timeout_ms,
                l.asked_at,
                cfg.lock_ttl_ms,
            ),
            // No lock to hold: nothing makes a second attempt safer.
            None => false,
        }
    }

    /// Without a cross-process lock (or a backend), this process acts as
    /// the holder: its flight is the only one here.
    fn holding<P: Payload>(&self, cx: &Cx<P>) -> bool {
        self.lease.is_some() || !cx.settings.can_lock || !cx.settings.has_backend
    }

    fn start<P: Payload>(&mut self, cx: &mut Cx<P>, cfg: &WechatConfig) -> Next<P> {
        if self.which == Which::Ticket && self.token.is_none() {
            let mut need = Need::new(Which::Token, self.token_stale.clone());
            let got = need.step(cx);
            return self.got_token(cx, cfg, need, got);
        }
        self.begin(cx, cfg)
    }

    fn got_token<P: Payload>(
        &mut self,
        cx: &mut Cx<P>,
        cfg: &WechatConfig,
        need: Need,
        got: Got<P>,
    ) -> Next<P> {
        match got {
            Got::Ready(slot) => {
                self.token = Some(slot.value);
                self.begin(cx, cfg)
            }
            Got::Next(Next::Done(result)) => Next::Done(result),
            Got::Next(next) => {
                self.st = St::Token(need);
                next
            }
        }
    }

    fn begin<P: Payload>(&mut self, cx: &mut Cx<P>, cfg: &WechatConfig) -> Next<P> {
        if !cx.settings.has_backend {
            return self.decide(cx, cfg);
        }
        if cx.settings.can_lock {
            return self.lock(cx, cfg);
        }
        self.read(cx)
    }

    fn lock<P: Payload>(&mut self, cx: &mut Cx<P>, cfg: &WechatConfig) -> Next<P> {
        self.st = St::Locking { sent_at: cx.now };
        Next::Io(Io::Lock {
            name: self.lock_name(),
            ttl_ms: cfg.lock_ttl_ms,
        })
    }

    fn read<P: Payload>(&mut self, cx: &mut Cx<P>) -> Next<P> {
        let (kind, id) = self.which.record();
        self.st = St::Reading {
            epoch: cx.store.epoch(),
        };
        Next::Io(Io::Get { key: kind.key(id) })
    }

    /// Someone else holds the lock (or the store failed): back off, or
    /// give up once the wait outlasts any holder's lock.
    fn wait<P: Payload>(&mut self, cx: &mut Cx<P>, cfg: &WechatConfig) -> Next<P> {
        let now = cx.now;
        if now >= self.deadline {
            let waited = cfg.wait_ms;
            let what = self.which.describe();
            return Next::Done(Err(self.last_error.take().unwrap_or_else(|| {
                Error::new(
                    ErrorCode::Timeout,
                    format!("waited {waited} ms for another process to refresh the {what}"),
                )
            })));
        }
        // Exponential backoff with jitter, so waiters spread out.
        let ceiling = (cfg.backoff_min_ms << self.attempt.min(10)).min(cfg.backoff_max_ms);
        self.attempt += 1;
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let delay = ceiling / 2 + self.jitter % (ceiling / 2 + 1);
        self.st = St::Sleeping;
        Next::Io(Io::Sleep {
            ms: delay.min(self.deadline - now).max(1),
        })
    }

    /// After a (re-)read: serve what is there, go for the lock, or fetch.
    fn decide<P: Payload>(&mut self, cx: &mut Cx<P>, cfg: &WechatConfig) -> Next<P> {
        let (kind, id) = self.which.record();
        let now = cx.now;
        let current = cx
            .store
            .record(kind, id, now)
            .and_then(|r| self.which.slot(r))
            .filter(|s| s.usable(now) && Some(&s.value) != self.stale.as_ref())
            .cloned();
        if let Some(slot) = current {
            if cx.store.is_unsent(kind, id) {
                // Ours, never written, and no one has written since (the
                // re-read would have adopted theirs): write it, under the lock.
                if !self.holding(cx) {
                    return self.lock(cx, cfg);
                }
                if self.lease.is_some() && !self.lease_lasts(cx, cfg, 0) {
                    // Too late to write under this lease: still unsent, tried
                    // again at the next recheck.
                    return self.finish(Ok(slot));
                }
                self.base = cx.store.hold(kind, id).unwrap_or(0);
                return self.send(cx, slot);
            }
            // Someone else's is there: ours (if any) is dropped unwritten.
            self.fresh = None;
            return self.finish(Ok(slot));
        }
        if !self.holding(cx) {
            return if now >= self.deadline {
                self.wait(cx, cfg)
            } else {
                self.lock(cx, cfg)
            };
        }
        if let Some((slot, patch)) = self.fresh.take().filter(|(s, _)| s.usable(now)) {
            return self.write(cx, slot, patch);
        }
        self.fetch(cx, cfg)
    }

    fn fetch<P: Payload>(&mut self, cx: &mut Cx<P>, cfg: &WechatConfig) -> Next<P> {
        let (kind, id) = self.which.record();
        let record = cx.store.record(kind, id, cx.now);
        let call = match &self.which {
            Which::Token => wechat::token_call(cfg, self.stale.is_some()),
            Which::Ticket => {
                // A newer token someone else stored meanwhile beats ours.
                let stored = record
                    .and_then(|r| Which::Token.slot(r))
                    .filter(|s| s.usable(cx.now) && Some(&s.value) != self.token_stale.as_ref())
                    .map(|s| s.value.clone());
                if let Some(token) = stored {
                    self.token = Some(token);
                }
                match &self.token {
                    Some(token) => wechat::ticket_call(token),
                    None => return self.finish(Err(unexpected())),
                }
            }
            Which::OAuth(_) => {
                let refresh_token = record
                    .and_then(|r| r.meta.creds())
                    .and_then(|c| c.refresh_token.clone());
                match refresh_token {
                    Some(rt) => wechat::oauth_refresh_call(cfg, &rt),
                    None => {
                        return self.finish(Err(Error::new(
                            ErrorCode::BadInput,
                            "no OAuth token is stored under this key: exchange a code first",
                        )))
                    }
                }
            }
        };
        self.st = St::Fetching;
        Next::Io(Io::Call(call))
    }

    fn fetched<P: Payload>(
        &mut self,
        cx: &mut Cx<P>,
        cfg: &WechatConfig,
        answer: super::io::Answer,
    ) -> Next<P> {
        let body = match answer {
            Ok(body) => body.unwrap_or(""),
            Err(e) => return self.finish(Err(e)),
        };
        let now = cx.now;
        let parsed = match &self.which {
            Which::Token => wechat::credential(body, "access_token", cfg.margin_ms, now)
                .map(|s| (s, String::new())),
            Which::Ticket => {
                wechat::credential(body, "ticket", cfg.margin_ms, now).map(|s| (s, String::new()))
            }
            Which::OAuth(_) => {
                wechat::oauth_info(body, cfg.margin_ms, now).map(|(info, s)| (s, info))
            }
        };
        match parsed {
            // The ticket call said our token is no good: release the lock,
            // replace that token (only if the store still holds it), retry once.
            Err(e) if self.which == Which::Ticket && e.is_token_rejection() && !self.retried => {
                self.retried = true;
                self.token_stale = self.token.take();
                match self.lease.take() {
                    Some(lease) => {
                        self.st = St::Unlocking { retry: true };
                        Next::Io(Io::Unlock {
                            name: lease.name,
                            token: lease.token,
                        })
                    }
                    None => {
                        let mut need = Need::new(Which::Token, self.token_stale.clone());
                        let got = need.step(cx);
                        self.got_token(cx, cfg, need, got)
                    }
                }
            }
            Err(e) => self.finish(Err(e)),
            Ok((slot, info)) => self.write(cx, slot, info),
        }
    }

    fn write<P: Payload>(&mut self, cx: &mut Cx<P>, slot: Slot, oauth_info: String) -> Next<P> {
        if self.lease.is_some() && !self.lease_lasts(cx, cx.cfg.expect("configured"), 0) {
            // Our write could land after the lock passed to someone else
            // (after a slow fetch, or on the relock path): lock again and
            // look before writing.
            let cfg = cx.cfg.expect("configured");
            self.lease = None;
            self.fresh = Some((slot, oauth_info));
            return self.lock(cx, cfg);
        }
        let (kind, id) = self.which.record();
        let now = cx.now;
        let base = cx.store.record(kind, id, now).cloned();
        // What the backend held when ours was built: for an unsent record
        // here (a ticket on an unsent token) the record it was built on.
        self.base = cx.store.unsent_base(kind, id).unwrap_or(self.read_fp);
        let patch = match &self.which {
            Which::OAuth(_) => oauth_info,
            which => {
                let creds = base.as_ref().and_then(|r| r.meta.creds());
                let ticket = *which == Which::Ticket;
                let other = creds
                    .and_then(|c| {
                        if ticket {
                            c.token.as_ref()
                        } else {
                            c.ticket.as_ref()
                        }
                    })
                    .map_or(0, |s| s.expires_at);
                let count = creds.map_or(0, |c| c.count);
                let used = if ticket { self.token.as_deref() } else { None };
                wechat::global_patch(ticket, &slot, other, used, count, now)
            }
        };
        let record = match base {
            Some(base) => base.merged(kind, &patch, now),
            None => Record::from_info(kind, &patch, now),
        };
        let record = match record {
            Ok(r) => r,
            Err(e) => return self.finish(Err(e)),
        };
        cx.store.put_held(kind, id, record, now);
        self.send(cx, slot)
    }

    fn send<P: Payload>(&mut self, cx: &mut Cx<P>, slot: Slot) -> Next<P> {
        let (kind, id) = self.which.record();
        let id = id.to_owned();
        self.sent_fp = fingerprint(cx.store.record(kind, &id, cx.now));
        match cx.store.write_now(kind, &id, cx.now) {
            Some(w) => {
                let value = w.value.unwrap_or_default();
                self.st = St::Writing {
                    key: w.key.clone(),
                    slot,
                };
                Next::Io(Io::Set {
                    key: w.key,
                    value,
                    ttl_ms: w.ttl_ms,
                })
            }
            // A flush is writing this key (it took it before we held it):
            // send ours after it, under the lock, or leave it unsent.
            None if cx.store.owned_in_flight(kind, &id) => {
                let cfg = cx.cfg.expect("configured");
                if self.lease_lasts(cx, cfg, RESEND_AFTER_MS) {
                    self.st = St::Resending {
                        key: kind.key(&id),
                        slot,
                    };
                    return Next::Io(Io::Sleep {
                        ms: RESEND_AFTER_MS,
                    });
                }
                let key = kind.key(&id);
                cx.store.unsent(&key, self.base);
                self.finish(Ok(slot))
            }
            None => self.finish(Ok(slot)),
        }
    }

    fn finish<P: Payload>(&mut self, result: Result<Slot, Error>) -> Next<P> {
        match self.lease.take() {
            Some(lease) => {
                self.outcome = Some(result);
                self.st = St::Unlocking { retry: false };
                Next::Io(Io::Unlock {
                    name: lease.name,
                    token: lease.token,
                })
            }
            None => Next::Done(result.map(Out::Cred)),
        }
    }
}

fn unexpected() -> Error {
    Error::new(ErrorCode::BadInput, "a refresh step arrived out of order")
}
