//! The store's memory: what is cached, what is dirty, what to write next.

use super::keyed::{Digest, Handle, Keyed};
use super::payload::Payload;
use super::record::{check_id, Kind, Record};
use crate::core::error::{Error, ErrorCode};
use std::collections::BTreeMap;

/// How long a signature's miss is remembered before the backend is asked again.
const MISS_MS: u64 = 1_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// Flush period in ms (wechat-jssdk's `interval`).
    pub interval_ms: u64,
    /// No periodic flush: only explicit `flush()` and immediate writes.
    pub no_interval: bool,
    /// Signatures kept in memory at most (least recently used go first).
    pub max_signatures: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            interval_ms: 600_000,
            no_interval: false,
            max_signatures: 10_000,
        }
    }
}

/// What a read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup<P> {
    Hit(P),
    /// Not in memory: read `key` from the backend and report it with
    /// `loaded`, handing back `epoch` so a write made meanwhile wins.
    Load {
        key: String,
        epoch: u32,
    },
    Absent,
}

/// A caller's `save*` (merge false) or `update*` (merge true): the info as
/// JSON and, optionally, the payload the host already made from it.
pub struct Incoming<'a, P> {
    pub info: &'a str,
    pub merge: bool,
    pub made: Option<P>,
}

/// One backend operation of a flush: `value: None` deletes.
#[derive(Debug, PartialEq, Eq)]
pub struct Write {
    pub key: String,
    pub value: Option<String>,
    pub ttl_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Clean,
    Dirty,
    /// Handed to the backend; `again` if it changed while being written.
    Writing {
        again: bool,
    },
    /// A credential a refresh wrote under its lock and owns until it is
    /// written: no flush sends it (an unlocked write could land over a
    /// newer credential another process stored meanwhile).
    Held,
    /// A credential whose write under the lock never landed before the
    /// lease ran out: served here (WeChat issued it, it is the newest),
    /// never flushed, and kept over the backend's record only while that
    /// record is still the one it was built on (`base`: its fingerprint;
    /// any write since, by anyone, changes it). It is written again under
    /// the lock at the next recheck (`is_unsent`). The fingerprint lives
    /// in `StoreCore::unsent_bases`, so every entry stays small.
    Unsent,
}

#[path = "cache_credentials.rs"]
mod credentials;
pub use credentials::fingerprint;

#[derive(Debug)]
struct Entry<P> {
    kind: Kind,
    /// `None`: known absent (read from the backend) or to be deleted there.
    record: Option<Record<P>>,
    state: State,
    /// LRU tick (signatures only).
    used: u32,
    /// The store's epoch when this was last changed here.
    written: u32,
    /// When this was last known to match the backend (read or written).
    checked_at: u64,
    /// A derived object served instead of the record (a signature's public
    /// view for wx.config), dropped whenever the record changes.
    view: Option<P>,
    /// A refresh owns this credential until it is written: no flush sends
    /// it, and a change made here meanwhile stays owned (written by the
    /// refresh, under its lock).
    owned: bool,
}

/// How a credential re-read went.
#[derive(Debug, PartialEq, Eq)]
pub enum Reread {
    /// The backend's record is now the one in memory (or it had none).
    Adopted,
    /// Memory was kept: it holds a newer write, or the read failed.
    Kept,
    /// The backend holds something unreadable; a lock holder overwrites it.
    Corrupt,
}

#[derive(Debug)]
pub struct StoreCore<P> {
    config: StoreConfig,
    has_backend: bool,
    entries: Keyed<Entry<P>>,
    /// The global record's digest in `entries`.
    global_at: Digest,
    signatures: usize,
    /// OAuth and MP session records in memory: bounded like signatures when
    /// a backend holds them (every user seen would stay otherwise).
    users: usize,
    may_evict_users: bool,
    /// False after an eviction scan found nothing clean: the next scan waits
    /// until something becomes clean, so saves past the bound stay O(1).
    may_evict: bool,
    tick: u32,
    epoch: u32,
    last_flush: u64,
    destroyed: bool,
    /// For each `State::Unsent` entry, the fingerprint of the record it was
    /// built on.
    unsent_bases: BTreeMap<String, u64>,
    /// Owned entries a flush is writing: the fingerprint of what it sends.
    in_flight: BTreeMap<String, u64>,
}

impl<P: Payload> StoreCore<P> {
    /// `hash_key`: host entropy for the map's keyed digests.
    pub fn new(
        config: StoreConfig,
        has_backend: bool,
        hash_key: [u64; 2],
        now: u64,
    ) -> StoreCore<P> {
        // Only a backend's writes need a key's text back.
        let entries = Keyed::new(hash_key, has_backend);
        StoreCore {
            config,
            has_backend,
            global_at: entries.digest(&Kind::Global.key("")),
            entries,
            signatures: 0,
            users: 0,
            may_evict_users: true,
            may_evict: true,
            tick: 0,
            epoch: 0,
            last_flush: now,
            destroyed: false,
            unsent_bases: BTreeMap::new(),
            in_flight: BTreeMap::new(),
        }
    }

    pub fn has_backend(&self) -> bool {
        self.has_backend
    }

    pub fn lookup(&mut self, kind: Kind, id: &str, now: u64) -> Result<Lookup<P>, Error> {
        self.alive()?;
        check_id(kind, id)?;
        let key = kind.key(id);
        // A signature is only good while its ticket is the current one.
        let current = if kind == Kind::Signature {
            self.current_ticket()
        } else {
            None
        };
        let tick = self.tick.wrapping_add(1);
        let Some(entry) = self.entries.get_mut(&key) else {
            return Ok(if self.has_backend {
                Lookup::Load {
                    key,
                    epoch: self.epoch,
                }
            } else {
                Lookup::Absent
            });
        };
        let Some(record) = &entry.record else {
            // A miss is remembered only briefly, and only for signatures (a
            // burst of first requests for one page): another process may
            // save the key at any moment, and an OAuth token or session it
            // saved must be found.
            let remembered =
                kind == Kind::Signature && now < entry.checked_at.saturating_add(MISS_MS);
            if !self.has_backend || entry.state != State::Clean || remembered {
                return Ok(Lookup::Absent);
            }
            self.remove(&key);
            return Ok(Lookup::Load {
                key,
                epoch: self.epoch,
            });
        };
        let stale = matches!((record.meta.ticket(), current), (Some(a), Some(b)) if a != b);
        if record.is_expired(now) || stale {
            self.forget(&key);
            return Ok(Lookup::Absent);
        }
        // One map lookup for the hit and its LRU touch (the bounded kinds).
        let payload = record.payload.clone();
        if is_bounded(kind) {
            entry.used = tick;
            self.tick = tick;
        }
        Ok(Lookup::Hit(payload))
    }

    /// A signature's handle, for `signature_live`.
    pub fn signature_handle(&self, url: &str) -> Option<Handle> {
        self.entries.handle(&Kind::Signature.key(url))
    }

    /// Whether the signature a host remembered with this handle (and the
    /// payload it had) may be served now: the same checks as `lookup`
    /// (expiry, its ticket still current) and the same LRU touch, without
    /// the URL crossing again. A handle names one value: any change to the
    /// entry gives it a new one. False: ask by URL.
    pub fn signature_live(&mut self, handle: Handle, now: u64) -> bool {
        if self.destroyed {
            return false;
        }
        let current = self.current_ticket();
        let tick = self.tick.wrapping_add(1);
        let Some(entry) = self.entries.by_handle_mut(handle) else {
            return false;
        };
        let Some(record) = entry.record.as_ref() else {
            return false;
        };
        if record.is_expired(now)
            || matches!((record.meta.ticket(), current), (Some(a), Some(b)) if a != b)
        {
            return false;
        }
        entry.used = tick;
        self.tick = tick;
        true
    }

    /// The entry of `kind`/`id`. The global record, which every signature
    /// hit and credential check reads, by the digest `new` computed once.
    fn entry(&self, kind: Kind, id: &str) -> Option<&Entry<P>> {
        match kind {
            Kind::Global => self.entries.get_at(self.global_at),
            _ => self.entries.get(&kind.key(id)),
        }
    }

    /// The ticket hash of the global record, if known here.
    fn current_ticket(&self) -> Option<std::num::NonZeroU64> {
        self.entry(Kind::Global, "")
            .and_then(|g| g.record.as_ref())
            .and_then(|r| r.meta.ticket())
    }

    /// The record itself, if cached and live (the credential logic reads its
    /// fields); None when absent, expired or not read yet.
    pub fn record(&self, kind: Kind, id: &str, now: u64) -> Option<&Record<P>> {
        let entry = self.entry(kind, id)?;
        let record = entry.record.as_ref()?;
        (!record.is_expired(now) && !self.ticket_is_stale(kind, entry)).then_some(record)
    }

    /// Whether `kind`/`id` is in memory at all (read, written or known absent).
    pub fn is_known(&self, kind: Kind, id: &str) -> bool {
        self.entry(kind, id).is_some()
    }

    /// Whether another process may have changed this since it was last read
    /// or written here, `interval_ms` ago or more.
    pub fn due_for_recheck(&self, kind: Kind, id: &str, now: u64, interval_ms: u64) -> bool {
        if !self.has_backend {
            return false;
        }
        match self.entry(kind, id) {
            None => true,
            Some(e) => now >= e.checked_at.saturating_add(interval_ms),
        }
    }

    /// A load or re-read of `key` begins: the epoch to hand back.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Reports what the backend held for a `Load`. Returns the record to
    /// serve. A record changed here since `epoch` is newer and stays.
    pub fn loaded(
        &mut self,
        kind: Kind,
        id: &str,
        raw: Option<&str>,
        epoch: u32,
        now: u64,
    ) -> Result<Option<Record<P>>, Error> {
        self.alive()?;
        check_id(kind, id)?;
        let key = kind.key(id);
        if self
            .entries
            .get(&key)
            .is_some_and(|e| e.written > epoch || e.record.is_some())
        {
            return Ok(self.record(kind, id, now).cloned());
        }
        let record = match raw {
            Some(raw) => Some(Record::decode(kind, raw)?).filter(|r| !r.is_expired(now)),
            None => None,
        };
        if record.is_none() && is_user_kind(kind) {
            // Not remembered: a key taken from a request (a cookie, an
            // openid) must not leave an entry behind for every miss.
            return Ok(None);
        }
        self.insert(kind, key.clone(), record.clone(), State::Clean, false, now);
        self.touch(kind, &key);
        self.may_evict = true;
        self.may_evict_users = true;
        self.evict(Some(&key));
        if record.is_some()
            && self
                .entries
                .get(&key)
                .is_some_and(|e| self.ticket_is_stale(kind, e))
        {
            self.forget(&key);
            return Ok(None);
        }
        Ok(record)
    }

    /// `save*` (`merge: false`) and `update*` (`merge: true`). Answers
    /// `Hit` with the payload as now stored, or, for an update of something
    /// not read yet, `Load` first so it merges into what the backend has.
    pub fn save(
        &mut self,
        kind: Kind,
        id: &str,
        info: &str,
        merge: bool,
        now: u64,
    ) -> Result<Lookup<P>, Error> {
        self.alive()?;
        check_id(kind, id)?;
        let key = kind.key(id);
        if merge && self.has_backend && !self.entries.contains_key(&key) {
            return Ok(Lookup::Load {
                key,
                epoch: self.epoch,
            });
        }
        let current = self
            .entries
            .get(&key)
            .and_then(|e| e.record.clone())
            .filter(|r| !r.is_expired(now));
        let incoming = Incoming {
            info,
            merge,
            made: None,
        };
        self.save_onto(kind, id, current.as_ref(), incoming, now)
            .map(Lookup::Hit)
    }

    /// An update onto `base`, the record a load just returned (it may have
    /// left memory since: a full cache must not lose the update).
    pub fn save_onto(
        &mut self,
        kind: Kind,
        id: &str,
        base: Option<&Record<P>>,
        incoming: Incoming<P>,
        now: u64,
    ) -> Result<P, Error> {
        let Incoming { info, merge, made } = incoming;
        self.alive()?;
        check_id(kind, id)?;
        let record = match (merge, base) {
            (true, Some(base)) => base.merged(kind, &counted(kind, Some(base), info), now)?,
            (true, None) => Record::from_info(kind, &counted::<P>(kind, None, info), now)?,
            (false, _) => Record::from_info_with(kind, info, made, now)?,
        };
        Ok(self.put(kind, id, record, now))
    }

    /// Stores a record the core built (a fresh credential, a signature).
    pub fn put(&mut self, kind: Kind, id: &str, record: Record<P>, now: u64) -> P {
        let key = kind.key(id);
        let prev = self.entries.get(&key);
        let state = match prev.map(|e| e.state) {
            // Memory only: nothing to write, so nothing is ever dirty.
            _ if !self.has_backend => State::Clean,
            Some(State::Writing { .. }) => State::Writing { again: true },
            // A change made here (the Store API) to a credential a refresh
            // owns stays owned: written under the lock, never by a flush.
            Some(State::Held) => State::Held,
            Some(State::Unsent) => State::Unsent,
            _ => State::Dirty,
        };
        let owned = prev.is_some_and(|e| e.owned);
        // A flush is writing what is here now: remember what, so an unsent
        // base can be judged against it once it lands. Only the records a
        // refresh can own (global, OAuth) need it.
        let sending = prev
            .filter(|e| {
                matches!(kind, Kind::Global | Kind::OAuth)
                    && e.state == (State::Writing { again: false })
            })
            .map(|e| credentials::fingerprint(e.record.as_ref()));
        if let Some(fp) = sending {
            self.in_flight.insert(key.clone(), fp);
        }
        let payload = record.payload.clone();
        self.epoch = self.epoch.wrapping_add(1);
        self.insert(kind, key.clone(), Some(record), state, owned, now);
        self.touch(kind, &key);
        self.evict(Some(&key));
        payload
    }

    /// Removes a record from memory at once (it was deleted in the backend,
    /// or lives only here). True when there was one.
    pub fn remove_now(&mut self, kind: Kind, id: &str) -> bool {
        let key = kind.key(id);
        let known = self.entries.contains_key(&key);
        self.remove(&key);
        known
    }

    /// Drops a record from memory once it is written (sessions are read from
    /// the backend each time, so memory never has to hold all of them).
    pub fn drop_clean(&mut self, kind: Kind, id: &str) {
        let key = kind.key(id);
        if self.has_backend
            && self
                .entries
                .get(&key)
                .is_some_and(|e| e.state == State::Clean)
        {
            self.remove(&key);
        }
    }

    pub fn view(&self, kind: Kind, id: &str) -> Option<&P> {
        self.entry(kind, id)?.view.as_ref()
    }

    pub fn set_view(&mut self, kind: Kind, id: &str, view: P) {
        if let Some(e) = self.entries.get_mut(&kind.key(id)) {
            e.view = Some(view);
        }
    }

    /// Everything dirty, as backend writes; marks them in flight. Expired
    /// entries are purged from memory and deleted from the backend.
    pub fn flush_batch(&mut self, now: u64) -> Vec<Write> {
        self.last_flush = now;
        let expired: Vec<Digest> = self
            .entries
            .iter()
            .filter(|(_, e)| matches!(&e.record, Some(r) if r.is_expired(now)))
            .map(|(at, _)| at)
            .collect();
        for at in expired {
            self.forget_at(at);
        }
        let mut dirty: Vec<(u32, Digest)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.state == State::Dirty && !e.owned)
            .map(|(at, e)| (e.used, at))
            .collect();
        // Least recently used first: each write that lands makes its entry
        // clean and so free to leave a full cache. Backends that answer in
        // order (a Redis pipeline, the file) then free the ones used longest
        // ago first; others answer in their own order.
        dirty.sort_unstable();
        let mut writes = Vec::with_capacity(dirty.len());
        for (_, at) in dirty {
            // Dirty entries exist only with a backend, which keeps texts.
            let Some(key) = self.entries.text(at).map(str::to_owned) else {
                continue;
            };
            let Some(entry) = self.entries.get_mut_at(at) else {
                continue;
            };
            entry.state = State::Writing { again: false };
            writes.push(match &entry.record {
                Some(r) => Write {
                    value: Some(r.encode()),
                    ttl_ms: r.ttl_ms(now),
                    key,
                },
                None => Write {
                    key,
                    value: None,
                    ttl_ms: 0,
                },
            });
        }
        writes
    }

    /// The write of one key, now, outside a flush (a credential written
    /// under its lock). None when nothing is dirty there.
    pub fn write_now(&mut self, kind: Kind, id: &str, now: u64) -> Option<Write> {
        let key = kind.key(id);
        let entry = self.entries.get_mut(&key)?;
        if !matches!(entry.state, State::Dirty | State::Held) {
            return None;
        }
        let record = entry.record.as_ref()?;
        let write = Write {
            key: key.clone(),
            value: Some(record.encode()),
            ttl_ms: record.ttl_ms(now),
        };
        entry.state = State::Writing { again: false };
        Some(write)
    }

    /// The backend finished one write of a flush. A failed write stays dirty
    /// and goes out again with the next flush: nothing acknowledged is lost.
    pub fn write_done(&mut self, key: &str, ok: bool, now: u64) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        let sent = self.in_flight.remove(key);
        entry.state = match entry.state {
            State::Writing { again: false } if ok => {
                entry.owned = false;
                State::Clean
            }
            State::Writing { .. } if entry.owned => {
                match self.unsent_bases.get_mut(key) {
                    // Its refresh has finished: published at the recheck,
                    // judged against what this flush left there.
                    Some(base) => {
                        if let (true, Some(fp)) = (ok, sent) {
                            *base = fp;
                        }
                        State::Unsent
                    }
                    None => State::Held,
                }
            }
            State::Writing { .. } => State::Dirty,
            other => other,
        };
        if ok {
            entry.checked_at = now;
        }
        if entry.state == State::Clean && entry.record.is_none() {
            self.remove(key);
        }
        self.may_evict = true;
        self.may_evict_users = true;
        self.evict(None);
    }

    /// A bounded record (OAuth, MP session) was used: it keeps its place
    /// in the LRU, as a Store-API hit does.
    pub fn touch_user(&mut self, kind: Kind, id: &str) {
        self.touch(kind, &kind.key(id));
    }

    /// When the periodic flush is due next, if there is one.
    pub fn next_flush_at(&self) -> Option<u64> {
        (!self.config.no_interval && !self.destroyed && self.has_backend)
            .then(|| self.last_flush.saturating_add(self.config.interval_ms))
    }

    pub fn dirty_count(&self) -> usize {
        self.entries
            .values()
            .filter(|e| e.state != State::Clean)
            .count()
    }

    pub fn signature_count(&self) -> usize {
        self.signatures
    }

    /// `clearStore()`: memory forgets credentials and signatures (the
    /// backend is cleared by its own `clear`); what `Kind::survives_clear`
    /// names stays.
    pub fn clear(&mut self) {
        // Credentials never survive a clear: nothing of theirs is pending.
        self.unsent_bases.clear();
        self.in_flight.clear();
        let others: Vec<Digest> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.kind.survives_clear())
            .map(|(at, _)| at)
            .collect();
        for at in others {
            self.remove_at(at);
        }
        self.epoch = self.epoch.wrapping_add(1);
    }

    pub fn destroy(&mut self) {
        self.destroyed = true;
    }

    pub fn alive(&self) -> Result<(), Error> {
        if self.destroyed {
            Err(Error::new(
                ErrorCode::StoreDestroyed,
                "the store was destroyed",
            ))
        } else {
            Ok(())
        }
    }

    /// A signature is only good while the ticket it was made with is the
    /// current one (when both are known here).
    fn ticket_is_stale(&self, kind: Kind, entry: &Entry<P>) -> bool {
        if kind != Kind::Signature {
            return false;
        }
        let made_with = entry.record.as_ref().and_then(|r| r.meta.ticket());
        let current = self.current_ticket();
        matches!((made_with, current), (Some(a), Some(b)) if a != b)
    }

    /// Drops a record here and deletes it from the backend on the next flush.
    fn forget(&mut self, key: &str) {
        self.forget_at(self.entries.digest(key));
    }

    fn forget_at(&mut self, at: Digest) {
        if !self.has_backend {
            self.remove_at(at);
            return;
        }
        if let Some(entry) = self.entries.get_mut_at(at) {
            entry.record = None;
            entry.view = None;
            entry.state = match entry.state {
                State::Writing { .. } => State::Writing { again: true },
                _ => State::Dirty,
            };
        }
    }

    fn insert(
        &mut self,
        kind: Kind,
        key: String,
        record: Option<Record<P>>,
        state: State,
        owned: bool,
        now: u64,
    ) {
        let entry = Entry {
            kind,
            record,
            state,
            used: 0,
            written: self.epoch,
            checked_at: now,
            view: None,
            owned,
        };
        if self.entries.insert(key, entry).is_none() {
            match kind {
                Kind::Signature => self.signatures += 1,
                k if is_user_kind(k) => self.users += 1,
                _ => {}
            }
        }
    }

    fn remove(&mut self, key: &str) {
        self.remove_at(self.entries.digest(key));
    }

    fn remove_at(&mut self, at: Digest) {
        match self.entries.remove_at(at).map(|e| e.kind) {
            Some(Kind::Signature) => self.signatures -= 1,
            Some(kind) if is_user_kind(kind) => self.users -= 1,
            _ => {}
        }
    }

    fn touch(&mut self, kind: Kind, key: &str) {
        if !is_bounded(kind) {
            return;
        }
        self.tick = self.tick.wrapping_add(1);
        if let Some(entry) = self.entries.get_mut(key) {
            entry.used = self.tick;
        }
    }

    /// Over the bound, the least recently used clean signatures leave memory
    /// (they stay in the backend); dirty ones wait until they are written,
    /// and `keep` (just read or written) stays. One scan trims to 90% of the
    /// bound, so scans are rare (amortised O(1) per save). OAuth and MP
    /// records are bounded the same way when a backend holds them.
    fn evict(&mut self, keep: Option<&str>) {
        let max = self.config.max_signatures;
        let over = self.may_evict && self.signatures > max;
        let users_over = self.has_backend && self.may_evict_users && self.users > max;
        if !over && !users_over {
            return;
        }
        let keep = keep.map(|k| self.entries.digest(k));
        if over {
            self.may_evict = self.trim(|k| k == Kind::Signature, self.signatures, keep);
        }
        if users_over {
            self.may_evict_users = self.trim(is_user_kind, self.users, keep);
        }
    }

    /// Drops the least recently used clean entries of one pool down to 90%
    /// of the bound; false when none could go (all unwritten).
    fn trim(&mut self, member: fn(Kind) -> bool, count: usize, keep: Option<Digest>) -> bool {
        let max = self.config.max_signatures;
        let target = max - max / 10;
        let mut clean: Vec<(u32, Digest)> = self
            .entries
            .iter()
            .filter(|(at, e)| member(e.kind) && e.state == State::Clean && Some(*at) != keep)
            .map(|(at, e)| (e.used, at))
            .collect();
        let excess = (count - target).min(clean.len());
        if excess == 0 {
            return false;
        }
        clean.select_nth_unstable(excess - 1);
        for &(_, at) in &clean[..excess] {
            self.remove_at(at);
        }
        true
    }
}

/// Records kept per user (an OAuth token, an MP session): bounded like
/// signatures when a backend holds them.
fn is_user_kind(kind: Kind) -> bool {
    matches!(kind, Kind::OAuth | Kind::MpSession)
}

/// What the LRU bound covers (and so what each use touches).
fn is_bounded(kind: Kind) -> bool {
    kind == Kind::Signature || is_user_kind(kind)
}

/// wechat-jssdk counts updates of the global token (`count`): an update
/// carries the old count (or its own) plus one.
fn counted<P: Payload>(kind: Kind, base: Option<&Record<P>>, update: &str) -> String {
    if kind != Kind::Global {
        return update.to_owned();
    }
    let Ok(mut obj) = crate::core::json_object::RawObject::parse(update) else {
        return update.to_owned();
    };
    let old = base.and_then(|b| b.meta.creds()).map_or(0, |c| c.count);
    let count = obj.get_int("count").unwrap_or(old).saturating_add(1);
    obj.set_raw("count", &count.to_string());
    obj.to_json()
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
