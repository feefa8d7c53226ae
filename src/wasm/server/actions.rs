//! The server core's actions as plain JS objects (built by
//! serde-wasm-bindgen): `{io, kind: IoKind.*, ...}` for a request to
//! perform, `{op, value}` or `{op, error}` for an operation that finished.

use super::payload::JsInfo;
use crate::core::server::io::{Action, Io, Method, Out};
use crate::core::Error;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// What an I/O request asks the host to do.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoKind {
    /// Backend get(key) → string or null.
    Get = 0,
    /// Backend set(key, value, ttlMs).
    Set = 1,
    /// Backend delete(key).
    Delete = 2,
    /// Backend lock(name, ttlMs) → token or null.
    Lock = 3,
    /// Backend unlock(name, token).
    Unlock = 4,
    /// HTTP to WeChat: {method, path, query, body} → the reply text.
    Call = 5,
    /// Wait `ms`.
    Sleep = 6,
    /// Backend clear().
    Clear = 7,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct IoOut {
    io: u32,
    kind: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<Vec<(String, String)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ms: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorOut {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errcode: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
    /// The host's error behind this one (the id it gave with the answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<u32>,
}

impl From<Error> for ErrorOut {
    fn from(e: Error) -> ErrorOut {
        let (errcode, errmsg) = match e.wechat {
            Some((code, msg)) => (Some(code as f64), Some(msg)),
            None => (None, None),
        };
        ErrorOut {
            code: e.code.as_str(),
            message: e.message,
            errcode,
            errmsg,
            cause: e.cause,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CredOut {
    value: String,
    refresh_at: f64,
}

#[derive(Serialize)]
struct FinishOut {
    op: u32,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    value: JsValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ErrorOut>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ActionOut {
    Io(IoOut),
    Finish(FinishOut),
}

fn io_out(id: u32, io: Io) -> IoOut {
    let base = IoOut {
        io: id,
        ..IoOut::default()
    };
    match io {
        Io::Get { key } => IoOut {
            kind: IoKind::Get as u8,
            key: Some(key),
            ..base
        },
        Io::Set { key, value, ttl_ms } => IoOut {
            kind: IoKind::Set as u8,
            key: Some(key),
            value: Some(value),
            ttl_ms: Some(ttl_ms as f64),
            ..base
        },
        Io::Delete { key } => IoOut {
            kind: IoKind::Delete as u8,
            key: Some(key),
            ..base
        },
        Io::Lock { name, ttl_ms } => IoOut {
            kind: IoKind::Lock as u8,
            name: Some(name),
            ttl_ms: Some(ttl_ms as f64),
            ..base
        },
        Io::Unlock { name, token } => IoOut {
            kind: IoKind::Unlock as u8,
            name: Some(name),
            token: Some(token),
            ..base
        },
        Io::Call(call) => IoOut {
            kind: IoKind::Call as u8,
            method: Some(match call.method {
                Method::Get => "GET",
                Method::Post => "POST",
            }),
            path: Some(call.path),
            query: Some(call.query),
            body: call.body,
            ..base
        },
        Io::Sleep { ms } => IoOut {
            kind: IoKind::Sleep as u8,
            ms: Some(ms as f64),
            ..base
        },
        Io::Clear => IoOut {
            kind: IoKind::Clear as u8,
            ..base
        },
    }
}

fn value_of(out: Out<JsInfo>) -> JsValue {
    match out {
        Out::Unit | Out::Record(_) | Out::Info(None) => JsValue::UNDEFINED,
        Out::Info(Some(p)) | Out::Signature(p) => p.0,
        Out::Cred(slot) => serde_wasm_bindgen::to_value(&CredOut {
            value: slot.value,
            refresh_at: slot.refresh_at as f64,
        })
        .unwrap_or(JsValue::UNDEFINED),
        Out::Reply(text) => JsValue::from_str(&text),
    }
}

pub fn to_js(actions: Vec<Action<JsInfo>>) -> JsValue {
    let out: Vec<ActionOut> = actions
        .into_iter()
        .map(|a| match a {
            Action::Io { id, io } => ActionOut::Io(io_out(id, io)),
            Action::Finish {
                op,
                result: Ok(out),
            } => ActionOut::Finish(FinishOut {
                op,
                value: value_of(out),
                error: None,
            }),
            Action::Finish { op, result: Err(e) } => ActionOut::Finish(FinishOut {
                op,
                value: JsValue::UNDEFINED,
                error: Some(e.into()),
            }),
        })
        .collect();
    serde_wasm_bindgen::to_value(&out).unwrap_or_else(|_| js_sys::Array::new().into())
}
