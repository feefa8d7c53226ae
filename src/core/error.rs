//! Error codes shared by every layer. The string form is the stable `.code`
//! JS callers match on, so variants may be added but never renamed.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ErrorCode {
    LoginFailed = 1,
    ExchangeFailed = 2,
    Unauthorized = 3,
    HttpError = 4,
    Network = 5,
    Timeout = 6,
    BadConfig = 7,
    RandomUnavailable = 8,
    BadInput = 9,
    StoreUnavailable = 10,
    StoreCorrupt = 11,
    StoreDestroyed = 12,
    /// WeChat answered an errcode; the JS error carries `.errcode`/`.errmsg`.
    WechatApi = 13,
    RateLimited = 14,
    JssdkConfig = 15,
    OAuthState = 16,
    /// WeChat's encryptedData did not decrypt (key, iv, padding, JSON) or
    /// is watermarked for another app.
    DecryptFailed = 17,
    /// An upload or download the caller aborted.
    Aborted = 18,
    /// `onEvent` only: `wx.checkSession` failed, so the session logs in again.
    SessionExpired = 19,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::LoginFailed,
        ErrorCode::ExchangeFailed,
        ErrorCode::Unauthorized,
        ErrorCode::HttpError,
        ErrorCode::Network,
        ErrorCode::Timeout,
        ErrorCode::BadConfig,
        ErrorCode::RandomUnavailable,
        ErrorCode::BadInput,
        ErrorCode::StoreUnavailable,
        ErrorCode::StoreCorrupt,
        ErrorCode::StoreDestroyed,
        ErrorCode::WechatApi,
        ErrorCode::RateLimited,
        ErrorCode::JssdkConfig,
        ErrorCode::OAuthState,
        ErrorCode::DecryptFailed,
        ErrorCode::Aborted,
        ErrorCode::SessionExpired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::LoginFailed => "LOGIN_FAILED",
            ErrorCode::ExchangeFailed => "EXCHANGE_FAILED",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::HttpError => "HTTP_ERROR",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::BadConfig => "BAD_CONFIG",
            ErrorCode::RandomUnavailable => "RANDOM_UNAVAILABLE",
            ErrorCode::BadInput => "BAD_INPUT",
            ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
            ErrorCode::StoreCorrupt => "STORE_CORRUPT",
            ErrorCode::StoreDestroyed => "STORE_DESTROYED",
            ErrorCode::WechatApi => "WECHAT_API",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::JssdkConfig => "JSSDK_CONFIG",
            ErrorCode::OAuthState => "OAUTH_STATE",
            ErrorCode::DecryptFailed => "DECRYPT_FAILED",
            ErrorCode::Aborted => "ABORTED",
            ErrorCode::SessionExpired => "SESSION_EXPIRED",
        }
    }

    /// The numeric form used on the hot path across the wasm boundary.
    pub fn from_u8(n: u8) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| *c as u8 == n)
    }

    pub fn from_name(name: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    /// WeChat's `errcode` and `errmsg`, for `WechatApi` errors.
    pub wechat: Option<(i64, String)>,
    /// The host's own error behind this one (an id the host handed in), so
    /// the error a caller finally sees can carry it as its `cause`.
    pub cause: Option<u32>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            wechat: None,
            cause: None,
        }
    }

    pub fn wechat(errcode: i64, errmsg: &str) -> Self {
        Error {
            code: ErrorCode::WechatApi,
            message: format!("WeChat answered errcode {errcode}: {errmsg}"),
            wechat: Some((errcode, errmsg.to_owned())),
            cause: None,
        }
    }

    /// 40001 (invalid or not the latest), 40014 (invalid), 42001 (expired):
    /// the access_token used is no good, and a fresh one may succeed.
    pub fn is_token_rejection(&self) -> bool {
        matches!(self.wechat, Some((40001 | 40014 | 42001, _)))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_by_number_and_name() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_u8(code as u8), Some(code));
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::from_u8(0), None);
        assert_eq!(ErrorCode::from_name("NOPE"), None);
    }
}
