//! WeChat's replies: JSON objects that carry either the data asked for or a
//! non-zero `errcode`. Every reply is read here, so a malformed one becomes
//! an error with a code instead of `undefined` deep in a caller.

use super::Cred;
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::{write_str, RawObject};

/// The reply as an object, or the WeChat error it reports.
pub fn parse(body: &str) -> Result<RawObject, Error> {
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

/// Checks a reply of any API call; `Ok` means WeChat reported no error.
pub fn check(body: &str) -> Result<(), Error> {
    parse(body).map(|_| ())
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
    let refresh_at = now + life.saturating_sub(margin_ms).max(life / 2);
    Ok((now + life, refresh_at))
}

/// `value_field` and its lifetime, e.g. `access_token` or `ticket`.
pub fn credential(
    body: &str,
    value_field: &str,
    margin_ms: u64,
    now: u64,
) -> Result<(Cred, u64), Error> {
    let obj = parse(body)?;
    let value = text(&obj, value_field)?;
    let (expires_at, refresh_at) = lifetime(&obj, margin_ms, now)?;
    Ok((Cred { value, refresh_at }, expires_at))
}

/// An OAuth token reply as the info object to store: WeChat's fields as
/// they came, plus `expiresAt`/`refreshAt`/`modifyDate` (epoch ms).
pub fn oauth_info(body: &str, margin_ms: u64, now: u64) -> Result<(String, Cred), Error> {
    let mut obj = parse(body)?;
    let value = text(&obj, "access_token")?;
    text(&obj, "openid")?;
    let (expires_at, refresh_at) = lifetime(&obj, margin_ms, now)?;
    obj.set_raw("expiresAt", &expires_at.to_string());
    obj.set_raw("refreshAt", &refresh_at.to_string());
    obj.set_raw("modifyDate", &now.to_string());
    Ok((obj.to_json(), Cred { value, refresh_at }))
}

/// `jscode2session`'s answer as `{"openid","sessionKey","unionid"?}`.
pub fn mini_program_session(body: &str) -> Result<String, Error> {
    let obj = parse(body)?;
    let mut out = String::from("{\"openid\":");
    write_str(&mut out, &text(&obj, "openid")?);
    out.push_str(",\"sessionKey\":");
    write_str(&mut out, &text(&obj, "session_key")?);
    if let Some(unionid) = obj.get_str("unionid").filter(|s| !s.is_empty()) {
        out.push_str(",\"unionid\":");
        write_str(&mut out, &unionid);
    }
    out.push('}');
    Ok(out)
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
    }

    #[test]
    fn credentials_refresh_a_margin_early_but_not_before_half_life() {
        let (cred, expires) = credential(
            r#"{"access_token":"A","expires_in":7200}"#,
            "access_token",
            300_000,
            1000,
        )
        .unwrap();
        assert_eq!(
            (cred.value.as_str(), expires, cred.refresh_at),
            ("A", 7_201_000, 6_901_000)
        );
        let (short, _) = credential(
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
        ] {
            assert_eq!(
                credential(bad, "access_token", 0, 0).unwrap_err().code,
                ErrorCode::HttpError
            );
        }
    }

    #[test]
    fn sessions_never_leak_other_fields_and_oauth_keeps_them() {
        let s =
            mini_program_session(r#"{"openid":"o1","session_key":"k==","unionid":"u"}"#).unwrap();
        assert_eq!(s, r#"{"openid":"o1","sessionKey":"k==","unionid":"u"}"#);
        assert!(mini_program_session(r#"{"openid":"o1"}"#).is_err());
        let (info, cred) = oauth_info(
            r#"{"access_token":"T","expires_in":7200,"refresh_token":"R","openid":"o"}"#,
            0,
            5,
        )
        .unwrap();
        assert_eq!(cred.value, "T");
        assert!(info.contains(r#""refresh_token":"R""#) && info.contains(r#""expiresAt":7200005"#));
    }
}
