//! `createSession` options as callers write them, checked in one place so
//! every host rejects the same mistakes with the same `BAD_CONFIG` message.

use crate::core::config::{
    out_of_range, SessionConfig, EXPIRY_MARGIN_RULE, MAX_RELOGIN_RULE, RELOGIN_ON_RULE,
};
use crate::core::error::{Error, ErrorCode};
use crate::core::json::{self, cat, quote, Value};
use crate::core::url::UrlScope;

const TIMEOUT_RULE: &str = "timeout must be 1..600000 ms";

/// Which host is asking: the mini-program has `wx.login`/`wx.checkSession`;
/// web and node pages must bring their own `getCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostKind {
    MiniProgram,
    Web,
    Node,
}

/// Function-valued options arrive as `true` (the host keeps the function).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    /// The app's own storage object (the host keeps it).
    pub storage: bool,
    /// An `onEvent` hook (the host keeps it): the core reports to it.
    pub on_event: bool,
    pub check_session: Option<String>,
    pub token_origins: Option<Vec<String>>,
    pub relogin_on: Option<Vec<u16>>,
    pub max_relogin: Option<u32>,
    pub timeout: Option<u64>,
    pub expiry_margin: Option<u64>,
    pub wasm_path: Option<String>,
}

/// The options after defaults and checks; what the host glue reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedOptions {
    /// baseUrl's origin and path without a trailing '/': a plain `/path`
    /// extends it as is (see `UrlScope::base_prefix`).
    pub base_url: String,
    /// The exchange's absolute URL, resolved and checked like a request's.
    pub login_url: Option<String>,
    /// Where requests may go with the token.
    pub scope: UrlScope,
    pub token_header: String,
    pub token_prefix: String,
    pub storage_key: String,
    pub storage_path: Option<String>,
    pub timeout: u64,
}

impl ResolvedOptions {
    /// `{baseUrl, loginUrl, tokenHeader, tokenPrefix, storageKey, storagePath,
    /// timeout}`; the absent optional ones are `null`.
    pub fn to_json(&self) -> String {
        let text = |s: &str| Value::Str(s.to_owned());
        let opt = |s: &Option<String>| s.as_deref().map_or(Value::Null, text);
        json::write_object(&[
            ("baseUrl", text(&self.base_url)),
            ("loginUrl", opt(&self.login_url)),
            ("tokenHeader", text(&self.token_header)),
            ("tokenPrefix", text(&self.token_prefix)),
            ("storageKey", text(&self.storage_key)),
            ("storagePath", opt(&self.storage_path)),
            (
                "timeout",
                Value::Int(i64::try_from(self.timeout).unwrap_or(i64::MAX)),
            ),
        ])
    }
}

impl ClientOptions {
    /// Reads `createSession`'s options as JSON, keys in camelCase. `null`
    /// counts as not given; unknown keys and wrong types are BAD_CONFIG.
    pub fn from_json(text: &str) -> Result<ClientOptions, Error> {
        let obj = json::object(text, ErrorCode::BadConfig)
            .map_err(|e| bad(cat(&["options: ", &e.message])))?;
        let mut o = ClientOptions::default();
        for (k, raw) in obj.members() {
            // Each reader answers Err for a value of another type.
            let typed = |what: &'static str| move |_: json::WrongType| wrong_type(k, what);
            let string = || json::as_str(raw).map_err(typed("a string"));
            // Functions (and the storage object) arrive as `true`.
            let flag = || {
                Ok(json::as_bool(raw)
                    .map_err(typed("a function"))?
                    .unwrap_or(false))
            };
            let whole = |rule| match json::as_int(raw).map_err(typed("a whole number"))? {
                Some(n) => u32::try_from(n)
                    .map(Some)
                    .map_err(|_| out_of_range(rule, n)),
                None => Ok(None),
            };
            match k {
                "baseUrl" => o.base_url = string()?.unwrap_or_default(),
                "loginUrl" => o.login_url = string()?,
                "exchange" => o.exchange = flag()?,
                "exchangeBody" => o.exchange_body = flag()?,
                "getCode" => o.get_code = flag()?,
                "tokenHeader" => o.token_header = string()?,
                "tokenPrefix" => o.token_prefix = string()?,
                "storageKey" => o.storage_key = string()?,
                "storagePath" => o.storage_path = string()?,
                "storage" => o.storage = flag()?,
                "onEvent" => o.on_event = flag()?,
                "checkSession" => o.check_session = string()?,
                "tokenOrigins" => {
                    o.token_origins = json::as_strs(raw).map_err(typed("a list of strings"))?
                }
                "reloginOn" => o.relogin_on = statuses(raw)?,
                "maxRelogin" => o.max_relogin = whole(MAX_RELOGIN_RULE)?,
                "timeout" => o.timeout = whole(TIMEOUT_RULE)?.map(u64::from),
                "expiryMargin" => o.expiry_margin = whole(EXPIRY_MARGIN_RULE)?.map(u64::from),
                "wasmPath" => o.wasm_path = string()?,
                _ => return Err(bad(cat(&["unknown option ", &quote(k)]))),
            }
        }
        Ok(o)
    }

    pub fn resolve(self, host: HostKind) -> Result<(ResolvedOptions, SessionConfig), Error> {
        let scope = UrlScope::new(
            &self.base_url,
            self.token_origins.as_deref().unwrap_or_default(),
        )?;
        if !self.exchange && self.login_url.as_deref().is_none_or(str::is_empty) {
            return Err(bad(
                "give loginUrl (the backend's code exchange) or an exchange function".into(),
            ));
        }
        // The exchange goes where the token may go: it is the backend.
        let login_url = match self.login_url.as_deref() {
            Some(url) if !url.is_empty() => Some(
                scope
                    .resolve(url)
                    .map_err(|e| bad(cat(&["loginUrl: ", &e.message])))?,
            ),
            _ => None,
        };
        if host != HostKind::MiniProgram && !self.get_code {
            return Err(bad(
                "outside a mini-program there is no wx.login: pass getCode: async () => code"
                    .into(),
            ));
        }
        if let Some(path) = &self.storage_path {
            if host != HostKind::Node {
                return Err(bad("storagePath is only for the node entry".into()));
            }
            if path.is_empty() || self.storage {
                return Err(bad(
                    "storagePath must be a file path, and not given with storage".into(),
                ));
            }
        }
        let token_header = self.token_header.unwrap_or_else(|| "Authorization".into());
        if token_header.is_empty() || !token_header.bytes().all(is_header_name_byte) {
            return Err(bad(cat(&[
                "tokenHeader ",
                &quote(&token_header),
                " is not a valid HTTP header name",
            ])));
        }
        let token_prefix = self.token_prefix.unwrap_or_else(|| "Bearer ".into());
        if !token_prefix.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(bad(
                "tokenPrefix must be printable ASCII (a header carries nothing else)".into(),
            ));
        }
        let storage_key = self.storage_key.unwrap_or_else(|| "wxsession".into());
        if storage_key.is_empty() {
            return Err(bad("storageKey must not be empty".into()));
        }
        let timeout = self.timeout.unwrap_or(10_000);
        if !(1..=600_000).contains(&timeout) {
            return Err(out_of_range(TIMEOUT_RULE, timeout as i64));
        }
        // Web and node pages have no wx.checkSession to call.
        let default_check = if host == HostKind::MiniProgram {
            "once"
        } else {
            "never"
        };
        let check = self.check_session.as_deref().unwrap_or(default_check);
        if host != HostKind::MiniProgram && check != "never" {
            return Err(bad(cat(&[
                "checkSession ",
                &quote(check),
                " needs wx.checkSession, which only a mini-program has",
            ])));
        }
        let defaults = SessionConfig::default();
        let config = SessionConfig {
            report_events: self.on_event,
            ..SessionConfig::new(
                check,
                self.relogin_on.as_deref().unwrap_or(&defaults.relogin_on),
                self.max_relogin.unwrap_or(defaults.max_relogin),
                self.expiry_margin.unwrap_or(defaults.expiry_margin_ms),
            )?
        };
        let resolved = ResolvedOptions {
            base_url: scope.base_prefix().to_owned(),
            login_url,
            scope,
            token_header,
            token_prefix,
            storage_key,
            storage_path: self.storage_path,
            timeout,
        };
        Ok((resolved, config))
    }
}

/// RFC 9110 token characters.
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn bad(message: String) -> Error {
    Error::new(ErrorCode::BadConfig, message)
}

fn wrong_type(key: &str, what: &str) -> Error {
    bad(cat(&[key, " must be ", what]))
}

fn statuses(raw: &str) -> Result<Option<Vec<u16>>, Error> {
    let Ok(list) = json::as_ints(raw) else {
        return Err(wrong_type("reloginOn", "a list of HTTP statuses"));
    };
    let status = |n| u16::try_from(n).map_err(|_| out_of_range(RELOGIN_ON_RULE, n));
    list.map(|l| l.into_iter().map(status).collect())
        .transpose()
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
        assert_eq!(r.timeout, 10_000);
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
                    timeout: Some(0),
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
    fn reads_options_json_and_writes_what_the_glue_reads() {
        let o = ClientOptions::from_json(
            r#"{"baseUrl":"https://a.test/","loginUrl":"/l","getCode":true,"exchange":false,
                "reloginOn":[401,419],"maxRelogin":2,"timeout":5000,"expiryMargin":0,
                "tokenPrefix":"Token \"x\"","storageKey":null,"checkSession":"never"}"#,
        )
        .unwrap();
        assert_eq!(o.relogin_on, Some(vec![401, 419]));
        assert_eq!(
            (o.max_relogin, o.timeout, o.expiry_margin),
            (Some(2), Some(5000), Some(0))
        );
        assert_eq!(
            (o.get_code, o.exchange, o.storage_key.as_deref()),
            (true, false, None)
        );
        let (r, c) = o.resolve(HostKind::Web).unwrap();
        assert_eq!(
            (c.relogin_on, c.max_relogin, c.expiry_margin_ms),
            (vec![401, 419], 2, 0)
        );
        assert_eq!(
            r.to_json(),
            r#"{"baseUrl":"https://a.test","loginUrl":"https://a.test/l","tokenHeader":"Authorization","tokenPrefix":"Token \"x\"","storageKey":"wxsession","storagePath":null,"timeout":5000}"#
        );
        assert_eq!(
            ClientOptions::from_json("{}").unwrap(),
            ClientOptions::default()
        );
    }

    #[test]
    fn json_mistakes_are_bad_config_naming_the_key() {
        for (text, says) in [
            (
                r#"{"loginUrl":"/l","bogus":1}"#,
                r#"unknown option "bogus""#,
            ),
            (r#"{"loginUrl":"/l","login_url":"/l"}"#, "login_url"),
            (r#"{"timeout":"soon"}"#, "timeout must be a whole number"),
            (r#"{"timeout":1.5}"#, "timeout must be a whole number"),
            (r#"{"timeout":-1}"#, "timeout must be 1..600000 ms, not -1"),
            (
                r#"{"maxRelogin":-1}"#,
                "maxRelogin must be a whole number from 0 to 5, not -1",
            ),
            (r#"{"expiryMargin":1e3}"#, "expiryMargin"),
            (
                r#"{"reloginOn":401}"#,
                "reloginOn must be a list of HTTP statuses",
            ),
            (r#"{"reloginOn":[401.5]}"#, "reloginOn"),
            (r#"{"reloginOn":[70000]}"#, "(400-599), not 70000"),
            (r#"{"baseUrl":1}"#, "baseUrl must be a string"),
            (r#"{"getCode":"yes"}"#, "getCode must be a function"),
            (r#"{"header":{"a":"b"}}"#, "header"),
            (r#"{"timeout":1,"timeout":2}"#, "given twice"),
            ("{not json", "options: not a JSON object"),
        ] {
            let e = ClientOptions::from_json(text).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadConfig);
            assert!(e.message.contains(says), "{text}: {}", e.message);
        }
        let e = opts_with(r#""tokenHeader":"Bad\nHeader""#).unwrap_err();
        assert_eq!(
            e.message,
            r#"tokenHeader "Bad\nHeader" is not a valid HTTP header name"#
        );
        let e = opts_with(r#""timeout":600001"#).unwrap_err();
        assert_eq!(e.message, "timeout must be 1..600000 ms, not 600001");
    }

    fn opts_with(extra: &str) -> Result<(ResolvedOptions, SessionConfig), Error> {
        let text = format!(r#"{{"baseUrl":"https://a.test","loginUrl":"/l",{extra}}}"#);
        ClientOptions::from_json(&text)?.resolve(HostKind::MiniProgram)
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
