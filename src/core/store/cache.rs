//! The store's memory: what is cached, what is dirty, what to write next.

use super::record::{check_id, Kind, Record};
use crate::core::error::{Error, ErrorCode};
use std::collections::BTreeMap;

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
pub enum Lookup {
    Hit(String),
    /// Not in memory: read this backend key and report it with `loaded`.
    Load(String),
    Absent,
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
}

#[derive(Debug)]
struct Entry {
    /// `None`: known absent (read from the backend) or to be deleted there.
    record: Option<Record>,
    state: State,
    used: u64,
}

impl Entry {
    fn ticket(&self) -> Option<&str> {
        self.record.as_ref().and_then(|r| r.ticket.as_deref())
    }
}

#[derive(Debug)]
pub struct StoreCore {
    config: StoreConfig,
    has_backend: bool,
    entries: BTreeMap<String, Entry>,
    signatures: usize,
    /// False after an eviction scan found nothing clean: the next scan waits
    /// until something becomes clean, so saves past the bound stay O(1).
    may_evict: bool,
    tick: u64,
    last_flush: u64,
    destroyed: bool,
}

impl StoreCore {
    pub fn new(config: StoreConfig, has_backend: bool, now: u64) -> StoreCore {
        StoreCore {
            config,
            has_backend,
            entries: BTreeMap::new(),
            signatures: 0,
            may_evict: true,
            tick: 0,
            last_flush: now,
            destroyed: false,
        }
    }

    pub fn lookup(&mut self, kind: Kind, id: &str, now: u64) -> Result<Lookup, Error> {
        self.alive()?;
        check_id(kind, id)?;
        let key = kind.key(id);
        let Some(entry) = self.entries.get(&key) else {
            return Ok(if self.has_backend {
                Lookup::Load(key)
            } else {
                Lookup::Absent
            });
        };
        let Some(record) = &entry.record else {
            return Ok(Lookup::Absent);
        };
        if record.is_expired(now) || self.ticket_is_stale(kind, entry) {
            self.forget(&key);
            return Ok(Lookup::Absent);
        }
        let info = record.info.clone();
        self.touch(kind, &key);
        Ok(Lookup::Hit(info))
    }

    /// Like `lookup`, but a clean cached entry is dropped and read again from
    /// the backend: other processes may have replaced it (credentials
    /// re-checked under a lock). Unwritten changes here are newer and stay.
    pub fn reload(&mut self, kind: Kind, id: &str, now: u64) -> Result<Lookup, Error> {
        self.alive()?;
        check_id(kind, id)?;
        let key = kind.key(id);
        let clean = self.entries.get(&key).map(|e| e.state == State::Clean);
        if self.has_backend && clean != Some(false) {
            // Memory only: forgetting would also delete it from the backend.
            self.remove(&key);
            return Ok(Lookup::Load(key));
        }
        self.lookup(kind, id, now)
    }

    /// Reports what the backend held for a `Load`. Returns the info to serve.
    pub fn loaded(
        &mut self,
        kind: Kind,
        id: &str,
        raw: Option<&str>,
        now: u64,
    ) -> Result<Option<String>, Error> {
        self.alive()?;
        check_id(kind, id)?;
        let key = kind.key(id);
        if self.entries.contains_key(&key) {
            // Written here while the read was in flight: memory is newer.
            return match self.lookup(kind, id, now)? {
                Lookup::Hit(info) => Ok(Some(info)),
                _ => Ok(None),
            };
        }
        let record = match raw {
            Some(raw) => Some(Record::decode(raw)?).filter(|r| !r.is_expired(now)),
            None => None,
        };
        let info = record.as_ref().map(|r| r.info.clone());
        self.insert(
            kind,
            key.clone(),
            Entry {
                record,
                state: State::Clean,
                used: 0,
            },
        );
        self.touch(kind, &key);
        self.may_evict = true;
        self.evict();
        if info.is_some()
            && self.entries.contains_key(&key)
            && self.ticket_is_stale(kind, &self.entries[&key])
        {
            self.forget(&key);
            return Ok(None);
        }
        Ok(info)
    }

    /// `save*` (`merge: false`) and `update*` (`merge: true`). Answers
    /// `Hit` with the info as now stored (what the caller resolves with), or,
    /// for an update of something not yet read, `Load` first, so it merges
    /// into what the backend has rather than replacing it.
    pub fn save(
        &mut self,
        kind: Kind,
        id: &str,
        info: &str,
        merge: bool,
        now: u64,
    ) -> Result<Lookup, Error> {
        self.alive()?;
        check_id(kind, id)?;
        let key = kind.key(id);
        let current = match self.entries.get(&key) {
            None if merge && self.has_backend => return Ok(Lookup::Load(key)),
            None => None,
            Some(e) => e.record.clone().filter(|r| !r.is_expired(now)),
        };
        let record = match (merge, current) {
            (true, Some(current)) => current.merged(info, now)?,
            _ => Record::from_info(info, now)?,
        };
        let state = match self.entries.get(&key).map(|e| e.state) {
            // Memory only: nothing to write, so nothing is ever dirty.
            _ if !self.has_backend => State::Clean,
            Some(State::Writing { .. }) => State::Writing { again: true },
            _ => State::Dirty,
        };
        let stored = record.info.clone();
        self.insert(
            kind,
            key.clone(),
            Entry {
                record: Some(record),
                state,
                used: 0,
            },
        );
        self.touch(kind, &key);
        self.evict();
        Ok(Lookup::Hit(stored))
    }

    /// Everything dirty, as backend writes; marks them in flight. Expired
    /// entries are purged from memory and deleted from the backend.
    pub fn flush_batch(&mut self, now: u64) -> Vec<Write> {
        self.last_flush = now;
        let expired: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| matches!(&e.record, Some(r) if r.is_expired(now)))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &expired {
            self.forget(key);
        }
        let mut writes = Vec::new();
        for (key, entry) in self.entries.iter_mut() {
            if entry.state != State::Dirty {
                continue;
            }
            entry.state = State::Writing { again: false };
            writes.push(match &entry.record {
                Some(r) => Write {
                    key: key.clone(),
                    value: Some(r.encode()),
                    ttl_ms: r.expires_at.map_or(0, |e| e.saturating_sub(now).max(1)),
                },
                None => Write {
                    key: key.clone(),
                    value: None,
                    ttl_ms: 0,
                },
            });
        }
        writes
    }

    /// The backend finished one write of a flush. A failed write stays dirty
    /// and goes out again with the next flush: nothing acknowledged is lost.
    pub fn write_done(&mut self, key: &str, ok: bool) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.state = match entry.state {
            State::Writing { again: false } if ok => State::Clean,
            State::Writing { .. } => State::Dirty,
            other => other,
        };
        if entry.state == State::Clean && entry.record.is_none() {
            self.remove(key);
        }
        self.may_evict = true;
        self.evict();
    }

    /// When the periodic flush is due next, if there is one.
    pub fn next_flush_at(&self) -> Option<u64> {
        (!self.config.no_interval && !self.destroyed)
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

    pub fn destroy(&mut self) {
        self.destroyed = true;
    }

    fn alive(&self) -> Result<(), Error> {
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
    fn ticket_is_stale(&self, kind: Kind, entry: &Entry) -> bool {
        if kind != Kind::Signature {
            return false;
        }
        let current = self.entries.get("global").and_then(Entry::ticket);
        matches!((entry.ticket(), current), (Some(made_with), Some(now)) if made_with != now)
    }

    /// Drops a record here and deletes it from the backend on the next flush.
    fn forget(&mut self, key: &str) {
        if !self.has_backend {
            self.remove(key);
            return;
        }
        if let Some(entry) = self.entries.get_mut(key) {
            entry.record = None;
            entry.state = match entry.state {
                State::Writing { .. } => State::Writing { again: true },
                _ => State::Dirty,
            };
        }
    }

    fn insert(&mut self, kind: Kind, key: String, entry: Entry) {
        if self.entries.insert(key, entry).is_none() && kind == Kind::Signature {
            self.signatures += 1;
        }
    }

    fn remove(&mut self, key: &str) {
        if self.entries.remove(key).is_some() && key.starts_with("sig:") {
            self.signatures -= 1;
        }
    }

    fn touch(&mut self, kind: Kind, key: &str) {
        if kind != Kind::Signature {
            return;
        }
        self.tick += 1;
        if let Some(entry) = self.entries.get_mut(key) {
            entry.used = self.tick;
        }
    }

    /// Over the bound, the least recently used clean signatures leave memory
    /// (they stay in the backend); dirty ones wait until they are written.
    /// One scan trims to 90% of the bound, so scans are rare (amortised
    /// O(1) per save) and no second index is needed.
    fn evict(&mut self) {
        let max = self.config.max_signatures;
        if self.signatures <= max || !self.may_evict {
            return;
        }
        let target = max - max / 10;
        let mut clean: Vec<(u64, &String)> = self
            .entries
            .iter()
            .filter(|(k, e)| k.starts_with("sig:") && e.state == State::Clean)
            .map(|(k, e)| (e.used, k))
            .collect();
        let excess = (self.signatures - target).min(clean.len());
        if excess == 0 {
            self.may_evict = false;
            return;
        }
        clean.select_nth_unstable(excess - 1);
        let victims: Vec<String> = clean[..excess].iter().map(|(_, k)| (*k).clone()).collect();
        for key in victims {
            self.remove(&key);
        }
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
