//! What crosses between the server core and its host: typed requests for
//! I/O out, one answer per request in, and the outcome of each operation.

use crate::core::error::Error;
use crate::core::store::meta::Slot;
use crate::core::store::Record;

pub type IoId = u32;
pub type OpId = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// One HTTP call to WeChat's API. `query` may carry the app secret: hosts
/// never put it in an error message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiCall {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// A JSON body (POST).
    pub body: Option<String>,
}

impl ApiCall {
    pub fn get(path: &str, query: &[(&str, &str)]) -> ApiCall {
        ApiCall {
            method: Method::Get,
            path: path.to_owned(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: None,
        }
    }

    /// The same call with `access_token` set (replacing any given).
    pub fn with_token(&self, token: &str) -> ApiCall {
        let mut call = self.clone();
        call.query.retain(|(k, _)| k != "access_token");
        call.query
            .push(("access_token".to_owned(), token.to_owned()));
        call
    }
}

/// A request the host performs, answering `Ok(Some(text))`, `Ok(None)` or
/// `Err` as each variant says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Io {
    /// Backend read: the stored text, or None.
    Get {
        key: String,
    },
    /// Backend write; `ttl_ms` 0 means no expiry. Answers None.
    Set {
        key: String,
        value: String,
        ttl_ms: u64,
    },
    Delete {
        key: String,
    },
    /// Backend lock: the holder's token if acquired, None if taken.
    Lock {
        name: String,
        ttl_ms: u64,
    },
    Unlock {
        name: String,
        token: String,
    },
    /// WeChat's API: the reply body (any HTTP 2xx).
    Call(ApiCall),
    Sleep {
        ms: u64,
    },
    /// Backend `clear()` (clearStore).
    Clear,
}

pub type Answer<'a> = Result<Option<&'a str>, Error>;

/// What an operation resolves with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out<P> {
    Unit,
    /// A load's record (internal).
    Record(Option<Record<P>>),
    /// A store read or write: the stored payload.
    Info(Option<P>),
    /// An access_token, jsapi_ticket or OAuth token.
    Cred(Slot),
    /// A JS-SDK signature's public view for wx.config.
    Signature(P),
    /// A WeChat reply body (already checked for an errcode).
    Reply(String),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Action<P> {
    Io {
        id: IoId,
        io: Io,
    },
    Finish {
        op: OpId,
        result: Result<Out<P>, Error>,
    },
}
