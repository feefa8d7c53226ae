//! The server core's settings and their rules, checked once.

use crate::core::error::{Error, ErrorCode};

/// How often a process re-reads the global record (token and ticket) to
/// see another process's refresh: `recheckInterval`, also for a Store
/// serving signatures without a Wechat.
pub const DEFAULT_RECHECK_MS: u64 = 60_000;

/// What the host's store can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreSettings {
    pub has_backend: bool,
    /// The backend excludes across processes (`lock`/`unlock`).
    pub can_lock: bool,
    /// Every backend call is bounded by this (the host enforces it).
    pub timeout_ms: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            has_backend: false,
            can_lock: false,
            timeout_ms: 5_000,
        }
    }
}

/// `new Wechat({...})` as given; None takes the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WechatParams {
    pub app_id: String,
    pub app_secret: String,
    pub stable_token: bool,
    pub timeout_ms: Option<u64>,
    pub margin_ms: Option<u64>,
    pub lock_ttl_ms: Option<u64>,
    pub recheck_ms: Option<u64>,
    pub session_ttl_ms: Option<u64>,
    pub session_renew: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WechatConfig {
    pub app_id: String,
    pub app_secret: String,
    pub stable_token: bool,
    /// Every call to WeChat is bounded by this (the host enforces it).
    pub http_timeout_ms: u64,
    /// Refresh this long before WeChat's expiry (never before half-life).
    pub margin_ms: u64,
    /// A lease: a dead holder's lock outlives it by at most this much.
    pub lock_ttl_ms: u64,
    /// How long a process waits for another's refresh before giving up.
    pub wait_ms: u64,
    /// Re-read the shared record at most this often, to adopt a refresh
    /// another process made.
    pub recheck_ms: u64,
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    /// Manual refreshes allowed per window, as in wechat-jssdk.
    pub manual_limit: usize,
    pub manual_window_ms: u64,
    /// App sessions: how long one lives, and whether one used after half
    /// its life is extended (sliding expiry).
    pub session_ttl_ms: u64,
    pub session_renew: bool,
}

fn bad(m: String) -> Error {
    Error::new(ErrorCode::BadConfig, m)
}

fn within(name: &str, v: Option<u64>, lo: u64, hi: u64, default: u64) -> Result<u64, Error> {
    match v {
        None => Ok(default),
        Some(n) if (lo..=hi).contains(&n) => Ok(n),
        Some(n) => Err(bad(format!("{name} must be from {lo} to {hi} ms, not {n}"))),
    }
}

impl WechatConfig {
    pub fn new(p: WechatParams, store: StoreSettings) -> Result<WechatConfig, Error> {
        let id_ok =
            |s: &str| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
        if !id_ok(&p.app_id) || !id_ok(&p.app_secret) {
            return Err(bad(
                "appId and appSecret must be non-empty printable ASCII of at most 128 characters"
                    .into(),
            ));
        }
        let http = within("timeout", p.timeout_ms, 1, 600_000, 10_000)?;
        let margin = within("margin", p.margin_ms, 0, 3_600_000, 300_000)?;
        // The lease covers a re-read, a fetch and a write, each bounded.
        let floor = 2 * store.timeout_ms;
        let lock_ttl = within(
            "lockTtl",
            p.lock_ttl_ms,
            1,
            3_600_000,
            http + 2 * store.timeout_ms + 1_000,
        )?;
        if store.can_lock && lock_ttl < floor {
            return Err(bad(format!(
                "lockTtl {lock_ttl} ms is below twice the store's timeout ({floor} ms): the lease could lapse mid-refresh"
            )));
        }
        let recheck = within(
            "recheckInterval",
            p.recheck_ms,
            100,
            3_600_000,
            DEFAULT_RECHECK_MS,
        )?;
        let session_ttl = within(
            "sessions.ttl",
            p.session_ttl_ms,
            60_000,
            365 * 86_400_000,
            7 * 86_400_000,
        )?;
        Ok(WechatConfig {
            app_id: p.app_id,
            app_secret: p.app_secret,
            stable_token: p.stable_token,
            http_timeout_ms: http,
            margin_ms: margin,
            lock_ttl_ms: lock_ttl,
            wait_ms: lock_ttl + http + 1_000,
            recheck_ms: recheck,
            backoff_min_ms: 20,
            backoff_max_ms: 500,
            manual_limit: 5,
            manual_window_ms: 2 * 3_600_000,
            session_ttl_ms: session_ttl,
            session_renew: p.session_renew.unwrap_or(true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> WechatParams {
        WechatParams {
            app_id: "wx1".into(),
            app_secret: "s".into(),
            ..WechatParams::default()
        }
    }

    #[test]
    fn defaults_follow_the_timeouts() {
        let store = StoreSettings {
            has_backend: true,
            can_lock: true,
            timeout_ms: 1_000,
        };
        let c = WechatConfig::new(params(), store).unwrap();
        assert_eq!(
            (c.http_timeout_ms, c.lock_ttl_ms, c.recheck_ms),
            (10_000, 13_000, 60_000)
        );
        assert_eq!(c.wait_ms, 24_000);
    }

    #[test]
    fn a_lease_shorter_than_two_store_calls_is_refused() {
        let store = StoreSettings {
            has_backend: true,
            can_lock: true,
            timeout_ms: 1_000,
        };
        for ttl in [0, 1, 1_999] {
            let p = WechatParams {
                lock_ttl_ms: Some(ttl),
                ..params()
            };
            assert_eq!(
                WechatConfig::new(p, store).unwrap_err().code,
                ErrorCode::BadConfig,
                "{ttl}"
            );
        }
        let p = WechatParams {
            lock_ttl_ms: Some(2_000),
            ..params()
        };
        assert!(WechatConfig::new(p, store).is_ok());
        for bad_params in [
            WechatParams {
                app_id: String::new(),
                ..params()
            },
            WechatParams {
                app_secret: "a b".into(),
                ..params()
            },
            WechatParams {
                recheck_ms: Some(0),
                ..params()
            },
            WechatParams {
                timeout_ms: Some(0),
                ..params()
            },
        ] {
            assert!(WechatConfig::new(bad_params, store).is_err());
        }
    }
}
