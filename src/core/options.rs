//! `createSession` options as callers write them, checked in one place so
//! every host rejects the same mistakes with the same `BAD_CONFIG` message.

use crate::core::config::SessionConfig;
use crate::core::error::{Error, ErrorCode};
use serde::{Deserialize, Serialize};

/// Which host is asking: the mini-program has `wx.login`/`wx.checkSession`;
/// web and node pages must bring their own `getCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    MiniProgram,
    Web,
    Node,
}

/// Function-valued options arrive as `true` (the host keeps the function).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ClientOptions {
    pub base_url: String,
    pub login_url: Option<String>,
    pub exchange: bool,
    pub exchange_body: bool,
    pub get_code: bool,
    pub token_header: Option<String>,
    pub token_prefix: Option<String>,
    pub storage_key: Option<String>,
    pub storage_path: Option<String>,
    pub check_session: Option<String>,
    pub relogin_on: Option<Vec<f64>>,
    pub max_relogin: Option<f64>,
    pub timeout: Option<f64>,
    pub expiry_margin: Option<f64>,
    pub wasm_path: Option<String>,
}

/// The options after defaults and checks; what the host glue reads.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedOptions {
    pub base_url: String,
    pub login_url: Option<String>,
    pub token_header: String,
    pub token_prefix: String,
    pub storage_key: String,
    pub storage_path: Option<String>,
    pub timeout: f64,
}

impl ClientOptions {
    pub fn resolve(self, host: HostKind) -> Result<(ResolvedOptions, SessionConfig), Error> {
        if !(self.base_url.is_empty() || is_http_url(&self.base_url)) {
            return Err(bad(format!(
                "baseUrl must start with http:// or https://, not {:?}",
                self.base_url
            )));
        }
        if !self.exchange && self.login_url.as_deref().is_none_or(str::is_empty) {
            return Err(bad(
                "give loginUrl (the backend's code exchange) or an exchange function".into(),
            ));
        }
        if let Some(url) = &self.login_url {
            if self.base_url.is_empty() && !is_http_url(url) {
                return Err(bad(format!(
                    "loginUrl {url:?} is relative but no baseUrl is set"
                )));
            }
        }
        if host != HostKind::MiniProgram && !self.get_code {
            return Err(bad(
                "outside a mini-program there is no wx.login: pass getCode: async () => code"
                    .into(),
            ));
        }
        if self.storage_path.is_some() && host != HostKind::Node {
            return Err(bad("storagePath is only for the node entry".into()));
        }
        let token_header = self.token_header.unwrap_or_else(|| "Authorization".into());
        if token_header.is_empty() || !token_header.bytes().all(is_header_name_byte) {
            return Err(bad(format!(
                "tokenHeader {token_header:?} is not a valid HTTP header name"
            )));
        }
        let token_prefix = self.token_prefix.unwrap_or_else(|| "Bearer ".into());
        if token_prefix.chars().any(char::is_control) {
            return Err(bad("tokenPrefix must not contain control characters".into()));
        }
        let storage_key = self.storage_key.unwrap_or_else(|| "wxsession".into());
        if storage_key.is_empty() {
            return Err(bad("storageKey must not be empty".into()));
        }
        let timeout = self.timeout.unwrap_or(10_000.0);
        if !(1.0..=600_000.0).contains(&timeout) {
            return Err(bad(format!("timeout must be 1..600000 ms, not {timeout}")));
        }
        // Web and node pages have no wx.checkSession to call.
        let default_check = if host == HostKind::MiniProgram {
            "once"
        } else {
            "never"
        };
        let check = self.check_session.as_deref().unwrap_or(default_check);
        if host != HostKind::MiniProgram && check != "never" {
            return Err(bad(format!(
                "checkSession {check:?} needs wx.checkSession, which only a mini-program has"
            )));
        }
        let defaults = SessionConfig::default();
        let relogin_on: Vec<f64> = match self.relogin_on {
            Some(v) => v,
            None => defaults.relogin_on.iter().map(|&s| f64::from(s)).collect(),
        };
        let config = SessionConfig::new(
            check,
            &relogin_on,
            self.max_relogin.unwrap_or(f64::from(defaults.max_relogin)),
            self.expiry_margin
                .unwrap_or(defaults.expiry_margin_ms as f64),
        )?;
        let resolved = ResolvedOptions {
            base_url: self.base_url.trim_end_matches('/').to_owned(),
            login_url: self.login_url,
            token_header,
            token_prefix,
            storage_key,
            storage_path: self.storage_path,
            timeout,
        };
        Ok((resolved, config))
    }
}

fn is_http_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// RFC 9110 token characters.
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn bad(message: String) -> Error {
    Error::new(ErrorCode::BadConfig, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ClientOptions {
        ClientOptions {
            base_url: "https://api.example.com/".into(),
            login_url: Some("/auth/login".into()),
            ..Default::default()
        }
    }

    #[test]
    fn fills_in_the_documented_defaults() {
        let (r, c) = opts().resolve(HostKind::MiniProgram).unwrap();
        assert_eq!(r.base_url, "https://api.example.com");
        assert_eq!(
            (
                r.token_header.as_str(),
                r.token_prefix.as_str(),
                r.storage_key.as_str()
            ),
            ("Authorization", "Bearer ", "wxsession")
        );
        assert_eq!(r.timeout, 10_000.0);
        assert_eq!(c, SessionConfig::default());
    }

    #[test]
    fn mistakes_are_bad_config() {
        let cases: Vec<(ClientOptions, HostKind)> = vec![
            (
                ClientOptions {
                    login_url: None,
                    ..opts()
                },
                HostKind::MiniProgram,
            ),
            (
                ClientOptions {
                    base_url: "api.example.com".into(),
                    ..opts()
                },
                HostKind::MiniProgram,
            ),
            (
                ClientOptions {
                    base_url: String::new(),
                    ..opts()
                },
                HostKind::MiniProgram,
            ),
            (
                ClientOptions {
                    token_header: Some("Bad Header".into()),
                    ..opts()
                },
                HostKind::MiniProgram,
            ),
            (
                ClientOptions {
                    timeout: Some(0.0),
                    ..opts()
                },
                HostKind::MiniProgram,
            ),
            (
                ClientOptions {
                    storage_key: Some(String::new()),
                    ..opts()
                },
                HostKind::MiniProgram,
            ),
            (
                ClientOptions {
                    check_session: Some("often".into()),
                    ..opts()
                },
                HostKind::MiniProgram,
            ),
            (opts(), HostKind::Web),
            (
                ClientOptions {
                    get_code: true,
                    check_session: Some("once".into()),
                    ..opts()
                },
                HostKind::Node,
            ),
            (
                ClientOptions {
                    get_code: true,
                    storage_path: Some("x".into()),
                    ..opts()
                },
                HostKind::Web,
            ),
        ];
        for (o, host) in cases {
            let dbg = format!("{o:?}");
            assert_eq!(
                o.resolve(host).unwrap_err().code,
                ErrorCode::BadConfig,
                "{dbg}"
            );
        }
    }

    #[test]
    fn an_exchange_function_replaces_login_url() {
        let o = ClientOptions {
            exchange: true,
            login_url: None,
            base_url: String::new(),
            ..Default::default()
        };
        assert!(o.resolve(HostKind::MiniProgram).is_ok());
    }
}
