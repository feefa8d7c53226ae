//! The Token Store's logic, once for every backend: a memory cache of
//! WeChat credentials with dirty tracking, expiry, a bounded (LRU) map of
//! signatures and flush planning. Like the session, it performs no I/O: the
//! host reads from / writes to its backend when the store asks, and reports
//! back. Names follow wechat-jssdk's Store so users can switch.

mod cache;
mod keyed;
pub mod meta;
pub mod payload;
pub mod record;
mod siphash;

pub use cache::{fingerprint, Incoming, Lookup, Reread, StoreConfig, StoreCore, Write};
pub use keyed::Handle;
pub use payload::Payload;
pub use record::{Kind, Record};

use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::{write_str, RawObject};

impl StoreConfig {
    /// The options every store takes; out of range is BAD_CONFIG.
    pub fn new(
        interval_ms: Option<i64>,
        no_interval: Option<bool>,
        max_signatures: Option<i64>,
    ) -> Result<StoreConfig, Error> {
        let bad = |m: &str| Error::new(ErrorCode::BadConfig, m.to_owned());
        let mut config = StoreConfig::default();
        if let Some(n) = interval_ms {
            if !(1_000..=86_400_000).contains(&n) {
                return Err(bad(
                    "interval must be a whole number of ms from 1000 to 86400000",
                ));
            }
            config.interval_ms = n as u64;
        }
        if let Some(b) = no_interval {
            config.no_interval = b;
        }
        if let Some(n) = max_signatures {
            if !(1..=10_000_000).contains(&n) {
                return Err(bad(
                    "maxSignatures must be a whole number from 1 to 10000000",
                ));
            }
            config.max_signatures = n as usize;
        }
        Ok(config)
    }

    /// `{interval?, noInterval?, maxSignatures?}` as JSON; anything else or
    /// out of range is BAD_CONFIG.
    pub fn from_json(text: &str) -> Result<StoreConfig, Error> {
        let bad = |m: &str| Error::new(ErrorCode::BadConfig, m.to_owned());
        let obj =
            RawObject::parse(text).map_err(|e| bad(&format!("store options: {}", e.describe())))?;
        let (mut interval, mut no_interval, mut max) = (None, None, None);
        for (key, raw) in obj.members() {
            let int = || {
                obj.get_int(key)
                    .ok_or_else(|| bad(&format!("{key} must be a whole number")))
            };
            match key {
                "interval" => interval = Some(int()?),
                "noInterval" => {
                    no_interval = Some(match raw {
                        "true" => true,
                        "false" => false,
                        _ => return Err(bad("noInterval must be true or false")),
                    })
                }
                "maxSignatures" => max = Some(int()?),
                other => {
                    return Err(bad(&format!(
                        "unknown store option {}",
                        crate::core::json::quote(other)
                    )))
                }
            }
        }
        StoreConfig::new(interval, no_interval, max)
    }
}

/// A flush batch as JSON: `[{"key":…,"value":…|null,"ttlMs":…}]`.
pub fn writes_to_json(writes: &[Write]) -> String {
    let mut out = String::from("[");
    for (i, w) in writes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        write_str(&mut out, &w.key);
        out.push_str(",\"value\":");
        match &w.value {
            Some(v) => write_str(&mut out, v),
            None => out.push_str("null"),
        }
        out.push_str(",\"ttlMs\":");
        out.push_str(&w.ttl_ms.to_string());
        out.push('}');
    }
    out.push(']');
    out
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn store_options_are_checked() {
        assert_eq!(
            StoreConfig::from_json("{}").unwrap(),
            StoreConfig::default()
        );
        let c = StoreConfig::from_json(r#"{"interval":5000,"noInterval":true,"maxSignatures":3}"#)
            .unwrap();
        assert_eq!(
            (c.interval_ms, c.no_interval, c.max_signatures),
            (5000, true, 3)
        );
        for bad in [
            r#"{"interval":0}"#,
            r#"{"interval":1.5}"#,
            r#"{"noInterval":1}"#,
            r#"{"maxSignatures":0}"#,
            r#"{"typo":1}"#,
            "[]",
        ] {
            assert_eq!(
                StoreConfig::from_json(bad).unwrap_err().code,
                ErrorCode::BadConfig,
                "{bad}"
            );
        }
    }

    #[test]
    fn writes_serialise_as_json() {
        let w = [
            Write {
                key: "sig:a\"b".into(),
                value: Some("{\"v\":1}".into()),
                ttl_ms: 5,
            },
            Write {
                key: "global".into(),
                value: None,
                ttl_ms: 0,
            },
        ];
        assert_eq!(
            writes_to_json(&w),
            r#"[{"key":"sig:a\"b","value":"{\"v\":1}","ttlMs":5},{"key":"global","value":null,"ttlMs":0}]"#
        );
    }
}
