//! Where each credential lives in a stored info object. The global record
//! keeps wechat-jssdk's names (`accessToken`, `jsapi_ticket`, `modifyDate`)
//! so stores written for it keep working, plus epoch-ms expiry fields of
//! our own. Records without them (written by wechat-jssdk) read as stale
//! and are refreshed once.

use super::{Cred, CredKind};
use crate::core::json_object::{write_str, RawObject};

/// What one stored record says about one credential.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct View {
    pub value: Option<String>,
    pub refresh_at: u64,
    /// When the record's other credential expires (global record only),
    /// so a patch never shortens the record's life under it.
    pub other_expires_at: u64,
    /// OAuth: what `/sns/oauth2/refresh_token` needs.
    pub refresh_token: Option<String>,
}

fn ms(obj: &RawObject, field: &str) -> u64 {
    obj.get_int(field).filter(|n| *n > 0).unwrap_or(0) as u64
}

impl View {
    pub fn read(kind: CredKind, info: &str) -> View {
        let Ok(obj) = RawObject::parse(info) else {
            return View::default();
        };
        let text = |f: &str| obj.get_str(f).filter(|s| !s.is_empty());
        match kind {
            CredKind::Token => View {
                value: text("accessToken"),
                refresh_at: ms(&obj, "accessTokenRefreshAt"),
                other_expires_at: ms(&obj, "jsapiTicketExpiresAt"),
                refresh_token: None,
            },
            CredKind::Ticket => {
                // A ticket is only as good as the token it was fetched with:
                // once that token is replaced, so is the ticket.
                let bound = text("jsapiTicketToken").is_some()
                    && text("jsapiTicketToken") == text("accessToken");
                View {
                    value: text("jsapi_ticket").filter(|_| bound),
                    refresh_at: ms(&obj, "jsapiTicketRefreshAt"),
                    other_expires_at: ms(&obj, "accessTokenExpiresAt"),
                    refresh_token: None,
                }
            }
            CredKind::OAuth => View {
                value: text("access_token"),
                refresh_at: ms(&obj, "refreshAt"),
                other_expires_at: 0,
                refresh_token: text("refresh_token"),
            },
        }
    }

    /// The credential if it is still good to use at `now`.
    pub fn current(&self, now: u64) -> Option<Cred> {
        let value = self.value.clone()?;
        (now < self.refresh_at).then_some(Cred {
            value,
            refresh_at: self.refresh_at,
        })
    }
}

/// The fields to merge into the global record for a fresh token or ticket.
pub fn global_patch(
    kind: CredKind,
    cred: &Cred,
    expires_at: u64,
    other_expires_at: u64,
    token_used: Option<&str>,
    now: u64,
) -> String {
    let (value, expires, refresh) = match kind {
        CredKind::Ticket => (
            "jsapi_ticket",
            "jsapiTicketExpiresAt",
            "jsapiTicketRefreshAt",
        ),
        _ => (
            "accessToken",
            "accessTokenExpiresAt",
            "accessTokenRefreshAt",
        ),
    };
    let mut out = String::from("{");
    write_str(&mut out, value);
    out.push(':');
    write_str(&mut out, &cred.value);
    out.push_str(&format!(
        ",\"{expires}\":{expires_at},\"{refresh}\":{},\"modifyDate\":{now},\"expiresAt\":{}",
        cred.refresh_at,
        expires_at.max(other_expires_at)
    ));
    if let Some(token) = token_used {
        out.push_str(",\"jsapiTicketToken\":");
        write_str(&mut out, token);
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_current_only_with_the_token_it_was_fetched_with() {
        let info = r#"{"accessToken":"A","accessTokenRefreshAt":100,"jsapi_ticket":"T","jsapiTicketRefreshAt":100,"jsapiTicketToken":"A"}"#;
        assert_eq!(
            View::read(CredKind::Ticket, info)
                .current(99)
                .unwrap()
                .value,
            "T"
        );
        assert!(View::read(CredKind::Ticket, info).current(100).is_none());
        let replaced = info.replace(r#""accessToken":"A""#, r#""accessToken":"B""#);
        assert!(View::read(CredKind::Ticket, &replaced).current(0).is_none());
    }

    #[test]
    fn records_without_our_expiry_fields_read_as_stale() {
        let legacy =
            r#"{"accessToken":"A","jsapi_ticket":"T","modifyDate":"2026-01-01T00:00:00.000Z"}"#;
        assert!(View::read(CredKind::Token, legacy).current(0).is_none());
        assert_eq!(View::read(CredKind::Token, "not json"), View::default());
    }

    #[test]
    fn patches_keep_the_record_alive_for_the_longer_lived_credential() {
        let cred = Cred {
            value: "T\"".into(),
            refresh_at: 50,
        };
        let patch = global_patch(CredKind::Ticket, &cred, 60, 90, Some("A"), 7);
        assert_eq!(
            patch,
            r#"{"jsapi_ticket":"T\"","jsapiTicketExpiresAt":60,"jsapiTicketRefreshAt":50,"modifyDate":7,"expiresAt":90,"jsapiTicketToken":"A"}"#
        );
        let view = View::read(
            CredKind::Ticket,
            &format!("{{\"accessToken\":\"A\",{}", &patch[1..]),
        );
        assert_eq!(view.current(49).unwrap().value, "T\"");
    }
}
