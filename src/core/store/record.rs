//! One stored item: the caller's `info` object (kept as JSON text, since the
//! store never needs its meaning beyond a few fields) plus its expiry.

use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::RawObject;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Global,
    Signature,
    OAuth,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind, Error> {
        match s {
            "global" => Ok(Kind::Global),
            "signature" => Ok(Kind::Signature),
            "oauth" => Ok(Kind::OAuth),
            _ => Err(Error::new(
                ErrorCode::BadInput,
                "kind must be global, signature or oauth",
            )),
        }
    }

    /// The backend key. Backends namespace further (per appId, per prefix).
    pub fn key(self, id: &str) -> String {
        match self {
            Kind::Global => "global".to_owned(),
            Kind::Signature => format!("sig:{id}"),
            Kind::OAuth => format!("oauth:{id}"),
        }
    }
}

const MAX_ID_LEN: usize = 4096;
const MAX_INFO_LEN: usize = 64 * 1024;

pub fn check_id(kind: Kind, id: &str) -> Result<(), Error> {
    let ok = match kind {
        Kind::Global => id.is_empty(),
        _ => !id.is_empty() && id.len() <= MAX_ID_LEN && !id.chars().any(char::is_control),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::BadInput,
            "the url or key must be a non-empty string of at most 4096 characters",
        ))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The info object as JSON text.
    pub info: String,
    pub expires_at: Option<u64>,
    /// `jsapi_ticket` (or `jsapiTicket`) in the info: the ticket a signature
    /// was made with, or the global token's current one. Read once, when the
    /// info is parsed anyway, rather than on every lookup.
    pub ticket: Option<String>,
}

impl Record {
    /// Builds a record from a caller's info (JSON object text). Expiry comes
    /// from `expiresAt` (epoch ms) or, failing that, `expires_in`/`expiresIn`
    /// (seconds from now), as WeChat's own answers carry it.
    pub fn from_info(info: &str, now: u64) -> Result<Record, Error> {
        let obj = parse_info(info)?;
        Ok(Record::from_object(&obj, expiry_of(&obj, now)))
    }

    fn from_object(obj: &RawObject, expires_at: Option<u64>) -> Record {
        let ticket = obj
            .get_str("jsapi_ticket")
            .or_else(|| obj.get_str("jsapiTicket"));
        Record {
            info: obj.to_json(),
            expires_at,
            ticket,
        }
    }

    /// `update*`: the new fields win, the others stay; so does the expiry
    /// unless the update brings one.
    pub fn merged(&self, info: &str, now: u64) -> Result<Record, Error> {
        let update = parse_info(info)?;
        let mut base = RawObject::parse(&self.info)
            .map_err(|e| Error::new(ErrorCode::StoreCorrupt, e.describe()))?;
        base.merge_from(&update);
        Ok(Record::from_object(
            &base,
            expiry_of(&update, now).or(self.expires_at),
        ))
    }

    pub fn is_expired(&self, now: u64) -> bool {
        matches!(self.expires_at, Some(e) if e <= now)
    }

    /// What a backend stores: versioned, with the expiry beside the info.
    pub fn encode(&self) -> String {
        let mut out = RawObject::default();
        out.set_raw("v", "1");
        out.set_raw(
            "expiresAt",
            &self.expires_at.map_or("null".to_owned(), |e| e.to_string()),
        );
        out.set_raw("info", &self.info);
        out.to_json()
    }

    pub fn decode(text: &str) -> Result<Record, Error> {
        let corrupt = |m: &str| {
            Error::new(
                ErrorCode::StoreCorrupt,
                format!("a stored record is unreadable: {m}"),
            )
        };
        let obj = RawObject::parse(text).map_err(|e| corrupt(e.describe()))?;
        if obj.get_int("v") != Some(1) {
            return Err(corrupt("unknown version"));
        }
        let info = obj.get_raw("info").ok_or_else(|| corrupt("no info"))?;
        let info = RawObject::parse(info).map_err(|e| corrupt(e.describe()))?;
        let expires_at = match obj.get_raw("expiresAt") {
            Some("null") | None => None,
            Some(_) => Some(
                obj.get_int("expiresAt")
                    .filter(|e| *e >= 0)
                    .ok_or_else(|| corrupt("bad expiresAt"))? as u64,
            ),
        };
        Ok(Record::from_object(&info, expires_at))
    }
}

/// A caller's info: a JSON object of at most 64 KiB, else BAD_INPUT.
fn parse_info(info: &str) -> Result<RawObject, Error> {
    if info.len() > MAX_INFO_LEN {
        return Err(Error::new(
            ErrorCode::BadInput,
            "info is larger than 64 KiB",
        ));
    }
    RawObject::parse(info).map_err(|e| {
        Error::new(
            ErrorCode::BadInput,
            format!("info must be a JSON object ({})", e.describe()),
        )
    })
}

fn expiry_of(obj: &RawObject, now: u64) -> Option<u64> {
    if let Some(at) = obj.get_int("expiresAt").filter(|e| *e > 0) {
        return Some(at as u64);
    }
    ["expires_in", "expiresIn"]
        .iter()
        .find_map(|k| obj.get_int(k))
        .filter(|s| *s > 0)
        .map(|s| now.saturating_add((s as u64).saturating_mul(1000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_comes_from_expires_at_or_expires_in() {
        assert_eq!(
            Record::from_info(r#"{"expiresAt":5000}"#, 0)
                .unwrap()
                .expires_at,
            Some(5000)
        );
        assert_eq!(
            Record::from_info(r#"{"expires_in":7200}"#, 1000)
                .unwrap()
                .expires_at,
            Some(7_201_000)
        );
        assert_eq!(
            Record::from_info(r#"{"accessToken":"x"}"#, 0)
                .unwrap()
                .expires_at,
            None
        );
    }

    #[test]
    fn merge_keeps_old_fields_and_expiry() {
        let r = Record::from_info(
            r#"{"accessToken":"a","jsapiTicket":"t","expires_in":10}"#,
            0,
        )
        .unwrap();
        let m = r
            .merged(r#"{"jsapiTicket":"t2","nested":{"a":[1,2]}}"#, 5)
            .unwrap();
        let obj = RawObject::parse(&m.info).unwrap();
        assert_eq!(obj.get_str("accessToken").as_deref(), Some("a"));
        assert_eq!(m.ticket.as_deref(), Some("t2"));
        assert!(m.info.contains(r#""nested":{"a":[1,2]}"#));
        assert_eq!(m.expires_at, Some(10_000));
    }

    #[test]
    fn encode_decode_round_trip_and_corruption_is_typed() {
        let r = Record::from_info(r#"{"a":"\u00e9\n","b":[true,null]}"#, 0).unwrap();
        assert_eq!(Record::decode(&r.encode()).unwrap(), r);
        for bad in [
            "",
            "{",
            "[]",
            r#"{"v":2,"info":{}}"#,
            r#"{"v":1}"#,
            r#"{"v":1,"info":[],"expiresAt":null}"#,
            r#"{"v":1,"info":{},"expiresAt":"x"}"#,
        ] {
            assert_eq!(
                Record::decode(bad).unwrap_err().code,
                ErrorCode::StoreCorrupt,
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_info_and_ids_are_bad_input() {
        for bad in ["", "[]", "\"s\"", "{", "{\"a\":}"] {
            assert_eq!(
                Record::from_info(bad, 0).unwrap_err().code,
                ErrorCode::BadInput,
                "{bad}"
            );
        }
        assert!(check_id(Kind::Signature, "").is_err());
        assert!(check_id(Kind::OAuth, &"k".repeat(5000)).is_err());
        assert!(check_id(Kind::Signature, "https://a.test/?x=1").is_ok());
    }
}
