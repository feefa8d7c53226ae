//! The server core: one Token Store cache and, once a `Wechat` attaches,
//! WeChat's credentials over it, with every decision made here and no I/O.
//!
//! The host starts an operation (`start`) and gets back typed actions: I/O
//! requests to perform (`Action::Io`) and operations that finished
//! (`Action::Finish`). It answers each request once (`complete`) and gets
//! the next actions. Inside, operations are small state machines ("tasks")
//! that wait for one I/O, several, or another task's result. Tasks that
//! others may share run as *flights* keyed by what they do (loading one key,
//! refreshing the token, signing one URL), so concurrent callers join one.

pub mod config;
mod guard;
pub mod io;
mod need;
mod refresh;
mod sessions;
mod store_tasks;
mod tasks;
pub mod wechat;
mod wechat_tasks;

#[cfg(test)]
mod refresh_fault_tests;
#[cfg(test)]
mod refresh_owned_tests;
#[cfg(test)]
mod session_race_tests;
#[cfg(test)]
mod session_tests;
#[cfg(test)]
mod session_user_tests;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod sim_ops;
#[cfg(test)]
mod sim_tests;

use crate::core::error::{Error, ErrorCode};
use crate::core::random::Drbg;
use crate::core::store::meta::Slot;
use crate::core::store::{Handle, Kind, Lookup, Payload, StoreConfig, StoreCore};
use config::{StoreSettings, WechatConfig, WechatParams};
use io::{Action, Answer, ApiCall, Io, IoId, OpId, Out};
use std::collections::{BTreeMap, BTreeSet};

pub use need::Which;
pub(crate) use tasks::Task;

/// What callers ask the core to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op<P> {
    /// A store read (`getSignature`, `getGlobalToken`...).
    Get {
        kind: Kind,
        id: String,
    },
    /// `save*` (merge false) and `update*` (merge true), `info` as JSON;
    /// `made`: the host's own payload for it, if it made one.
    /// `flush`: write it through at once (`updateGlobalToken`).
    Save {
        kind: Kind,
        id: String,
        info: String,
        made: Option<P>,
        merge: bool,
        flush: bool,
    },
    Flush,
    Clear,
    /// A usable access_token, jsapi_ticket or OAuth token; `force` replaces
    /// the one currently stored (compare-and-expire).
    Credential {
        which: Which,
        force: bool,
    },
    /// The OAuth record under a key after a forced refresh of its token.
    OAuthRefresh {
        key: String,
    },
    /// A JS-SDK signature for a page URL.
    Signature {
        url: String,
        force: bool,
    },
    /// Any API taking `access_token`; retried once on a token rejection.
    Api {
        call: ApiCall,
    },
    /// An OAuth code exchange, stored under `key` (default: the openid).
    OAuthExchange {
        code: String,
        key: Option<String>,
    },
    /// `jscode2session`: `{openid, sessionKey, unionid?}` as JSON.
    Code2Session {
        code: String,
    },
    /// wechat-jssdk's manual refresh of token and ticket (rate-limited).
    ManualRefresh,
    /// `sessions.login(code, {data})`: jscode2session, then a new app
    /// session whose token is `entropy` (32 bytes from the host's CSPRNG).
    SessionLogin {
        code: String,
        entropy: [u8; 32],
        data: Option<String>,
    },
    /// `sessions.verify(token)`: the session, renewed past half its life.
    SessionVerify {
        token: String,
    },
    SessionRevoke {
        token: String,
    },
    /// `sessions.revokeUser(openid)`: how many live sessions it ended.
    SessionRevokeUser {
        openid: String,
    },
    /// `sessions.list(openid)`: the user's live sessions, as `verify` answers each.
    SessionList {
        openid: String,
    },
    /// `sessions.decrypt(token, encryptedData, iv)` with the stored session_key.
    SessionDecrypt {
        token: String,
        encrypted: String,
        iv: String,
    },
}

/// Flights: tasks shared by every caller that needs the same thing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FlightKey {
    Load(String),
    Reread(String),
    Refresh(String),
    Sign(String, bool),
    Exchange(String),
    Flush(u32),
    /// Writing a renewed app session (by its token's hash).
    Renew(String),
}

pub(crate) enum Event<'a, P> {
    Start,
    /// The answer to the task's I/O number `i` (0 unless it asked for many).
    Io(usize, Answer<'a>),
    /// The result of the flight the task waited for.
    Flight(Result<Out<P>, Error>),
}

pub(crate) enum Next<P> {
    Io(Io),
    /// Several requests at once; the task hears each answer and says
    /// `Pending` until the last.
    Many(Vec<Io>),
    /// Join the flight, or start it with this task.
    Wait(FlightKey, Task<P>),
    Pending,
    Done(Result<Out<P>, Error>),
}

/// Flushes run one at a time; a flush asked for during one runs after it.
#[derive(Debug, Default)]
pub(crate) struct FlushState {
    pub started: u32,
    pub done: u32,
}

/// What a task may see and change while it runs.
pub(crate) struct Cx<'a, P> {
    pub store: &'a mut StoreCore<P>,
    pub settings: StoreSettings,
    pub cfg: Option<&'a WechatConfig>,
    pub rng: &'a mut Drbg,
    pub flush: &'a mut FlushState,
    pub manual: &'a mut Vec<u64>,
    /// Locks held inside this process, by name, for backends without a
    /// lock of their own.
    pub local_locks: &'a mut BTreeSet<String>,
    pub now: u64,
}

struct Slot_<P> {
    task: Option<Task<P>>,
    /// Slots to resume with this one's result.
    waiters: Vec<u32>,
    flight: Option<FlightKey>,
    /// A caller's operation: its result goes out as `Finish`.
    op: Option<OpId>,
}

pub struct ServerCore<P> {
    store: StoreCore<P>,
    settings: StoreSettings,
    cfg: Option<WechatConfig>,
    rng: Drbg,
    flush: FlushState,
    manual: Vec<u64>,
    local_locks: BTreeSet<String>,
    slots: Vec<Option<Slot_<P>>>,
    free: Vec<u32>,
    ios: BTreeMap<IoId, (u32, usize)>,
    flights: BTreeMap<FlightKey, u32>,
    next_io: IoId,
    next_op: OpId,
    out: Vec<Action<P>>,
}

impl<P: Payload> ServerCore<P> {
    /// `seed`: entropy from the host's CSPRNG (nonces, backoff jitter).
    pub fn new(
        config: StoreConfig,
        settings: StoreSettings,
        seed: &[u8],
        now: u64,
    ) -> Result<ServerCore<P>, Error> {
        let mut rng = Drbg::default();
        rng.reseed(seed)?;
        let mut hash_key = [0u8; 16];
        rng.fill(&mut hash_key)?;
        let hash_key = [
            u64::from_le_bytes(hash_key[..8].try_into().expect("8 bytes")),
            u64::from_le_bytes(hash_key[8..].try_into().expect("8 bytes")),
        ];
        Ok(ServerCore {
            store: StoreCore::new(config, settings.has_backend, hash_key, now),
            settings,
            cfg: None,
            rng,
            flush: FlushState::default(),
            manual: Vec::new(),
            local_locks: BTreeSet::new(),
            slots: Vec::new(),
            free: Vec::new(),
            ios: BTreeMap::new(),
            flights: BTreeMap::new(),
            next_io: 1,
            next_op: 1,
            out: Vec::new(),
        })
    }

    /// Attaches a Wechat. A second one must be the same app with the same
    /// settings: otherwise one would run on the other's secret and timings
    /// (the store's records are one app's).
    pub fn configure(&mut self, params: WechatParams) -> Result<(), Error> {
        let cfg = WechatConfig::new(params, self.settings)?;
        if let Some(current) = &self.cfg {
            if current.app_id != cfg.app_id {
                return Err(Error::new(
                    ErrorCode::BadConfig,
                    format!(
                        "this store already serves appId {}; use one store per app",
                        current.app_id
                    ),
                ));
            }
            if *current != cfg {
                return Err(Error::new(
                    ErrorCode::BadConfig,
                    "this store already serves a Wechat of this app with other settings; give each its own store",
                ));
            }
        }
        self.cfg = Some(cfg);
        Ok(())
    }

    pub fn config(&self) -> Option<&WechatConfig> {
        self.cfg.as_ref()
    }

    pub fn store(&self) -> &StoreCore<P> {
        &self.store
    }

    /// A memory lookup, for the synchronous fast path: never any I/O. A signature is answered from memory only while the
    /// global record (whose ticket it must be made with) is known and
    /// recently re-read; else `Load`, and `Op::Get` re-reads it first.
    pub fn lookup(&mut self, kind: Kind, id: &str, now: u64) -> Result<Lookup<P>, Error> {
        // Read through the Store API (wechat-jssdk's own client on this
        // store), the global record is re-read once per recheck interval
        // too, and before any signature it may have made stale is served.
        if matches!(kind, Kind::Signature | Kind::Global) && self.global_due(now) {
            // The store's own checks first, in its order: a destroyed store
            // asks its (closed) backend nothing.
            self.store.alive()?;
            crate::core::store::record::check_id(kind, id)?;
            return Ok(Lookup::Load {
                key: kind.key(id),
                epoch: self.store.epoch(),
            });
        }
        self.store.lookup(kind, id, now)
    }

    /// Whether another process's refresh may be unseen here: the global
    /// record is unknown or not re-read for `recheckInterval`.
    fn global_due(&self, now: u64) -> bool {
        store_tasks::global_due_in(&self.store, self.cfg.as_ref(), now)
    }

    /// Whether a signature a host remembered by handle may be served now.
    pub fn signature_live(&mut self, handle: Handle, now: u64) -> bool {
        !self.global_due(now) && self.store.signature_live(handle, now)
    }

    /// The handle of the signature for a page URL (its `#…` dropped).
    pub fn signature_handle(&self, url: &str) -> Option<Handle> {
        self.store
            .signature_handle(crate::core::signature::signed_url(url))
    }

    /// Whether a signature view a host remembered by handle may be served
    /// now: everything `signature_hit` checks (the ticket known, fresh and
    /// usable; the signature made with it), without the URL crossing again.
    pub fn signature_view_live(&mut self, handle: Handle, now: u64) -> bool {
        self.credential_hit(&Which::Ticket, now).is_some() && self.store.signature_live(handle, now)
    }

    /// A `save*`/`update*` done at once when it needs no I/O: a store
    /// without a backend, or a plain save (written by the next flush).
    /// None: start `Op::Save` (an update of a key not read yet, or one to
    /// write through).
    pub fn save_now(
        &mut self,
        kind: Kind,
        id: &str,
        incoming: crate::core::store::Incoming<P>,
        flush: bool,
        now: u64,
    ) -> Option<Result<P, Error>> {
        let needs_io = self.settings.has_backend
            && (flush || (incoming.merge && !self.store.is_known(kind, id)));
        if needs_io {
            return None;
        }
        if let Err(e) = crate::core::store::record::check_id(kind, id) {
            return Some(Err(e));
        }
        let base = self.store.record(kind, id, now).cloned();
        Some(self.store.save_onto(kind, id, base.as_ref(), incoming, now))
    }

    /// A record read ahead of need (a store's start-up preload).
    pub fn preload(
        &mut self,
        kind: Kind,
        id: &str,
        raw: &str,
        epoch: u32,
        now: u64,
    ) -> Result<(), Error> {
        self.store
            .loaded(kind, id, Some(raw), epoch, now)
            .map(|_| ())
    }

    /// The credential if it can be served from memory right now (known,
    /// usable and not due for a re-read), else None: start `Credential`.
    pub fn credential_hit(&self, which: &Which, now: u64) -> Option<Slot> {
        let cfg = self.cfg.as_ref()?;
        let (kind, id) = which.record();
        if self.store.due_for_recheck(kind, id, now, cfg.recheck_ms) {
            return None;
        }
        which
            .slot(self.store.record(kind, id, now)?)
            .filter(|s| s.usable(now))
            .cloned()
    }

    /// A signature's public view if it can be served from memory right now:
    /// the ticket is known, fresh and usable, and the signature was made
    /// with it. Else None: start `Signature`.
    pub fn signature_hit(&mut self, url: &str, now: u64) -> Option<P> {
        self.credential_hit(&Which::Ticket, now)?;
        let url = crate::core::signature::signed_url(url);
        match self.store.lookup(Kind::Signature, url, now) {
            Ok(Lookup::Hit(_)) => self.store.view(Kind::Signature, url).cloned(),
            _ => None,
        }
    }

    pub fn destroy(&mut self) {
        self.store.destroy();
    }

    pub fn in_flight(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    pub fn start(&mut self, op: Op<P>, now: u64) -> (OpId, Vec<Action<P>>) {
        let id = self.next_op;
        self.next_op = self.next_op.wrapping_add(1).max(1);
        // A destroyed store starts nothing: its backend is closed.
        let task = match self
            .store
            .alive()
            .and_then(|()| tasks::for_op(op, self.cfg.is_some()))
        {
            Ok(task) => task,
            Err(e) => {
                self.out.push(Action::Finish {
                    op: id,
                    result: Err(e),
                });
                return (id, std::mem::take(&mut self.out));
            }
        };
        let slot = self.spawn(task, None, Some(id));
        self.run(slot, Event::Start, now);
        (id, std::mem::take(&mut self.out))
    }

    /// The answer to I/O `io`. An unknown id (answered twice, or after the
    /// task was dropped) changes nothing.
    pub fn complete(&mut self, io: IoId, answer: Answer, now: u64) -> Vec<Action<P>> {
        if let Some((slot, index)) = self.ios.remove(&io) {
            if matches!(self.slots.get(slot as usize), Some(Some(_))) {
                self.run(slot, Event::Io(index, answer), now);
            }
        }
        std::mem::take(&mut self.out)
    }

    fn spawn(&mut self, task: Task<P>, flight: Option<FlightKey>, op: Option<OpId>) -> u32 {
        let slot = Slot_ {
            task: Some(task),
            waiters: Vec::new(),
            flight: flight.clone(),
            op,
        };
        let index = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(slot);
                i
            }
            None => {
                self.slots.push(Some(slot));
                (self.slots.len() - 1) as u32
            }
        };
        if let Some(key) = flight {
            self.flights.insert(key, index);
        }
        index
    }

    fn run(&mut self, slot: u32, event: Event<P>, now: u64) {
        let Some(mut task) = self.slots[slot as usize]
            .as_mut()
            .and_then(|s| s.task.take())
        else {
            return;
        };
        let next = {
            let mut cx = Cx {
                store: &mut self.store,
                settings: self.settings,
                cfg: self.cfg.as_ref(),
                rng: &mut self.rng,
                flush: &mut self.flush,
                manual: &mut self.manual,
                local_locks: &mut self.local_locks,
                now,
            };
            task.resume(&mut cx, event)
        };
        if let Some(s) = self.slots[slot as usize].as_mut() {
            s.task = Some(task);
        }
        match next {
            Next::Io(io) => self.request(slot, vec![io]),
            Next::Many(list) => {
                debug_assert!(
                    !list.is_empty(),
                    "a task asked for no I/O and would wait forever"
                );
                self.request(slot, list)
            }
            Next::Pending => {}
            Next::Wait(key, task) => self.wait(slot, key, task, now),
            Next::Done(result) => self.finish(slot, result, now),
        }
    }

    fn request(&mut self, slot: u32, list: Vec<Io>) {
        for (index, io) in list.into_iter().enumerate() {
            let id = self.next_io;
            self.next_io = self.next_io.wrapping_add(1).max(1);
            self.ios.insert(id, (slot, index));
            self.out.push(Action::Io { id, io });
        }
    }

    fn wait(&mut self, slot: u32, key: FlightKey, task: Task<P>, now: u64) {
        if let Some(&running) = self.flights.get(&key) {
            if let Some(s) = self.slots[running as usize].as_mut() {
                s.waiters.push(slot);
                return;
            }
        }
        let flight = self.spawn(task, Some(key), None);
        if let Some(s) = self.slots[flight as usize].as_mut() {
            s.waiters.push(slot);
        }
        self.run(flight, Event::Start, now);
    }

    fn finish(&mut self, slot: u32, result: Result<Out<P>, Error>, now: u64) {
        let Some(done) = self.slots[slot as usize].take() else {
            return;
        };
        self.free.push(slot);
        if let Some(key) = &done.flight {
            if self.flights.get(key) == Some(&slot) {
                self.flights.remove(key);
            }
        }
        if let Some(op) = done.op {
            self.out.push(Action::Finish {
                op,
                result: result.clone(),
            });
        }
        for waiter in done.waiters {
            self.run(waiter, Event::Flight(result.clone()), now);
        }
    }
}
