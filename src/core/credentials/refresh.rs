//! One refresh of one credential, as a state machine that does no I/O.
//!
//! With a store that can lock across processes: take the lock, re-read the
//! store (another process may have refreshed while we waited), fetch only
//! if it still holds nothing usable, write, unlock. A process that finds
//! the lock taken backs off and re-reads until the holder's result appears
//! or the lock frees (a dead holder's lock expires after its TTL). Without
//! a lock the same steps run minus the locking, deduplicated in-process.
//!
//! `stale` is a value the caller knows to be bad (a forced refresh, or a
//! token WeChat just rejected): a re-read accepts anything valid except it.
//! That is compare-and-expire: a token is only replaced if the store still
//! holds the one that failed.

use super::fields::{global_patch, View};
use super::{reply, Cred, CredKind, CredentialConfig};
use crate::core::error::{Error, ErrorCode};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `lock(name, ttl_ms)` on the store's backend; answer `locked`.
    Lock {
        name: String,
        ttl_ms: u64,
    },
    /// Read the record bypassing any in-process cache; answer `read`.
    Read,
    /// Wait, then answer `slept`.
    Sleep(u64),
    /// A ticket needs an access token other than `stale`; answer `token`.
    NeedToken {
        stale: Option<String>,
    },
    /// Call WeChat; `arg` is the access token (ticket) or the refresh token
    /// (OAuth). Answer `fetched` with the reply body.
    Fetch {
        arg: String,
    },
    /// Merge `patch` (info JSON) into the record; answer `written`.
    Write {
        patch: String,
    },
    /// Release the lock taken; answer `unlocked`.
    Unlock,
    Done(Result<Cred, Error>),
}

#[derive(Debug)]
pub struct Refresh {
    kind: CredKind,
    config: CredentialConfig,
    lock_name: Option<String>,
    stale: Option<String>,
    holding: bool,
    deadline: u64,
    attempt: u32,
    jitter: u64,
    other_expires_at: u64,
    token_used: Option<String>,
    retried: bool,
    last_error: Option<Error>,
    /// What to resolve with once the lock is released.
    outcome: Option<Result<Cred, Error>>,
    /// The fetched credential while it is written.
    fresh: Option<(Cred, String)>,
}

impl Refresh {
    /// `lock_name` is `None` when the store cannot lock across processes.
    pub fn new(
        kind: CredKind,
        config: CredentialConfig,
        lock_name: Option<String>,
        stale: Option<String>,
        seed: u64,
        now: u64,
    ) -> Refresh {
        Refresh {
            kind,
            deadline: now + config.wait_ms,
            config,
            lock_name,
            stale,
            holding: false,
            attempt: 0,
            jitter: seed | 1,
            other_expires_at: 0,
            token_used: None,
            retried: false,
            last_error: None,
            outcome: None,
            fresh: None,
        }
    }

    pub fn kind(&self) -> CredKind {
        self.kind
    }

    pub fn start(&mut self) -> Step {
        self.lock_or_read()
    }

    fn lock_or_read(&mut self) -> Step {
        match &self.lock_name {
            Some(name) => Step::Lock {
                name: name.clone(),
                ttl_ms: self.config.lock_ttl_ms,
            },
            None => Step::Read,
        }
    }

    fn finish(&mut self, result: Result<Cred, Error>) -> Step {
        if self.holding {
            self.outcome = Some(result);
            Step::Unlock
        } else {
            Step::Done(result)
        }
    }

    /// Someone else holds the lock (or the store failed): back off, or give
    /// up once the wait outlasts any holder's lock.
    fn wait(&mut self, now: u64) -> Step {
        if now >= self.deadline {
            let waited = self.config.wait_ms;
            return Step::Done(Err(self.last_error.take().unwrap_or_else(|| {
                Error::new(
                    ErrorCode::Timeout,
                    format!(
                        "waited {waited} ms for another process to refresh the {}",
                        self.kind.describe()
                    ),
                )
            })));
        }
        // Exponential backoff with jitter, so waiters spread out.
        let ceiling =
            (self.config.backoff_min_ms << self.attempt.min(10)).min(self.config.backoff_max_ms);
        self.attempt += 1;
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let delay = ceiling / 2 + self.jitter % (ceiling / 2 + 1);
        Step::Sleep(delay.min(self.deadline - now).max(1))
    }

    pub fn locked(&mut self, acquired: Result<bool, Error>, now: u64) -> Step {
        match acquired {
            Ok(true) => {
                self.holding = true;
                Step::Read
            }
            Ok(false) => self.wait(now),
            Err(e) => {
                self.last_error = Some(e);
                self.wait(now)
            }
        }
    }

    pub fn slept(&mut self) -> Step {
        Step::Read
    }

    /// The record as read (`None`: nothing stored).
    pub fn read(&mut self, info: Result<Option<&str>, Error>, now: u64) -> Step {
        let view = match info {
            Ok(info) => info.map(|i| View::read(self.kind, i)).unwrap_or_default(),
            Err(e) if self.holding || self.lock_name.is_none() => return self.finish(Err(e)),
            Err(e) => {
                self.last_error = Some(e);
                return self.wait(now);
            }
        };
        if let Some(cred) = view
            .current(now)
            .filter(|c| Some(&c.value) != self.stale.as_ref())
        {
            return self.finish(Ok(cred));
        }
        if self.lock_name.is_some() && !self.holding {
            // The holder has not written yet, or gave up: try for the lock.
            return if now >= self.deadline {
                self.wait(now)
            } else {
                self.lock_or_read()
            };
        }
        self.other_expires_at = view.other_expires_at;
        match self.kind {
            CredKind::Token => Step::Fetch { arg: String::new() },
            CredKind::Ticket => Step::NeedToken { stale: None },
            CredKind::OAuth => match view.refresh_token {
                Some(arg) => Step::Fetch { arg },
                None => self.finish(Err(Error::new(
                    ErrorCode::BadInput,
                    "no OAuth token is stored under this key: exchange a code first",
                ))),
            },
        }
    }

    pub fn token(&mut self, token: Result<String, Error>) -> Step {
        match token {
            Ok(token) => {
                self.token_used = Some(token.clone());
                Step::Fetch { arg: token }
            }
            Err(e) => self.finish(Err(e)),
        }
    }

    pub fn fetched(&mut self, body: Result<&str, Error>, now: u64) -> Step {
        let margin = self.config.margin_ms;
        let parsed = body.and_then(|body| match self.kind {
            CredKind::Token => {
                reply::credential(body, "access_token", margin, now).map(|(cred, expires_at)| {
                    let patch = global_patch(
                        self.kind,
                        &cred,
                        expires_at,
                        self.other_expires_at,
                        None,
                        now,
                    );
                    (cred, patch)
                })
            }
            CredKind::Ticket => {
                reply::credential(body, "ticket", margin, now).map(|(cred, expires_at)| {
                    let used = self.token_used.as_deref();
                    let patch = global_patch(
                        self.kind,
                        &cred,
                        expires_at,
                        self.other_expires_at,
                        used,
                        now,
                    );
                    (cred, patch)
                })
            }
            CredKind::OAuth => {
                reply::oauth_info(body, margin, now).map(|(info, cred)| (cred, info))
            }
        });
        match parsed {
            Ok((cred, patch)) => {
                self.fresh = Some((cred, patch.clone()));
                Step::Write { patch }
            }
            // The ticket call said our token is no good: replace that token
            // (only if the store still holds it) and try once more.
            Err(e) if self.kind == CredKind::Ticket && e.is_token_rejection() && !self.retried => {
                self.retried = true;
                Step::NeedToken {
                    stale: self.token_used.take(),
                }
            }
            Err(e) => self.finish(Err(e)),
        }
    }

    /// A failed write still resolves with the fresh credential: it is valid,
    /// and the store keeps it in memory and retries the write.
    pub fn written(&mut self) -> Step {
        match self.fresh.take() {
            Some((cred, _)) => self.finish(Ok(cred)),
            None => self.finish(Err(Error::new(
                ErrorCode::BadInput,
                "written() without a write",
            ))),
        }
    }

    pub fn unlocked(&mut self) -> Step {
        self.holding = false;
        Step::Done(
            self.outcome.take().unwrap_or_else(|| {
                Err(Error::new(ErrorCode::BadInput, "unlocked() without a lock"))
            }),
        )
    }
}
