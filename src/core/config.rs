//! Session options after validation. Hosts pass raw values; anything out of
//! range becomes `BAD_CONFIG` here, before a single request is made.

use crate::core::error::{Error, ErrorCode};
use crate::core::json::{cat, int, quote};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckSessionPolicy {
    /// `wx.checkSession` before the first request of an app lifecycle.
    Once,
    Always,
    Never,
}

impl CheckSessionPolicy {
    pub fn parse(s: &str) -> Result<Self, Error> {
        match s {
            "once" => Ok(Self::Once),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            other => Err(bad(cat(&[
                "checkSession must be 'once', 'always' or 'never', not ",
                &quote(other),
            ]))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    pub check_session: CheckSessionPolicy,
    /// Statuses that mean "your token is no good": drop it, log in, replay.
    pub relogin_on: Vec<u16>,
    /// How many times one request may be replayed after a re-login.
    pub max_relogin: u32,
    /// Renew this long before the server-given expiry.
    pub expiry_margin_ms: u64,
    /// The host has an `onEvent` hook: queue a report per backend call
    /// attempt, login and check (none otherwise, so the hot path stays bare).
    pub report_events: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            check_session: CheckSessionPolicy::Once,
            relogin_on: vec![401],
            max_relogin: 1,
            expiry_margin_ms: 60_000,
            report_events: false,
        }
    }
}

/// What each number may be, for the messages that reject it.
pub(crate) const RELOGIN_ON_RULE: &str = "reloginOn takes HTTP error statuses (400-599)";
pub(crate) const MAX_RELOGIN_RULE: &str = "maxRelogin must be a whole number from 0 to 5";
pub(crate) const EXPIRY_MARGIN_RULE: &str = "expiryMargin must be 0..86400000 ms";

impl SessionConfig {
    pub fn new(
        check_session: &str,
        relogin_on: &[u16],
        max_relogin: u32,
        expiry_margin_ms: u64,
    ) -> Result<Self, Error> {
        let check_session = CheckSessionPolicy::parse(check_session)?;
        if let Some(&s) = relogin_on.iter().find(|s| !(400..=599).contains(*s)) {
            return Err(out_of_range(RELOGIN_ON_RULE, i64::from(s)));
        }
        if max_relogin > 5 {
            return Err(out_of_range(MAX_RELOGIN_RULE, i64::from(max_relogin)));
        }
        if expiry_margin_ms > 86_400_000 {
            return Err(out_of_range(
                EXPIRY_MARGIN_RULE,
                i64::try_from(expiry_margin_ms).unwrap_or(i64::MAX),
            ));
        }
        Ok(SessionConfig {
            check_session,
            relogin_on: relogin_on.to_vec(),
            max_relogin,
            expiry_margin_ms,
            report_events: false,
        })
    }
}

/// `rule`, and the whole number that broke it.
pub(crate) fn out_of_range(rule: &str, n: i64) -> Error {
    bad(cat(&[rule, ", not ", &int(n)]))
}

fn bad(message: String) -> Error {
    Error::new(ErrorCode::BadConfig, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_defaults() {
        assert_eq!(
            SessionConfig::new("once", &[401], 1, 60_000).unwrap(),
            SessionConfig::default()
        );
    }

    #[test]
    fn rejects_out_of_range_values_with_bad_config() {
        for r in [
            SessionConfig::new("sometimes", &[], 1, 0),
            SessionConfig::new("once", &[200], 1, 0),
            SessionConfig::new("once", &[401, 600], 1, 0),
            SessionConfig::new("once", &[], 6, 0),
            SessionConfig::new("once", &[], u32::MAX, 0),
            SessionConfig::new("once", &[], 1, 86_400_001),
            SessionConfig::new("once", &[], 1, u64::MAX),
        ] {
            assert_eq!(r.unwrap_err().code, ErrorCode::BadConfig);
        }
        let e = SessionConfig::new("once", &[401, 302], 1, 0).unwrap_err();
        assert_eq!(
            e.message,
            "reloginOn takes HTTP error statuses (400-599), not 302"
        );
        let e = SessionConfig::new("often", &[], 1, 0).unwrap_err();
        assert!(e.message.ends_with(r#"not "often""#), "{}", e.message);
    }
}
