//! WeChat's API as the core uses it: which call to make, and what its reply
//! means. Every reply is read here, size-capped and in linear time, so a
//! malformed one becomes an error with a code instead of `undefined` deep
//! in a caller.

use super::config::WechatConfig;
use super::io::{ApiCall, Method};
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::{write_str, RawObject};
use crate::core::store::meta::Slot;
use crate::core::store::record::{json_str, object_text};

/// Credential replies are tiny; any API's reply may be bigger, not this big.
pub const MAX_REPLY_LEN: usize = 4 * 1024 * 1024;

pub fn token_call(cfg: &WechatConfig, force_new: bool) -> ApiCall {
    if cfg.stable_token {
        let mut body = String::from("{\"grant_type\":\"client_credential\",\"appid\":");
        write_str(&mut body, &cfg.app_id);
        body.push_str(",\"secret\":");
        write_str(&mut body, &cfg.app_secret);
        body.push_str(if force_new {
            ",\"force_refresh\":true}"
        } else {
            ",\"force_refresh\":false}"
        });
        return ApiCall {
            method: Method::Post,
            path: "/cgi-bin/stable_token".into(),
            query: Vec::new(),
            body: Some(body),
        };
    }
    ApiCall::get(
        "/cgi-bin/token",
        &[
            ("grant_type", "client_credential"),
            ("appid", &cfg.app_id),
            ("secret", &cfg.app_secret),
        ],
    )
}

pub fn ticket_call(token: &str) -> ApiCall {
    ApiCall::get(
        "/cgi-bin/ticket/getticket",
        &[("access_token", token), ("type", "jsapi")],
    )
}

pub fn oauth_exchange_call(cfg: &WechatConfig, code: &str) -> ApiCall {
    ApiCall::get(
        "/sns/oauth2/access_token",
        &[
            ("appid", &cfg.app_id),
            ("secret", &cfg.app_secret),
            ("code", code),
            ("grant_type", "authorization_code"),
        ],
    )
}

pub fn oauth_refresh_call(cfg: &WechatConfig, refresh_token: &str) -> ApiCall {
    ApiCall::get(
        "/sns/oauth2/refresh_token",
        &[
            ("appid", &cfg.app_id),
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

pub fn code2session_call(cfg: &WechatConfig, code: &str) -> ApiCall {
    ApiCall::get(
        "/sns/jscode2session",
        &[
            ("appid", &cfg.app_id),
            ("secret", &cfg.app_secret),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ],
    )
}

/// The reply as an object, or the WeChat error it reports.
pub fn parse(body: &str) -> Result<RawObject, Error> {
    if body.len() > MAX_REPLY_LEN {
        return Err(Error::new(
            ErrorCode::HttpError,
            "WeChat's reply is larger than 4 MiB",
        ));
    }
    let obj = RawObject::parse(body).map_err(|e| {
        Error::new(
            ErrorCode::HttpError,
            format!("WeChat's reply is not a JSON object ({})", e.describe()),
        )
    })?;
    match obj.get_int("errcode") {
        None | Some(0) => Ok(obj),
        Some(code) => Err(Error::wechat(
            code,
            &obj.get_str("errmsg").unwrap_or_default(),
        )),
    }
}

fn missing(field: &str) -> Error {
    Error::new(
        ErrorCode::HttpError,
        format!("WeChat's reply has no valid {field}"),
    )
}

fn text(obj: &RawObject, field: &str) -> Result<String, Error> {
    obj.get_str(field)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| missing(field))
}

/// When to stop using a credential that WeChat says lasts `expires_in`
/// seconds: `margin_ms` early, but never before half its life, so a short
/// lifetime cannot make every credential look stale at birth.
pub fn lifetime(obj: &RawObject, margin_ms: u64, now: u64) -> Result<(u64, u64), Error> {
    let secs = obj
        .get_int("expires_in")
        .filter(|s| *s > 0 && *s <= 10 * 365 * 86_400)
        .ok_or_else(|| missing("expires_in"))? as u64;
    let life = secs * 1000;
    Ok((
        now + life,
        now + life.saturating_sub(margin_ms).max(life / 2),
    ))
}

/// A credential reply (`access_token` or `ticket`) as a slot.
pub fn credential(body: &str, value_field: &str, margin_ms: u64, now: u64) -> Result<Slot, Error> {
    let obj = parse(body)?;
    let value = text(&obj, value_field)?;
    if value.len() > 2048 {
        return Err(missing(value_field));
    }
    let (expires_at, refresh_at) = lifetime(&obj, margin_ms, now)?;
    Ok(Slot {
        value,
        refresh_at,
        expires_at,
    })
}

/// The fields to merge into the global record for a fresh token or ticket.
/// `expiresAt` keeps the record alive as long as either credential is.
pub fn global_patch(
    ticket: bool,
    fresh: &Slot,
    other_expires_at: u64,
    token_used: Option<&str>,
    count: i64,
    now: u64,
) -> String {
    let (value, expires, refresh) = if ticket {
        (
            "jsapi_ticket",
            "jsapiTicketExpiresAt",
            "jsapiTicketRefreshAt",
        )
    } else {
        (
            "accessToken",
            "accessTokenExpiresAt",
            "accessTokenRefreshAt",
        )
    };
    let mut fields = vec![
        (value, json_str(&fresh.value)),
        (expires, fresh.expires_at.to_string()),
        (refresh, fresh.refresh_at.to_string()),
        ("modifyDate", now.to_string()),
        (
            "expiresAt",
            fresh.expires_at.max(other_expires_at).to_string(),
        ),
        ("count", (count + 1).to_string()),
    ];
    if let Some(token) = token_used {
        fields.push(("jsapiTicketToken", json_str(token)));
    }
    object_text(&fields)
}

/// An OAuth token reply as the info object to store: WeChat's fields as
/// they came, plus when to refresh the access_token (`refreshAt`) and when
/// it expires (`accessTokenExpiresAt`); the record itself lives as long as
/// the refresh_token (30 days).
pub fn oauth_info(body: &str, margin_ms: u64, now: u64) -> Result<(String, Slot), Error> {
    let mut obj = parse(body)?;
    let value = text(&obj, "access_token")?;
    text(&obj, "openid")?;
    let (expires_at, refresh_at) = lifetime(&obj, margin_ms, now)?;
    obj.set_raw("accessTokenExpiresAt", &expires_at.to_string());
    obj.set_raw("refreshAt", &refresh_at.to_string());
    obj.set_raw("modifyDate", &now.to_string());
    obj.set_raw(
        "expiresAt",
        &(now + crate::core::store::record::OAUTH_RECORD_MS).to_string(),
    );
    Ok((
        obj.to_json(),
        Slot {
            value,
            refresh_at,
            expires_at,
        },
    ))
}

/// The openid of an OAuth reply (the default key it is stored under).
pub fn openid(info: &str) -> Option<String> {
    RawObject::parse(info)
        .ok()?
        .get_str("openid")
        .filter(|s| !s.is_empty())
}

/// `jscode2session`'s answer as `{"openid","sessionKey","unionid"?}`.
pub fn mini_program_session(body: &str) -> Result<String, Error> {
    let obj = parse(body)?;
    let mut fields = vec![
        ("openid", json_str(&text(&obj, "openid")?)),
        ("sessionKey", json_str(&text(&obj, "session_key")?)),
    ];
    if let Some(unionid) = obj.get_str("unionid").filter(|s| !s.is_empty()) {
        fields.push(("unionid", json_str(&unionid)));
    }
    Ok(object_text(&fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcodes_become_wechat_errors() {
        let e = parse(r#"{"errcode":40001,"errmsg":"invalid credential"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::WechatApi);
        assert_eq!(e.wechat, Some((40001, "invalid credential".into())));
        assert!(e.is_token_rejection());
        assert!(!Error::wechat(45009, "quota").is_token_rejection());
        assert!(parse(r#"{"errcode":0,"errmsg":"ok","ticket":"t"}"#).is_ok());
        assert_eq!(parse("<html>").unwrap_err().code, ErrorCode::HttpError);
        let huge = format!("{{\"a\":\"{}\"}}", "x".repeat(MAX_REPLY_LEN));
        assert_eq!(parse(&huge).unwrap_err().code, ErrorCode::HttpError);
    }

    #[test]
    fn credentials_refresh_a_margin_early_but_not_before_half_life() {
        let slot = credential(
            r#"{"access_token":"A","expires_in":7200}"#,
            "access_token",
            300_000,
            1000,
        )
        .unwrap();
        assert_eq!(
            (slot.value.as_str(), slot.expires_at, slot.refresh_at),
            ("A", 7_201_000, 6_901_000)
        );
        let short = credential(
            r#"{"access_token":"A","expires_in":2}"#,
            "access_token",
            300_000,
            0,
        )
        .unwrap();
        assert_eq!(short.refresh_at, 1000);
        for bad in [
            r#"{"access_token":"","expires_in":7200}"#,
            r#"{"access_token":"A"}"#,
            r#"{"access_token":"A","expires_in":-1}"#,
            r#"{"access_token":"A","expires_in":7200.5}"#,
        ] {
            assert_eq!(
                credential(bad, "access_token", 0, 0).unwrap_err().code,
                ErrorCode::HttpError,
                "{bad}"
            );
        }
    }

    #[test]
    fn sessions_never_leak_other_fields_and_oauth_keeps_them() {
        let s =
            mini_program_session(r#"{"openid":"o1","session_key":"k==","unionid":"u"}"#).unwrap();
        assert_eq!(s, r#"{"openid":"o1","sessionKey":"k==","unionid":"u"}"#);
        assert!(mini_program_session(r#"{"openid":"o1"}"#).is_err());
        let (info, slot) = oauth_info(
            r#"{"access_token":"T","expires_in":7200,"refresh_token":"R","openid":"o"}"#,
            0,
            5,
        )
        .unwrap();
        assert_eq!(slot.value, "T");
        assert!(
            info.contains(r#""refresh_token":"R""#)
                && info.contains(r#""accessTokenExpiresAt":7200005"#)
        );
        assert_eq!(openid(&info).as_deref(), Some("o"));
    }

    #[test]
    fn calls_carry_what_wechat_expects() {
        let cfg = WechatConfig::new(
            super::super::config::WechatParams {
                app_id: "wx1".into(),
                app_secret: "sec".into(),
                ..Default::default()
            },
            Default::default(),
        )
        .unwrap();
        let classic = token_call(&cfg, false);
        assert_eq!(
            (classic.method, classic.path.as_str()),
            (Method::Get, "/cgi-bin/token")
        );
        assert!(classic.query.contains(&("secret".into(), "sec".into())));
        let stable = token_call(
            &WechatConfig {
                stable_token: true,
                ..cfg
            },
            true,
        );
        assert_eq!(
            stable.body.as_deref(),
            Some(
                r#"{"grant_type":"client_credential","appid":"wx1","secret":"sec","force_refresh":true}"#
            )
        );
        let t = ticket_call("T").with_token("T2");
        assert_eq!(
            t.query.iter().filter(|(k, _)| k == "access_token").count(),
            1
        );
    }
}
