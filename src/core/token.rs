//! The app's own session token as the client keeps it: validated on the way
//! in (exchange response, storage) so that nothing downstream has to doubt it.

use crate::core::error::{Error, ErrorCode};
use crate::core::json::{self, Value};

/// Persisted format version; a value without it is somebody else's data.
const FORMAT_VERSION: i64 = 1;
/// Tokens travel in an HTTP header; anything this large is a server bug.
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// `expiresIn` is clamped to this range of seconds: below a second a burst
/// would log in for nearly every request, and past a year "expires" means
/// "never" in practice. Neither is a lifetime a backend means to give.
pub const MIN_EXPIRES_IN_SECS: f64 = 1.0;
pub const MAX_EXPIRES_IN_SECS: f64 = 365.0 * 24.0 * 3600.0;
const MAX_LIFETIME_MS: u64 = 365 * 24 * 3600 * 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    pub token: String,
    pub issued_at: u64,
    /// `None`: the server gave no lifetime; the token lives until a 401.
    pub expires_at: Option<u64>,
}

/// What was found in storage. Both bad shapes mean "anonymous"; they are kept
/// apart only so hosts can report them.
#[derive(Debug, PartialEq, Eq)]
pub enum Loaded {
    Missing,
    Valid(TokenRecord),
    Unusable,
}

impl TokenRecord {
    /// Builds a record from what the app backend's exchange returned.
    /// `expires_in_secs` is `None` when the body had none (the token lives
    /// until a 401); hosts pass NaN for a value that is not a number.
    pub fn from_exchange(
        token: Option<&str>,
        expires_in_secs: Option<f64>,
        now: u64,
    ) -> Result<Self, Error> {
        let token = token.unwrap_or("");
        check_token(token).map_err(|why| Error::new(ErrorCode::ExchangeFailed, why))?;
        let expires_at = match expires_in_secs {
            None => None,
            Some(s) if s.is_finite() && s > 0.0 => {
                let s = s.clamp(MIN_EXPIRES_IN_SECS, MAX_EXPIRES_IN_SECS);
                Some(now.saturating_add((s * 1000.0) as u64))
            }
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::ExchangeFailed,
                    "expiresIn must be a positive number of seconds",
                ))
            }
        };
        Ok(TokenRecord {
            token: token.to_owned(),
            issued_at: now,
            expires_at,
        })
    }

    pub fn load(raw: Option<&str>) -> Loaded {
        let raw = match raw {
            None | Some("") => return Loaded::Missing,
            Some(raw) => raw,
        };
        Self::parse(raw).map_or(Loaded::Unusable, Loaded::Valid)
    }

    /// `{"v":1,"token":…,"issuedAt":…,"expiresAt":…|null}`, nothing else;
    /// `expiresAt` may be left out.
    fn parse(raw: &str) -> Option<TokenRecord> {
        let (mut v, mut token, mut issued_at, mut expires_at) = (None, None, None, None);
        // Epoch ms: a whole number >= 0, or null.
        let time = |raw: &str| -> Result<Option<u64>, json::WrongType> {
            json::as_int(raw)?
                .map(|n| u64::try_from(n).map_err(|_| json::WrongType))
                .transpose()
        };
        for (key, raw) in json::object(raw, ErrorCode::BadInput).ok()?.members() {
            match key {
                "v" => v = json::as_int(raw).ok()?,
                "token" => token = json::as_str(raw).ok()?,
                "issuedAt" => issued_at = Some(time(raw).ok()??),
                "expiresAt" => expires_at = time(raw).ok()?,
                _ => return None,
            }
        }
        let (token, issued_at) = (token?, issued_at?);
        // A lifetime no exchange can produce means the value was edited.
        let impossible =
            matches!(expires_at, Some(e) if e < issued_at || e - issued_at > MAX_LIFETIME_MS);
        if v != Some(FORMAT_VERSION) || check_token(&token).is_err() || impossible {
            return None;
        }
        Some(TokenRecord {
            token,
            issued_at,
            expires_at,
        })
    }

    pub fn to_json(&self) -> String {
        let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        json::write_object(&[
            ("v", Value::Int(FORMAT_VERSION)),
            ("token", Value::Str(self.token.clone())),
            ("issuedAt", int(self.issued_at)),
            ("expiresAt", self.expires_at.map_or(Value::Null, int)),
        ])
    }

    /// Usable at `now`, renewing `margin_ms` early. The margin is capped at half
    /// the token's lifetime so that short-lived tokens are still used at all.
    pub fn is_fresh(&self, now: u64, margin_ms: u64) -> bool {
        match self.expires_at {
            None => true,
            Some(expires_at) => {
                let lifetime = expires_at.saturating_sub(self.issued_at);
                let margin = margin_ms.min(lifetime / 2);
                now < expires_at.saturating_sub(margin)
            }
        }
    }
}

fn check_token(token: &str) -> Result<(), &'static str> {
    if token.is_empty() {
        return Err("the exchange response has no token");
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err("the token is longer than 8 KiB");
    }
    // Visible ASCII only: a control character would split the header, and
    // fetch and wx.request refuse (or mangle) anything past U+00FF, so such
    // a token would fail every request instead of this one login.
    if !token.bytes().all(|b| (0x21..0x7f).contains(&b)) {
        return Err("the token has characters an HTTP header cannot carry (visible ASCII only)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_storage() {
        let t = TokenRecord::from_exchange(Some("abc"), Some(7200.0), 1_000).unwrap();
        assert_eq!(t.expires_at, Some(7_201_000));
        assert_eq!(
            t.to_json(),
            r#"{"v":1,"token":"abc","issuedAt":1000,"expiresAt":7201000}"#
        );
        assert_eq!(TokenRecord::load(Some(&t.to_json())), Loaded::Valid(t));
        let forever = TokenRecord::from_exchange(Some("a\"\\~"), None, 5).unwrap();
        let json = forever.to_json();
        assert_eq!(
            json,
            r#"{"v":1,"token":"a\"\\~","issuedAt":5,"expiresAt":null}"#
        );
        assert_eq!(TokenRecord::load(Some(&json)), Loaded::Valid(forever));
        let Loaded::Valid(t) = TokenRecord::load(Some(r#"{"token":"t","v":1,"issuedAt":2}"#))
        else {
            panic!("expiresAt may be left out")
        };
        assert_eq!((t.issued_at, t.expires_at), (2, None));
    }

    #[test]
    fn missing_corrupt_and_foreign_values_are_not_tokens() {
        assert_eq!(TokenRecord::load(None), Loaded::Missing);
        assert_eq!(TokenRecord::load(Some("")), Loaded::Missing);
        for bad in [
            "{",
            "null",
            "42",
            "\"tok\"",
            "{\"token\":\"x\"}",
            "{\"v\":2,\"token\":\"x\",\"issuedAt\":0,\"expiresAt\":null}",
            "{\"v\":1,\"token\":\"\",\"issuedAt\":0,\"expiresAt\":null}",
            "{\"v\":1,\"token\":\"x\",\"issuedAt\":5,\"expiresAt\":4}",
            "{\"v\":1,\"token\":\"x\",\"issuedAt\":0,\"expiresAt\":null,\"sessionKey\":\"k\"}",
            r#"{"v":1,"token":"x","issuedAt":0,"expiresAt":null} x"#,
            r#"{"v":1,"token":"x","issuedAt":0,"issuedAt":0}"#,
            r#"{"v":1,"token":"x","issuedAt":-1}"#,
            r#"{"v":1,"token":"x","issuedAt":1.5}"#,
            r#"{"v":1,"token":"x","issuedAt":"0"}"#,
            r#"{"v":1,"token":"x","issuedAt":0,"expiresAt":-5}"#,
            r#"{"v":1,"token":"x","issuedAt":0,"expiresAt":[1]}"#,
            r#"{"v":"1","token":"x","issuedAt":0}"#,
            r#"{"v":1,"token":null,"issuedAt":0}"#,
            r#"{"v":1,"token":"a\u0000b","issuedAt":0}"#,
            r#"{"v":1,"token":"a\u20acb","issuedAt":0}"#,
            r#"{"v":1,"token":"a b","issuedAt":0}"#,
            r#"{"v":1,"token":"x","issuedAt":0,"expiresAt":31536000001}"#,
            r#"{"v":1,"issuedAt":0}"#,
            r#"{"v":1,"token":"x"}"#,
        ] {
            assert_eq!(TokenRecord::load(Some(bad)), Loaded::Unusable, "{bad}");
        }
    }

    #[test]
    fn exchange_bodies_without_a_usable_token_fail_with_exchange_failed() {
        for (tok, exp) in [
            (None, None),
            (Some(""), None),
            (Some("a\r\nX-Evil: 1"), None),
            (Some("a"), Some(-1.0)),
            (Some("a"), Some(0.0)),
            (Some("a"), Some(-0.0)),
            (Some("a"), Some(f64::NAN)),
            (Some("a"), Some(f64::INFINITY)),
            (Some("a"), Some(f64::NEG_INFINITY)),
            (Some("€"), None),
            (Some("tok€"), None),
            (Some("a\u{7f}"), None),
            (Some("a b"), None),
            (Some(" a"), None),
        ] {
            let err = TokenRecord::from_exchange(tok, exp, 0).unwrap_err();
            assert_eq!(err.code, ErrorCode::ExchangeFailed);
        }
        assert!(TokenRecord::from_exchange(Some(&"x".repeat(9000)), None, 0).is_err());
    }

    #[test]
    fn absurd_lifetimes_are_clamped_to_one_second_and_one_year() {
        let at = |s: f64| {
            TokenRecord::from_exchange(Some("t"), Some(s), 1_000)
                .unwrap()
                .expires_at
        };
        assert_eq!(at(1e-9), Some(2_000));
        assert_eq!(at(0.5), Some(2_000));
        assert_eq!(at(1.5), Some(2_500));
        assert_eq!(at(7200.0), Some(7_201_000));
        assert_eq!(at(1e300), Some(1_000 + MAX_LIFETIME_MS));
        assert_eq!(at(f64::MAX), Some(1_000 + MAX_LIFETIME_MS));
        // What is written can be read back: the clamp and the load agree.
        let longest = TokenRecord::from_exchange(Some("t"), Some(1e300), 1_000).unwrap();
        assert_eq!(
            TokenRecord::load(Some(&longest.to_json())),
            Loaded::Valid(longest)
        );
    }

    #[test]
    fn freshness_renews_early_but_never_more_than_half_the_lifetime() {
        let long = TokenRecord::from_exchange(Some("t"), Some(7200.0), 0).unwrap();
        assert!(long.is_fresh(7_139_999, 60_000));
        assert!(!long.is_fresh(7_140_000, 60_000));
        let short = TokenRecord::from_exchange(Some("t"), Some(2.0), 0).unwrap();
        assert!(short.is_fresh(999, 60_000));
        assert!(!short.is_fresh(1_000, 60_000));
        let forever = TokenRecord::from_exchange(Some("t"), None, 0).unwrap();
        assert!(forever.is_fresh(u64::MAX, 60_000));
    }
}
