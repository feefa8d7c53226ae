//! The credential side of the cache: re-reading a shared record without
//! losing a newer copy, and the records a refresh owns under its lock
//! (`State::Held`) or could not write before its lease ran out
//! (`State::Unsent`).

use super::{is_user_kind, Kind, Payload, Record, Reread, State, StoreCore};
use crate::core::error::Error;

/// A record's identity for "has anyone written it since": a hash of its
/// content (0 for no record). Equal content, equal fingerprint, whoever
/// wrote it and whatever their clock said.
pub fn fingerprint<P: Payload>(record: Option<&Record<P>>) -> u64 {
    record.map_or(0, |r| {
        crate::core::store::meta::ticket_hash(&r.payload.to_json()).get()
            ^ r.expires_at.map_or(0, |e| e.get())
    })
}

impl<P: Payload> StoreCore<P> {
    /// A credential record read again past the cache (`raw`: what the
    /// backend answered). The copy in memory is dropped only once the read
    /// succeeded, and never for an older one: a write made here after
    /// `epoch`, or a dirty record newer than the backend's, stays.
    pub fn reread(
        &mut self,
        kind: Kind,
        id: &str,
        raw: Result<Option<&str>, Error>,
        epoch: u32,
        now: u64,
    ) -> Reread {
        let key = kind.key(id);
        if let Some(entry) = self.entries.get_mut(&key) {
            // An unsent entry is judged by its base below, whatever was
            // changed here meanwhile.
            if entry.written > epoch && entry.state != State::Unsent {
                return Reread::Kept;
            }
            // Checked now, whatever the answer: a backend that is down is
            // asked again after the interval, not on every call.
            entry.checked_at = now;
        }
        let decoded = match raw {
            Err(_) => return Reread::Kept,
            Ok(None) => None,
            Ok(Some(text)) => match Record::decode(kind, text) {
                Ok(r) => Some(r),
                Err(_) => return self.keep_or_empty(kind, key, now, Reread::Corrupt),
            },
        };
        let live = decoded.filter(|r| !r.is_expired(now));
        let Some(fresh) = live else {
            // Nothing usable there (a restarted Redis): a live copy here is
            // still WeChat-valid, so keep serving it.
            return self.keep_or_empty(kind, key, now, Reread::Adopted);
        };
        if let Some(entry) = self.entries.get(&key) {
            let ours = entry
                .record
                .as_ref()
                .and_then(|r| r.meta.creds())
                .map_or(0, |c| c.modified_at);
            let theirs = fresh.meta.creds().map_or(0, |c| c.modified_at);
            if entry.state == State::Unsent {
                let base = self.unsent_bases.get(&key).copied().unwrap_or(0);
                // Not clocks nor counts (other writers keep neither in step):
                // the backend still holds exactly what ours was built on.
                if fingerprint(Some(&fresh)) == base {
                    return Reread::Kept;
                }
            } else if entry.state != State::Clean && ours > theirs {
                return Reread::Kept;
            }
        }
        self.unsent_bases.remove(&key);
        self.insert(kind, key, Some(fresh), State::Clean, false, now);
        Reread::Adopted
    }

    fn keep_or_empty(&mut self, kind: Kind, key: String, now: u64, outcome: Reread) -> Reread {
        let live = self
            .entries
            .get(&key)
            .is_some_and(|e| e.record.as_ref().is_some_and(|r| !r.is_expired(now)));
        if live {
            return outcome;
        }
        if is_user_kind(kind) {
            self.remove(&key);
        } else {
            self.insert(kind, key, None, State::Clean, false, now);
        }
        outcome
    }

    /// A credential a refresh fetched under its lock: served at once,
    /// written only by that refresh (see `State::Held`).
    pub fn put_held(&mut self, kind: Kind, id: &str, record: Record<P>, now: u64) {
        let key = kind.key(id);
        self.put(kind, id, record, now);
        // Its base, if it was unsent, was taken by the refresh already.
        self.unsent_bases.remove(&key);
        if self.has_backend {
            if let Some(entry) = self.entries.get_mut(&key) {
                entry.owned = true;
                if matches!(entry.state, State::Dirty | State::Held | State::Unsent) {
                    entry.state = State::Held;
                }
            }
        }
    }

    /// An unsent credential is about to be written under the lock again:
    /// the update count it was built on, if it was unsent.
    pub fn hold(&mut self, kind: Kind, id: &str) -> Option<u64> {
        let key = kind.key(id);
        let entry = self.entries.get_mut(&key)?;
        if entry.state != State::Unsent {
            return None;
        }
        let base = self.unsent_bases.remove(&key).unwrap_or(0);
        entry.state = State::Held;
        entry.owned = true;
        Some(base)
    }

    /// A write of a held credential was answered: written, or held for the
    /// refresh to send again. A change made here meanwhile (`again`) is an
    /// ordinary dirty record.
    pub fn held_write_done(&mut self, key: &str, ok: bool, now: u64) {
        self.in_flight.remove(key);
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.state = match entry.state {
            State::Writing { again: false } if ok => {
                entry.checked_at = now;
                entry.owned = false;
                State::Clean
            }
            // Changed meanwhile: the refresh sends the newer one.
            State::Writing { .. } => State::Held,
            other => other,
        };
    }

    /// The refresh's lease ran out before its write landed (see
    /// `State::Unsent`); `base` is the fingerprint of the record it was
    /// built on.
    pub fn unsent(&mut self, key: &str, base: u64) {
        if let Some(entry) = self.entries.get_mut(key) {
            if entry.owned && matches!(entry.state, State::Held | State::Dirty) {
                entry.state = State::Unsent;
                self.unsent_bases.insert(key.to_owned(), base);
            } else if entry.owned && matches!(entry.state, State::Writing { .. }) {
                // A flush is writing the key: Unsent once it is answered.
                self.unsent_bases.insert(key.to_owned(), base);
            }
        }
    }

    /// A look at the backend failed: asked again after the interval, not on
    /// every call (as `reread` does for a failed read).
    pub fn mark_checked(&mut self, kind: Kind, id: &str, now: u64) {
        if let Some(e) = self.entries.get_mut(&kind.key(id)) {
            e.checked_at = now;
        }
    }

    /// The fingerprint of the record an unsent credential was built on.
    pub fn unsent_base(&self, kind: Kind, id: &str) -> Option<u64> {
        match self.entry(kind, id)?.state {
            State::Unsent => self.unsent_bases.get(&kind.key(id)).copied(),
            _ => None,
        }
    }

    /// An owned credential whose key a flush is writing right now (it took
    /// the record before the refresh put its own).
    pub fn owned_in_flight(&self, kind: Kind, id: &str) -> bool {
        self.entry(kind, id)
            .is_some_and(|e| e.owned && matches!(e.state, State::Writing { .. }))
    }

    /// Whether a refresh's credential was changed here while written.
    pub fn is_held(&self, kind: Kind, id: &str) -> bool {
        self.entry(kind, id)
            .is_some_and(|e| e.owned && e.state == State::Held)
    }

    /// Whether a credential here was never written (see `State::Unsent`).
    pub fn is_unsent(&self, kind: Kind, id: &str) -> bool {
        self.entry(kind, id)
            .is_some_and(|e| e.state == State::Unsent)
    }
}
