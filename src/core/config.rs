//! Session options after validation. Hosts pass raw values; anything out of
//! range becomes `BAD_CONFIG` here, before a single request is made.

use crate::core::error::{Error, ErrorCode};

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
            other => Err(bad(format!(
                "checkSession must be 'once', 'always' or 'never', not {other:?}"
            ))),
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
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            check_session: CheckSessionPolicy::Once,
            relogin_on: vec![401],
            max_relogin: 1,
            expiry_margin_ms: 60_000,
        }
    }
}

impl SessionConfig {
    pub fn new(
        check_session: &str,
        relogin_on: &[f64],
        max_relogin: f64,
        expiry_margin_ms: f64,
    ) -> Result<Self, Error> {
        let check_session = CheckSessionPolicy::parse(check_session)?;
        let mut statuses = Vec::with_capacity(relogin_on.len());
        for &s in relogin_on {
            if !(s.fract() == 0.0 && (400.0..=599.0).contains(&s)) {
                return Err(bad(format!(
                    "reloginOn takes HTTP error statuses (400-599), not {s}"
                )));
            }
            statuses.push(s as u16);
        }
        if !(max_relogin.fract() == 0.0 && (0.0..=5.0).contains(&max_relogin)) {
            return Err(bad(format!(
                "maxRelogin must be a whole number from 0 to 5, not {max_relogin}"
            )));
        }
        if !(0.0..=86_400_000.0).contains(&expiry_margin_ms) {
            return Err(bad(format!(
                "expiryMargin must be 0..86400000 ms, not {expiry_margin_ms}"
            )));
        }
        Ok(SessionConfig {
            check_session,
            relogin_on: statuses,
            max_relogin: max_relogin as u32,
            expiry_margin_ms: expiry_margin_ms as u64,
        })
    }
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
            SessionConfig::new("once", &[401.0], 1.0, 60_000.0).unwrap(),
            SessionConfig::default()
        );
    }

    #[test]
    fn rejects_out_of_range_values_with_bad_config() {
        for r in [
            SessionConfig::new("sometimes", &[], 1.0, 0.0),
            SessionConfig::new("once", &[200.0], 1.0, 0.0),
            SessionConfig::new("once", &[401.5], 1.0, 0.0),
            SessionConfig::new("once", &[], -1.0, 0.0),
            SessionConfig::new("once", &[], 1e9, 0.0),
            SessionConfig::new("once", &[], 1.0, f64::NAN),
        ] {
            assert_eq!(r.unwrap_err().code, ErrorCode::BadConfig);
        }
    }
}
