//! One stored item: the caller's info (as a payload), its expiry and the
//! fields the core decides with. Caller input is checked strictly (BAD_INPUT);
//! what a backend hands back is checked as strictly but reported as
//! STORE_CORRUPT, and both are size-capped before anything is parsed.

use super::meta::Meta;
use super::payload::Payload;
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::{write_str, RawObject};
use std::num::NonZeroU64;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Global,
    Signature,
    OAuth,
    /// wechat-jssdk's card `api_ticket` record.
    Card,
    /// wechat-jssdk's mini-program session under a key (the openid); ours
    /// also lists the user's app sessions there.
    MpSession,
    /// An app session (the server's "third-party session") under the
    /// SHA-256 of its token.
    AppSession,
    /// A user's app sessions (token hash -> created), under the openid: a
    /// record of its own, so wechat-jssdk's setMPSession never touches it.
    SessionIndex,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Global,
        Kind::Signature,
        Kind::OAuth,
        Kind::Card,
        Kind::MpSession,
    ];

    pub fn parse(s: &str) -> Result<Kind, Error> {
        match s {
            "global" => Ok(Kind::Global),
            "signature" => Ok(Kind::Signature),
            "oauth" => Ok(Kind::OAuth),
            "card" => Ok(Kind::Card),
            "mp" => Ok(Kind::MpSession),
            _ => Err(Error::new(
                ErrorCode::BadInput,
                "kind must be global, signature, oauth, card or mp",
            )),
        }
    }

    /// What `clearStore()` leaves alone: app sessions, their per-user
    /// index and the users' MP sessions (the session_key `decrypt` needs).
    /// Clearing a store at start-up, as wechat-jssdk apps do, must not log
    /// anyone out or break their decrypts.
    pub fn survives_clear(self) -> bool {
        matches!(
            self,
            Kind::AppSession | Kind::SessionIndex | Kind::MpSession
        )
    }

    pub fn from_u8(n: u8) -> Option<Kind> {
        Kind::ALL.get(n as usize).copied()
    }

    /// Records with no id: one per app.
    pub fn is_singleton(self) -> bool {
        matches!(self, Kind::Global | Kind::Card)
    }

    /// The backend key. Backends namespace further (per appId, per prefix).
    pub fn key(self, id: &str) -> String {
        let prefix = match self {
            Kind::Global => return "global".to_owned(),
            Kind::Card => return "card".to_owned(),
            Kind::Signature => "sig:",
            Kind::OAuth => "oauth:",
            Kind::MpSession => "mp:",
            Kind::AppSession => "sess:",
            Kind::SessionIndex => "idx:",
        };
        // Not format!: this runs on every memory hit.
        let mut key = String::with_capacity(prefix.len() + id.len());
        key.push_str(prefix);
        key.push_str(id);
        key
    }
}

pub const MAX_ID_LEN: usize = 4096;
/// A caller's info object, as JSON.
pub const MAX_INFO_LEN: usize = 64 * 1024;
/// A backend record: the info plus a small envelope.
pub const MAX_RECORD_LEN: usize = MAX_INFO_LEN + 256;
/// Ten years: the longest expiry anything in WeChat's world has.
const MAX_LIFE_MS: u64 = 10 * 365 * 86_400_000;
/// An OAuth record lives as long as its refresh_token (30 days at WeChat);
/// its `expires_in` is the access_token's, not the record's.
pub const OAUTH_RECORD_MS: u64 = 30 * 86_400_000;
/// A signature that names no expiry (wechat-jssdk's never do) lives two
/// hours from its last write, as wechat-jssdk's own `isTokenExpired` judges
/// it; without this a backend keeps every URL ever signed forever.
pub const SIGNATURE_RECORD_MS: u64 = 7_200_000;

/// C0 and C1 control characters, by bytes (this runs on every memory hit):
/// in UTF-8 the C1 range U+0080..U+009F is 0xC2 followed by 0x80..0x9F.
fn has_control(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c < 0x20
            || c == 0x7f
            || (c == 0xc2 && b.get(i + 1).is_some_and(|n| (0x80..0xa0).contains(n)))
    })
}

pub fn check_id(kind: Kind, id: &str) -> Result<(), Error> {
    let ok = if kind.is_singleton() {
        id.is_empty()
    } else {
        !id.is_empty() && id.len() <= MAX_ID_LEN && !has_control(id)
    };
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::BadInput,
            "the url or key must be a non-empty string of at most 4096 characters, without control characters",
        ))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<P> {
    pub payload: P,
    /// Epoch ms (never 0: every expiry is checked positive). Non-zero so
    /// the option takes 8 bytes in every cached entry.
    pub expires_at: Option<NonZeroU64>,
    pub meta: Meta,
}

/// An epoch-ms instant as stored; 0 (long past either way) reads as 1.
pub fn instant(ms: u64) -> NonZeroU64 {
    NonZeroU64::new(ms).unwrap_or(NonZeroU64::MIN)
}

fn bad_input(m: impl Into<String>) -> Error {
    Error::new(ErrorCode::BadInput, m)
}

fn corrupt(m: &str) -> Error {
    Error::new(
        ErrorCode::StoreCorrupt,
        format!("a stored record is unreadable: {m}"),
    )
}

/// A caller's info: a JSON object of at most 64 KiB, else BAD_INPUT.
pub fn parse_info(info: &str) -> Result<RawObject, Error> {
    if info.len() > MAX_INFO_LEN {
        return Err(bad_input("info is larger than 64 KiB"));
    }
    RawObject::parse(info)
        .map_err(|e| bad_input(format!("info must be a JSON object ({})", e.describe())))
}

/// The expiry an info object asks for: `expiresAt` (epoch ms) or
/// `expires_in`/`expiresIn` (seconds from now). Present but not a whole,
/// positive, plausible number is an error: "7200", -1, 0, 7200.5, 1e308
/// would otherwise read as "never expires".
pub fn expiry_of(kind: Kind, obj: &RawObject, now: u64) -> Result<Option<u64>, String> {
    if let Some(raw) = obj.get_raw("expiresAt") {
        if raw == "null" {
            return Ok(None);
        }
        return match obj.get_int("expiresAt") {
            Some(at) if at > 0 && (at as u64) <= now.saturating_add(MAX_LIFE_MS) => {
                Ok(Some(at as u64))
            }
            _ => Err(format!(
                "expiresAt must be epoch ms within ten years, not {raw}"
            )),
        };
    }
    if kind == Kind::OAuth {
        return Ok(Some(now + OAUTH_RECORD_MS));
    }
    for field in ["expires_in", "expiresIn"] {
        if let Some(raw) = obj.get_raw(field) {
            return match obj.get_int(field) {
                Some(s) if s > 0 && (s as u64) * 1000 <= MAX_LIFE_MS => {
                    Ok(Some(now + s as u64 * 1000))
                }
                _ => Err(format!(
                    "{field} must be whole seconds from 1 to ten years, not {raw}"
                )),
            };
        }
    }
    Ok((kind == Kind::Signature).then_some(now + SIGNATURE_RECORD_MS))
}

pub fn meta_of(kind: Kind, obj: &RawObject) -> Meta {
    match kind {
        Kind::Global => Meta::global(obj),
        Kind::OAuth => Meta::oauth(obj),
        Kind::Signature => Meta::signature(obj),
        Kind::Card | Kind::MpSession | Kind::AppSession | Kind::SessionIndex => Meta::default(),
    }
}

impl<P: Payload> Record<P> {
    /// `save*`: a record from a caller's info (JSON object text).
    pub fn from_info(kind: Kind, info: &str, now: u64) -> Result<Record<P>, Error> {
        Record::from_info_with(kind, info, None, now)
    }

    /// `from_info` with the payload the host already made from the same
    /// info (a frozen copy sharing the caller's strings), so it is not
    /// parsed from the text a second time.
    pub fn from_info_with(
        kind: Kind,
        info: &str,
        made: Option<P>,
        now: u64,
    ) -> Result<Record<P>, Error> {
        let obj = parse_info(info)?;
        let expires_at = expiry_of(kind, &obj, now).map_err(bad_input)?.map(instant);
        Ok(Record {
            payload: made.unwrap_or_else(|| P::from_json(info)),
            expires_at,
            meta: meta_of(kind, &obj),
        })
    }

    /// `update*`: the update's fields win, the others stay; so does the
    /// expiry unless the update brings one.
    pub fn merged(&self, kind: Kind, update: &str, now: u64) -> Result<Record<P>, Error> {
        let update = parse_info(update)?;
        let update_expiry = match kind {
            // Only an explicit expiresAt moves an OAuth record's expiry.
            Kind::OAuth if update.get_raw("expiresAt").is_none() => None,
            _ => expiry_of(kind, &update, now).map_err(bad_input)?,
        };
        let mut base = RawObject::parse(&self.payload.to_json())
            .map_err(|e| Error::new(ErrorCode::StoreCorrupt, e.describe()))?;
        base.merge_from(&update);
        let text = base.to_json();
        if text.len() > MAX_INFO_LEN {
            return Err(bad_input("the merged info is larger than 64 KiB"));
        }
        Ok(Record {
            meta: meta_of(kind, &base),
            payload: P::from_json(&text),
            expires_at: update_expiry.map(instant).or(self.expires_at),
        })
    }

    /// Epoch ms of the expiry, if it has one.
    pub fn expiry(&self) -> Option<u64> {
        self.expires_at.map(NonZeroU64::get)
    }

    /// The backend ttl for a write now: 0 for none, else at least 1 ms
    /// (a record due this very ms is still written with a ttl).
    pub fn ttl_ms(&self, now: u64) -> u64 {
        self.expiry().map_or(0, |e| e.saturating_sub(now).max(1))
    }

    pub fn is_expired(&self, now: u64) -> bool {
        matches!(self.expires_at, Some(e) if e.get() <= now)
    }

    /// What a backend stores: versioned, with the expiry beside the info.
    pub fn encode(&self) -> String {
        let mut out = String::from("{\"v\":1,\"expiresAt\":");
        match self.expires_at {
            Some(e) => out.push_str(&e.to_string()),
            None => out.push_str("null"),
        }
        out.push_str(",\"info\":");
        out.push_str(&self.payload.to_json());
        out.push('}');
        out
    }

    pub fn decode(kind: Kind, text: &str) -> Result<Record<P>, Error> {
        if text.len() > MAX_RECORD_LEN {
            return Err(corrupt("larger than 64 KiB"));
        }
        let obj = RawObject::parse(text).map_err(|e| corrupt(e.describe()))?;
        if obj.get_int("v") != Some(1) {
            return Err(corrupt("unknown version"));
        }
        let raw_info = obj.get_raw("info").ok_or_else(|| corrupt("no info"))?;
        let info = RawObject::parse(raw_info).map_err(|e| corrupt(e.describe()))?;
        let expires_at = match obj.get_raw("expiresAt") {
            Some("null") | None => None,
            Some(_) => Some(instant(
                obj.get_int("expiresAt")
                    .filter(|e| *e >= 0)
                    .ok_or_else(|| corrupt("bad expiresAt"))? as u64,
            )),
        };
        Ok(Record {
            payload: P::from_json(raw_info),
            expires_at,
            meta: meta_of(kind, &info),
        })
    }
}

/// A JSON object text from (field, already-encoded JSON value) pairs.
pub fn object_text(fields: &[(&str, String)]) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, k);
        out.push(':');
        out.push_str(v);
    }
    out.push('}');
    out
}

/// `s` as a JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::new();
    write_str(&mut out, s);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = Record<String>;

    #[test]
    fn expiry_comes_from_expires_at_or_expires_in() {
        let at = |kind, s: &str| R::from_info(kind, s, 1000).unwrap().expiry();
        assert_eq!(at(Kind::Signature, r#"{"expiresAt":5000}"#), Some(5000));
        assert_eq!(
            at(Kind::Signature, r#"{"expires_in":7200}"#),
            Some(7_201_000)
        );
        assert_eq!(at(Kind::Global, r#"{"accessToken":"x"}"#), None);
        assert_eq!(at(Kind::Global, r#"{"expiresAt":null}"#), None);
        // An OAuth reply's expires_in is the access_token's, not the record's.
        assert_eq!(
            at(Kind::OAuth, r#"{"expires_in":7200}"#),
            Some(1000 + OAUTH_RECORD_MS)
        );
        // wechat-jssdk's signatures name no expiry: two hours from the write,
        // moved by every update; only an explicit null keeps one forever.
        let wechat_jssdk = r#"{"jsapi_ticket":"J","url":"https://a.test/","signature":"s"}"#;
        assert_eq!(
            at(Kind::Signature, wechat_jssdk),
            Some(1000 + SIGNATURE_RECORD_MS)
        );
        let r = R::from_info(Kind::Signature, wechat_jssdk, 1000).unwrap();
        let updated = r
            .merged(Kind::Signature, r#"{"signature":"t"}"#, 50_000)
            .unwrap();
        assert_eq!(updated.expiry(), Some(50_000 + SIGNATURE_RECORD_MS));
        assert_eq!(at(Kind::Signature, r#"{"expiresAt":null}"#), None);
    }

    #[test]
    fn expiry_that_would_mean_forever_is_refused() {
        for bad in [
            r#"{"expires_in":-1}"#,
            r#"{"expires_in":0}"#,
            r#"{"expires_in":7200.5}"#,
            r#"{"expires_in":"7200"}"#,
            r#"{"expires_in":1e308}"#,
            r#"{"expiresIn":99999999999}"#,
            r#"{"expiresAt":-5}"#,
            r#"{"expiresAt":1e300}"#,
            r#"{"expiresAt":"soon"}"#,
        ] {
            let e = R::from_info(Kind::Global, bad, 0).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadInput, "{bad}");
        }
    }

    #[test]
    fn merge_keeps_old_fields_and_expiry() {
        let r = R::from_info(
            Kind::Global,
            r#"{"accessToken":"a","jsapiTicket":"t","expires_in":10}"#,
            0,
        )
        .unwrap();
        let m = r
            .merged(
                Kind::Global,
                r#"{"jsapiTicket":"t2","nested":{"a":[1,2]}}"#,
                5,
            )
            .unwrap();
        let obj = RawObject::parse(&m.payload).unwrap();
        assert_eq!(obj.get_str("accessToken").as_deref(), Some("a"));
        assert_eq!(m.meta.ticket(), Some(super::super::meta::ticket_hash("t2")));
        assert!(m.payload.contains(r#""nested":{"a":[1,2]}"#));
        assert_eq!(m.expiry(), Some(10_000));
    }

    #[test]
    fn encode_decode_round_trip_and_corruption_is_typed() {
        let r = R::from_info(
            Kind::Signature,
            r#"{"a":"\u00e9\n","b":[true,null],"jsapi_ticket":"t"}"#,
            0,
        )
        .unwrap();
        assert_eq!(R::decode(Kind::Signature, &r.encode()).unwrap(), r);
        let huge = format!(
            "{{\"v\":1,\"expiresAt\":null,\"info\":{{\"a\":\"{}\"}}}}",
            "x".repeat(MAX_RECORD_LEN)
        );
        for bad in [
            "",
            "{",
            "[]",
            r#"{"v":2,"info":{}}"#,
            r#"{"v":1}"#,
            r#"{"v":1,"info":[],"expiresAt":null}"#,
            r#"{"v":1,"info":{},"expiresAt":"x"}"#,
            huge.as_str(),
        ] {
            assert_eq!(
                R::decode(Kind::Global, bad).unwrap_err().code,
                ErrorCode::StoreCorrupt
            );
        }
    }

    #[test]
    fn bad_info_and_ids_are_bad_input() {
        for bad in ["", "[]", "\"s\"", "{", "{\"a\":}"] {
            assert_eq!(
                R::from_info(Kind::Global, bad, 0).unwrap_err().code,
                ErrorCode::BadInput,
                "{bad}"
            );
        }
        assert!(check_id(Kind::Signature, "").is_err());
        assert!(check_id(Kind::OAuth, &"k".repeat(5000)).is_err());
        assert!(check_id(Kind::Card, "x").is_err());
        assert!(check_id(Kind::Signature, "https://a.test/?x=1").is_ok());
        for c in ['\u{0}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}'] {
            assert!(check_id(Kind::OAuth, &format!("a{c}b")).is_err(), "{c:?}");
        }
        assert!(check_id(Kind::OAuth, "é\u{a0}中").is_ok());
    }
}
