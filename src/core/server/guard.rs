//! A named lock for a short section of I/O: the backend's cross-process
//! lock when it has one, else a lock inside this process (so two tasks here
//! never interleave a read-modify-write even on a backend without `lock`).
//! A taken lock is retried every 20 ms until the wait runs out.

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
        }
    }

    pub fn acquire<P: Payload>(&mut self, cx: &mut Cx<P>) -> Step {
        if self.local {
            let now = cx.now;
            cx.local_locks.retain(|_, until| *until > now);
            if !cx.local_locks.contains_key(&self.name) {
                let ttl = cx.cfg.map_or(30_000, |c| c.lock_ttl_ms);
                cx.local_locks.insert(self.name.clone(), now + ttl);
                self.held = true;
                return Step::Held;
            }
            return self.retry(cx);
        }
        self.sleeping = false;
        let ttl_ms = cx.cfg.map_or(30_000, |c| c.lock_ttl_ms);
        Step::Io(Io::Lock {
            name: self.name.clone(),
            ttl_ms,
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
