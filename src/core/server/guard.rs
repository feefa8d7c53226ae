//! A named lock for a short section of I/O: the backend's cross-process
//! lock when it has one, else a lock inside this process (so two tasks here
//! never interleave a read-modify-write even on a backend without `lock`).
//! A taken lock is retried every 20 ms until the wait runs out.
//!
//! A backend lock is a lease: before a section writes, `lease_lasts` tells
//! whether the lease still outlives one more backend call, so a section
//! that ran long never writes after another process may have taken over.
//! A lock inside this process has no lease: its holder is a task here,
//! which always ends (every I/O has a deadline) and releases it.

use super::io::{Answer, Io};
use super::Cx;
use crate::core::error::{Error, ErrorCode};
use crate::core::store::Payload;

pub(crate) enum Step {
    /// Held: go on with the section.
    Held,
    /// Waiting: perform this and hand its answer to `answered`.
    Io(Io),
    Failed(Error),
}

#[derive(Debug)]
pub(crate) struct Guard {
    name: String,
    /// The backend's lock token, once held there.
    token: Option<String>,
    local: bool,
    held: bool,
    deadline: u64,
    sleeping: bool,
    /// When the lock request that got the lease was sent.
    asked_at: u64,
}

impl Guard {
    pub fn new<P: Payload>(name: String, cx: &Cx<P>) -> Guard {
        let wait = cx.cfg.map_or(10_000, |c| c.wait_ms);
        Guard {
            name,
            token: None,
            local: !cx.settings.can_lock,
            held: false,
            deadline: cx.now + wait,
            sleeping: false,
            asked_at: 0,
        }
    }

    /// A guard that waits at most `wait_ms` for the lock: for work that
    /// may as well be skipped when the lock is busy (a renewal).
    pub fn brief<P: Payload>(name: String, cx: &Cx<P>, wait_ms: u64) -> Guard {
        let mut guard = Guard::new(name, cx);
        guard.deadline = cx.now + wait_ms;
        guard
    }

    /// Whether the lease outlives one more backend call from now (always,
    /// for a lock inside this process).
    pub fn lease_lasts<P: Payload>(&self, cx: &Cx<P>) -> bool {
        if self.local {
            return self.held;
        }
        self.held && lease_outlives(cx.now, cx.settings.timeout_ms, self.asked_at, lease_ttl(cx))
    }

    pub fn acquire<P: Payload>(&mut self, cx: &mut Cx<P>) -> Step {
        if self.local {
            if cx.local_locks.insert(self.name.clone()) {
                self.held = true;
                return Step::Held;
            }
            return self.retry(cx);
        }
        self.sleeping = false;
        self.asked_at = cx.now;
        Step::Io(Io::Lock {
            name: self.name.clone(),
            ttl_ms: lease_ttl(cx),
        })
    }

    pub fn answered<P: Payload>(&mut self, cx: &mut Cx<P>, answer: Answer) -> Step {
        if self.sleeping {
            return self.acquire(cx);
        }
        match answer {
            Ok(Some(token)) => {
                self.token = Some(token.to_owned());
                self.held = true;
                Step::Held
            }
            Ok(None) => self.retry(cx),
            Err(e) => Step::Failed(e),
        }
    }

    fn retry<P: Payload>(&mut self, cx: &Cx<P>) -> Step {
        if cx.now >= self.deadline {
            return Step::Failed(Error::new(
                ErrorCode::Timeout,
                format!("{} stayed locked too long", self.name),
            ));
        }
        self.sleeping = true;
        Step::Io(Io::Sleep { ms: 20 })
    }

    /// Releases the lock: the backend unlock to perform, if there is one.
    pub fn release<P: Payload>(&mut self, cx: &mut Cx<P>) -> Option<Io> {
        if !self.held {
            return None;
        }
        self.held = false;
        if self.local {
            cx.local_locks.remove(&self.name);
            return None;
        }
        let token = self.token.take()?;
        Some(Io::Unlock {
            name: self.name.clone(),
            token,
        })
    }
}

/// The lease a guard asks for: the Wechat's `lockTtl` (30 s before one
/// attaches).
fn lease_ttl<P: Payload>(cx: &Cx<P>) -> u64 {
    cx.cfg.map_or(30_000, |c| c.lock_ttl_ms)
}

/// Whether a lease taken at `asked_at` for `ttl` ms still holds once a
/// backend call sent at `sent` has answered (`timeout_ms` bounds it): what
/// is written under a lock must land before the lease lapses.
pub(crate) fn lease_outlives(sent: u64, timeout_ms: u64, asked_at: u64, ttl: u64) -> bool {
    sent + timeout_ms < asked_at + ttl
}
