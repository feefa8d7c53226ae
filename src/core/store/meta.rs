//! The few fields of a stored info object the core decides with, parsed
//! once when the record is made. The global record keeps wechat-jssdk's
//! names (`accessToken`, `jsapi_ticket`, `modifyDate`, `count`) plus epoch-ms
//! expiry fields of our own; records written by wechat-jssdk itself (an
//! ISO `modifyDate`, no expiry fields) are read with its own rule: a token
//! and ticket fetched together, good for 2 h, refreshed after 1 h 59 min.

use crate::core::json_object::RawObject;
use std::num::NonZeroU64;

/// wechat-jssdk refreshes 1 min before WeChat's 2 h expiry.
const LEGACY_REFRESH_MS: u64 = 119 * 60_000;
const LEGACY_LIFE_MS: u64 = 120 * 60_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    pub value: String,
    /// Stop using it from here on (epoch ms).
    pub refresh_at: u64,
    /// WeChat stops accepting it here (epoch ms); 0 when unknown.
    pub expires_at: u64,
}

impl Slot {
    pub fn usable(&self, now: u64) -> bool {
        now < self.refresh_at
    }
}

/// Credentials in a global or OAuth record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Creds {
    /// The access_token (global) or the user's OAuth access_token.
    pub token: Option<Slot>,
    /// The jsapi_ticket, only when bound to `token` (fetched with it).
    pub ticket: Option<Slot>,
    /// OAuth: what `/sns/oauth2/refresh_token` needs.
    pub refresh_token: Option<String>,
    /// When the record was last written (epoch ms); 0 when unknown.
    pub modified_at: u64,
    /// wechat-jssdk's update counter on the global record.
    pub count: i64,
    /// The hash of the record's jsapi_ticket, bound or not (see `Meta::ticket`).
    pub ticket_hash: Option<NonZeroU64>,
}

/// An enum rather than a struct of options: 16 bytes on wasm32 with room
/// for `Option<Record>`'s tag, 8 less in each of 100k cached signatures.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Meta {
    #[default]
    Plain,
    /// A signature: the hash of the jsapi_ticket it was made with (8 bytes
    /// instead of a copy of the ticket in every entry).
    Signed(NonZeroU64),
    /// A global or OAuth record.
    Creds(Box<Creds>),
}

impl Meta {
    /// Signatures: the ticket they were made with. Global: its current
    /// ticket. Compared, never shown.
    pub fn ticket(&self) -> Option<NonZeroU64> {
        match self {
            Meta::Plain => None,
            Meta::Signed(hash) => Some(*hash),
            Meta::Creds(creds) => creds.ticket_hash,
        }
    }

    pub fn creds(&self) -> Option<&Creds> {
        match self {
            Meta::Creds(creds) => Some(creds),
            _ => None,
        }
    }
}

/// FNV-1a: a ticket's identity for staleness checks, not a secret.
pub fn ticket_hash(ticket: &str) -> NonZeroU64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in ticket.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // Non-zero, so an entry holds `Option<hash>` in 8 bytes.
    NonZeroU64::new(h).unwrap_or(NonZeroU64::MIN)
}

fn text(obj: &RawObject, field: &str) -> Option<String> {
    obj.get_str(field).filter(|s| !s.is_empty())
}

fn ms(obj: &RawObject, field: &str) -> u64 {
    obj.get_int(field).filter(|n| *n > 0).unwrap_or(0) as u64
}

/// `modifyDate` as epoch ms: ours is a number, wechat-jssdk's an ISO string.
pub fn modified_at(obj: &RawObject) -> u64 {
    match obj.get_int("modifyDate") {
        Some(n) if n > 0 => n as u64,
        _ => obj
            .get_str("modifyDate")
            .and_then(|s| iso_ms(&s))
            .unwrap_or(0),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` (what `JSON.stringify(new Date())` writes)
/// as epoch ms. Anything else is None.
pub fn iso_ms(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut millis = 0;
    let rest = &s[19..];
    let rest = match rest.strip_prefix('.') {
        Some(frac) => {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let padded = format!("{:0<3}", &frac[..digits.min(3)]);
            millis = padded.parse::<u64>().ok()?;
            &frac[digits..]
        }
        None => rest,
    };
    if rest != "Z"
        || !(1970..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + millis)
}

impl Meta {
    pub fn global(obj: &RawObject) -> Meta {
        let modified = modified_at(obj);
        let token_value = text(obj, "accessToken");
        let legacy = obj.get_raw("accessTokenRefreshAt").is_none() && modified > 0;
        let slot = |value: Option<String>, refresh: &str, expires: &str| {
            let value = value?;
            if legacy {
                return Some(Slot {
                    value,
                    refresh_at: modified + LEGACY_REFRESH_MS,
                    expires_at: modified + LEGACY_LIFE_MS,
                });
            }
            Some(Slot {
                value,
                refresh_at: ms(obj, refresh),
                expires_at: ms(obj, expires),
            })
        };
        let token = slot(
            token_value.clone(),
            "accessTokenRefreshAt",
            "accessTokenExpiresAt",
        );
        let ticket_value = text(obj, "jsapi_ticket").or_else(|| text(obj, "jsapiTicket"));
        // A ticket is only as good as the token it was fetched with; a
        // wechat-jssdk record fetched both together.
        let bound = if legacy {
            token_value.is_some()
        } else {
            text(obj, "jsapiTicketToken").is_some() && text(obj, "jsapiTicketToken") == token_value
        };
        let ticket = slot(
            ticket_value.clone().filter(|_| bound),
            "jsapiTicketRefreshAt",
            "jsapiTicketExpiresAt",
        );
        Meta::Creds(Box::new(Creds {
            token,
            ticket,
            refresh_token: None,
            modified_at: modified,
            count: obj.get_int("count").unwrap_or(0),
            ticket_hash: ticket_value.as_deref().map(ticket_hash),
        }))
    }

    pub fn oauth(obj: &RawObject) -> Meta {
        // Ours: `refreshAt`. wechat-jssdk's: `expirationTime` (1 min early).
        let refresh_at = match ms(obj, "refreshAt") {
            0 => ms(obj, "expirationTime"),
            n => n,
        };
        let token = text(obj, "access_token").map(|value| Slot {
            value,
            refresh_at,
            expires_at: ms(obj, "accessTokenExpiresAt"),
        });
        Meta::Creds(Box::new(Creds {
            token,
            ticket: None,
            refresh_token: text(obj, "refresh_token"),
            modified_at: modified_at(obj),
            count: 0,
            ticket_hash: None,
        }))
    }

    pub fn signature(obj: &RawObject) -> Meta {
        match text(obj, "jsapi_ticket").or_else(|| text(obj, "jsapiTicket")) {
            Some(ticket) => Meta::Signed(ticket_hash(&ticket)),
            None => Meta::Plain,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> RawObject {
        RawObject::parse(s).unwrap()
    }

    #[test]
    fn iso_dates_read_as_epoch_ms() {
        assert_eq!(iso_ms("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(iso_ms("2016-12-01T09:25:43.781Z"), Some(1_480_584_343_781));
        assert_eq!(iso_ms("2024-02-29T23:59:59Z"), Some(1_709_251_199_000));
        for bad in [
            "",
            "2016-12-01",
            "2016-12-01T09:25:43.781",
            "2016-13-01T00:00:00Z",
            "x016-12-01T09:25:43Z",
            "2016-12-01T09:25:43.Z",
        ] {
            assert_eq!(iso_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_ticket_is_current_only_with_the_token_it_was_fetched_with() {
        let info = r#"{"accessToken":"A","accessTokenRefreshAt":100,"jsapi_ticket":"T","jsapiTicketRefreshAt":100,"jsapiTicketToken":"A"}"#;
        let creds = Meta::global(&obj(info)).creds().cloned().unwrap();
        assert_eq!(creds.ticket.as_ref().unwrap().value, "T");
        assert!(creds.ticket.unwrap().usable(99));
        let replaced = info.replace(r#""accessToken":"A""#, r#""accessToken":"B""#);
        assert!(Meta::global(&obj(&replaced))
            .creds()
            .cloned()
            .unwrap()
            .ticket
            .is_none());
    }

    #[test]
    fn wechat_jssdk_records_are_read_with_its_own_two_hour_rule() {
        let legacy = r#"{"count":3,"accessToken":"A","jsapi_ticket":"T","modifyDate":"2016-12-01T09:25:43.781Z"}"#;
        let meta = Meta::global(&obj(legacy));
        let creds = meta.creds().cloned().unwrap();
        let t0 = 1_480_584_343_781;
        assert_eq!(
            creds.token.as_ref().unwrap().refresh_at,
            t0 + LEGACY_REFRESH_MS
        );
        assert_eq!(creds.ticket.as_ref().unwrap().value, "T");
        assert_eq!((creds.count, creds.modified_at), (3, t0));
        assert_eq!(meta.ticket(), Some(ticket_hash("T")));
        // No date at all: nothing is usable.
        let undated = Meta::global(&obj(r#"{"accessToken":"A"}"#))
            .creds()
            .cloned()
            .unwrap();
        assert!(!undated.token.unwrap().usable(0));
        let oauth = Meta::oauth(&obj(
            r#"{"access_token":"o","refresh_token":"r","expirationTime":5}"#,
        ))
        .creds()
        .cloned()
        .unwrap();
        assert_eq!(
            (
                oauth.token.unwrap().refresh_at,
                oauth.refresh_token.as_deref()
            ),
            (5, Some("r"))
        );
    }
}
