//! WeChat's server-side credentials (access_token, jsapi_ticket, OAuth
//! tokens): when they are usable, and one refresh per credential at a
//! time, in-process and, with a locking store, across processes.

pub mod fields;
pub mod refresh;
pub mod reply;

#[cfg(test)]
mod refresh_tests;

use crate::core::error::{Error, ErrorCode};
use crate::core::json::{parse_object, Value};
use refresh::{Refresh, Step};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredKind {
    Token,
    Ticket,
    OAuth,
}

impl CredKind {
    pub fn from_u8(n: u8) -> Option<CredKind> {
        [CredKind::Token, CredKind::Ticket, CredKind::OAuth]
            .get(n as usize)
            .copied()
    }

    fn describe(self) -> &'static str {
        match self {
            CredKind::Token => "access_token",
            CredKind::Ticket => "jsapi_ticket",
            CredKind::OAuth => "OAuth access_token",
        }
    }
}

/// A usable credential and when to stop using it (epoch ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cred {
    pub value: String,
    pub refresh_at: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialConfig {
    /// Refresh this long before WeChat's expiry.
    pub margin_ms: u64,
    /// A lock outlives a holder that died by at most this much.
    pub lock_ttl_ms: u64,
    /// How long a process waits for another's refresh before giving up.
    pub wait_ms: u64,
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    /// Manual (non-forced) refreshes allowed per window, as in wechat-jssdk.
    pub manual_limit: usize,
    pub manual_window_ms: u64,
}

impl CredentialConfig {
    /// Defaults follow the HTTP `timeout`: a holder's lock covers a read,
    /// a fetch and a write, and waiters outlast one dead holder's lock.
    pub fn with_timeout(timeout_ms: u64) -> CredentialConfig {
        let lock_ttl_ms = 2 * timeout_ms + 5_000;
        CredentialConfig {
            margin_ms: 300_000,
            lock_ttl_ms,
            wait_ms: lock_ttl_ms + timeout_ms + 1_000,
            backoff_min_ms: 20,
            backoff_max_ms: 500,
            manual_limit: 5,
            manual_window_ms: 2 * 3_600_000,
        }
    }

    /// `{"timeout","margin","lockTtl","wait"}` in ms, all optional.
    pub fn from_json(text: &str) -> Result<CredentialConfig, Error> {
        let bad = |m: &str| Error::new(ErrorCode::BadConfig, m.to_owned());
        let mut fields = Vec::new();
        for (key, value) in parse_object(text, ErrorCode::BadConfig)? {
            let Value::Int(n) = value else {
                return Err(bad(&format!("{key} must be a whole number of ms")));
            };
            if !(0..=86_400_000).contains(&n) {
                return Err(bad(&format!("{key} must be between 0 and 86400000 ms")));
            }
            if !["timeout", "margin", "lockTtl", "wait"].contains(&key.as_str()) {
                return Err(bad(&format!("unknown credential option {key}")));
            }
            fields.push((key, n as u64));
        }
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
        let timeout = field("timeout").unwrap_or(10_000).max(1);
        let mut config = CredentialConfig::with_timeout(timeout);
        if let Some(m) = field("margin") {
            config.margin_ms = m;
        }
        if let Some(t) = field("lockTtl") {
            config.lock_ttl_ms = t.max(1);
            config.wait_ms = t + timeout + 1_000;
        }
        if let Some(w) = field("wait") {
            config.wait_ms = w;
        }
        Ok(config)
    }
}

/// Where `Credentials::memo` keeps a kind; OAuth tokens are not memoised.
fn memo_slot(kind: CredKind) -> Option<usize> {
    match kind {
        CredKind::Token => Some(0),
        CredKind::Ticket => Some(1),
        CredKind::OAuth => None,
    }
}

/// What the host reports back for a step.
#[derive(Debug)]
pub enum Event<'a> {
    Locked(Result<bool, Error>),
    Slept,
    Read(Result<Option<&'a str>, Error>),
    Token(Result<String, Error>),
    Fetched(Result<&'a str, Error>),
    Written,
    Unlocked,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Begin {
    /// Another caller's refresh of the same credential is running: share it.
    Joined(u32),
    Started(u32, Step),
}

/// All refreshes of one app's credentials in one process.
#[derive(Debug)]
pub struct Credentials {
    config: CredentialConfig,
    /// (flight id, credential key, refresh): a handful at most, so a Vec.
    flights: Vec<(u32, String, Refresh)>,
    /// The last token and ticket seen usable, so a warm call needs no
    /// store read. The same staleness as the store's own memory cache.
    memo: [Option<Cred>; 2],
    /// The token remembered when the ticket was: a ticket is bound to it.
    ticket_token: Option<String>,
    next: u32,
    manual: Vec<u64>,
}

impl Credentials {
    pub fn new(config: CredentialConfig) -> Credentials {
        Credentials {
            config,
            flights: Vec::new(),
            memo: [None, None],
            ticket_token: None,
            next: 1,
            manual: Vec::new(),
        }
    }

    pub fn config(&self) -> CredentialConfig {
        self.config
    }

    /// The credential in a stored info object, if usable at `now`.
    pub fn current(&mut self, kind: CredKind, info: &str, now: u64) -> Option<Cred> {
        let cred = fields::View::read(kind, info).current(now)?;
        self.remember(kind, &cred);
        Some(cred)
    }

    /// The remembered token or ticket if still usable (never an OAuth token:
    /// there are many, and each lives in the store).
    pub fn cached(&self, kind: CredKind, now: u64) -> Option<&Cred> {
        self.memo[memo_slot(kind)?]
            .as_ref()
            .filter(|c| now < c.refresh_at)
    }

    fn remember(&mut self, kind: CredKind, cred: &Cred) {
        match kind {
            CredKind::Token => {
                // A ticket is bound to the token it was fetched with.
                if self.ticket_token.as_ref() != Some(&cred.value) {
                    self.memo[1] = None;
                }
                self.memo[0] = Some(cred.clone());
            }
            CredKind::Ticket => {
                self.ticket_token = self.memo[0].as_ref().map(|t| t.value.clone());
                self.memo[1] = Some(cred.clone());
            }
            CredKind::OAuth => {}
        }
    }

    fn forget(&mut self, kind: CredKind, value: &str) {
        let Some(slot) = memo_slot(kind) else { return };
        if self.memo[slot].as_ref().is_some_and(|c| c.value == value) {
            self.memo[slot] = None;
        }
    }

    /// Starts or joins the refresh of `kind` (`id`: the OAuth key).
    /// `can_lock`: the store can lock across processes.
    pub fn begin(
        &mut self,
        kind: CredKind,
        id: &str,
        stale: Option<String>,
        can_lock: bool,
        now: u64,
    ) -> Begin {
        let key = match kind {
            CredKind::Token => "token".to_owned(),
            CredKind::Ticket => "ticket".to_owned(),
            CredKind::OAuth => format!("oauth:{id}"),
        };
        if let Some(bad) = &stale {
            self.forget(kind, bad);
        }
        if let Some((flight, _, _)) = self.flights.iter().find(|(_, k, _)| *k == key) {
            return Begin::Joined(*flight);
        }
        let flight = self.next;
        self.next = if self.next >= 0x3fff_ffff {
            1
        } else {
            self.next + 1
        };
        let lock_name = can_lock.then(|| format!("lock:{key}"));
        let seed = now ^ (u64::from(flight) << 32) ^ 0x9e37_79b9_7f4a_7c15;
        let mut refresh = Refresh::new(kind, self.config, lock_name, stale, seed, now);
        let step = refresh.start();
        self.flights.push((flight, key, refresh));
        Begin::Started(flight, step)
    }

    /// Feeds a step's outcome to its refresh; the flight ends with `Done`.
    pub fn advance(&mut self, flight: u32, event: Event, now: u64) -> Result<Step, Error> {
        let index = self
            .flights
            .iter()
            .position(|(id, _, _)| *id == flight)
            .ok_or_else(|| Error::new(ErrorCode::BadInput, "no such refresh in flight"))?;
        let refresh = &mut self.flights[index].2;
        let step = match event {
            Event::Locked(r) => refresh.locked(r, now),
            Event::Slept => refresh.slept(),
            Event::Read(r) => refresh.read(r, now),
            Event::Token(r) => refresh.token(r),
            Event::Fetched(r) => refresh.fetched(r, now),
            Event::Written => refresh.written(),
            Event::Unlocked => refresh.unlocked(),
        };
        if let Step::Done(result) = &step {
            if let Ok(cred) = result {
                let kind = self.flights[index].2.kind();
                self.remember(kind, cred);
            }
            self.flights.swap_remove(index);
        }
        Ok(step)
    }

    pub fn in_flight(&self) -> usize {
        self.flights.len()
    }

    /// Counts a manual refresh; refuses beyond the limit per window, since
    /// every refresh spends WeChat's daily quota.
    pub fn manual_refresh(&mut self, now: u64) -> Result<(), Error> {
        let window = self.config.manual_window_ms;
        self.manual.retain(|t| now < t + window);
        if self.manual.len() >= self.config.manual_limit {
            let wait_s = (self.manual[0] + window - now).div_ceil(1000);
            return Err(Error::new(
                ErrorCode::RateLimited,
                format!(
                    "at most {} manual refreshes per {} min; the next is allowed in {wait_s} s",
                    self.config.manual_limit,
                    window / 60_000
                ),
            ));
        }
        self.manual.push(now);
        Ok(())
    }
}
