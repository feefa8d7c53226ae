//! The node build's server core: the Token Store cache and WeChat's
//! credentials in one object. Operations start through typed methods and
//! answer `{op, actions}`; the glue performs each action's I/O and reports
//! it with `complete`/`fail`, which answer the next actions. Memory hits
//! (`get`, `signatureHit`, `credentialHit`) are synchronous and return the
//! frozen object itself.

mod actions;
mod payload;

use super::errors::{code_from_name, to_js};
use super::ms;
use crate::core::server::config::{StoreSettings, WechatParams};
use crate::core::server::io::{Action, ApiCall, Method, OpId};
use crate::core::server::{Op, ServerCore, Which};
use crate::core::store::{Handle, Kind, Lookup, StoreConfig};
use crate::core::{Error, ErrorCode};
use payload::JsInfo;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

pub use actions::IoKind;

/// Which store record: the global token record, a signature, an OAuth
/// token, the card ticket or a mini-program session.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug)]
pub enum StoreKind {
    Global = 0,
    Signature = 1,
    OAuth = 2,
    Card = 3,
    MpSession = 4,
}

/// Which credential.
#[wasm_bindgen]
#[derive(Clone, Copy, Debug)]
pub enum CredKind {
    Token = 0,
    Ticket = 1,
    OAuth = 2,
}

/// A handle from the host's two numbers, if they can be one.
fn handle(slot: f64, generation: f64) -> Option<Handle> {
    let whole = |n: f64, max: f64| (0.0..=max).contains(&n) && n.fract() == 0.0;
    (whole(slot, f64::from(u32::MAX)) && whole(generation, 9_007_199_254_740_991.0)).then_some(
        Handle {
            slot: slot as u32,
            generation: generation as u64,
        },
    )
}

fn kind(k: StoreKind) -> Kind {
    match k {
        StoreKind::Global => Kind::Global,
        StoreKind::Signature => Kind::Signature,
        StoreKind::OAuth => Kind::OAuth,
        StoreKind::Card => Kind::Card,
        StoreKind::MpSession => Kind::MpSession,
    }
}

fn which(k: CredKind, key: Option<String>) -> Result<Which, JsValue> {
    Ok(match k {
        CredKind::Token => Which::Token,
        CredKind::Ticket => Which::Ticket,
        CredKind::OAuth => Which::OAuth(key.ok_or_else(|| {
            to_js(Error::new(
                ErrorCode::BadInput,
                "an OAuth credential needs its key",
            ))
        })?),
    })
}

fn bad_config(e: impl std::fmt::Display) -> JsValue {
    to_js(Error::new(ErrorCode::BadConfig, e.to_string()))
}

/// Whole ms from JS numbers (the glue has checked they are whole).
fn whole(v: Option<f64>) -> Option<i64> {
    v.map(|n| {
        if n.is_finite() && n.fract() == 0.0 {
            n as i64
        } else {
            -1
        }
    })
}

fn whole_u64(v: Option<f64>) -> Option<u64> {
    whole(v).map(|n| n.max(0) as u64)
}

// serde-wasm-bindgen reads only the fields named here, so unknown option
// names are refused by the glue's checkOptions before this; wrong types
// are refused here (BAD_CONFIG).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoreOptions {
    interval: Option<f64>,
    no_interval: Option<bool>,
    max_signatures: Option<f64>,
    has_backend: bool,
    can_lock: bool,
    timeout: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WechatOptions {
    app_id: String,
    app_secret: String,
    stable_token: Option<bool>,
    timeout: Option<f64>,
    margin: Option<f64>,
    lock_ttl: Option<f64>,
    recheck_interval: Option<f64>,
    session_ttl: Option<f64>,
    session_renew: Option<bool>,
}

#[derive(Serialize)]
struct Started {
    op: u32,
    #[serde(with = "serde_wasm_bindgen::preserve")]
    actions: JsValue,
}

#[wasm_bindgen(js_name = ServerCore)]
pub struct ServerCoreJs {
    inner: ServerCore<JsInfo>,
}

impl ServerCoreJs {
    fn started(&self, (op, actions): (OpId, Vec<Action<JsInfo>>)) -> JsValue {
        serde_wasm_bindgen::to_value(&Started {
            op,
            actions: actions::to_js(actions),
        })
        .unwrap_or(JsValue::UNDEFINED)
    }

    fn start(&mut self, op: Op<JsInfo>, now: f64) -> JsValue {
        let started = self.inner.start(op, ms(now));
        self.started(started)
    }
}

#[wasm_bindgen(js_class = ServerCore)]
impl ServerCoreJs {
    /// `options`: `{hasBackend, canLock, timeout?, interval?, noInterval?,
    /// maxSignatures?}`, already checked by the glue for types.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue, now: f64) -> Result<ServerCoreJs, JsValue> {
        let o: StoreOptions = serde_wasm_bindgen::from_value(options).map_err(bad_config)?;
        let config = StoreConfig::new(whole(o.interval), o.no_interval, whole(o.max_signatures))
            .map_err(to_js)?;
        let timeout_ms = match whole(o.timeout) {
            None => 5_000,
            Some(t) if (1..=600_000).contains(&t) => t as u64,
            Some(_) => {
                return Err(bad_config(
                    "timeout must be a whole number of ms from 1 to 600000",
                ))
            }
        };
        let settings = StoreSettings {
            has_backend: o.has_backend,
            can_lock: o.has_backend && o.can_lock,
            timeout_ms,
        };
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|_| {
            to_js(Error::new(
                ErrorCode::RandomUnavailable,
                "no CSPRNG (crypto.getRandomValues) in this host",
            ))
        })?;
        let inner = ServerCore::new(config, settings, &seed, ms(now)).map_err(to_js)?;
        Ok(ServerCoreJs { inner })
    }

    /// A `Wechat` attaches: `{appId, appSecret, stableToken?, timeout?,
    /// margin?, lockTtl?, recheckInterval?}`.
    pub fn configure(&mut self, options: JsValue) -> Result<(), JsValue> {
        let o: WechatOptions = serde_wasm_bindgen::from_value(options).map_err(bad_config)?;
        self.inner
            .configure(WechatParams {
                app_id: o.app_id,
                app_secret: o.app_secret,
                stable_token: o.stable_token.unwrap_or(false),
                timeout_ms: whole_u64(o.timeout),
                margin_ms: whole_u64(o.margin),
                lock_ttl_ms: whole_u64(o.lock_ttl),
                recheck_ms: whole_u64(o.recheck_interval),
                session_ttl_ms: whole_u64(o.session_ttl),
                session_renew: o.session_renew,
            })
            .map_err(to_js)
    }

    /// A memory read: the frozen info, `undefined` when known absent, `true`
    /// when only the backend can tell (then `startGet`), or a coded Error to
    /// reject with. The error is returned, not thrown: this is the hot path,
    /// and a plain return skips wasm-bindgen's result slot.
    pub fn get(&mut self, kind_: StoreKind, id: &str, now: f64) -> JsValue {
        match self.inner.lookup(kind(kind_), id, ms(now)) {
            Ok(Lookup::Hit(p)) => p.0,
            Ok(Lookup::Absent) => JsValue::UNDEFINED,
            Ok(Lookup::Load { .. }) => JsValue::TRUE,
            Err(e) => to_js(e),
        }
    }

    /// The handle of a signature just read, for `signatureLive`: its slot
    /// and its generation, two numbers (the generation never repeats).
    #[wasm_bindgen(js_name = signatureHandle)]
    pub fn signature_handle(&self, url: &str) -> Option<Vec<f64>> {
        let h = self.inner.signature_handle(url)?;
        Some(vec![f64::from(h.slot), h.generation as f64])
    }

    /// Whether the signature the glue remembered under this handle may be
    /// served now (every check a lookup makes, and its LRU touch). Numbers
    /// only: this is the memory hit of `Store.getSignature`.
    #[wasm_bindgen(js_name = signatureLive)]
    pub fn signature_live(&mut self, slot: f64, generation: f64, now: f64) -> bool {
        match handle(slot, generation) {
            Some(h) => self.inner.signature_live(h, ms(now)),
            None => false,
        }
    }

    /// Whether a signature view the glue remembered under this handle may
    /// be served now (the cached `jssdk.getSignature`).
    #[wasm_bindgen(js_name = signatureViewLive)]
    pub fn signature_view_live(&mut self, slot: f64, generation: f64, now: f64) -> bool {
        match handle(slot, generation) {
            Some(h) => self.inner.signature_view_live(h, ms(now)),
            None => false,
        }
    }

    /// A record read ahead of need (MongoStore's start-up preload).
    pub fn preload(
        &mut self,
        kind_: StoreKind,
        id: &str,
        raw: &str,
        now: f64,
    ) -> Result<(), JsValue> {
        let epoch = self.inner.store().epoch();
        self.inner
            .preload(kind(kind_), id, raw, epoch, ms(now))
            .map_err(to_js)
    }

    /// A signature's view for wx.config when memory can serve it now.
    #[wasm_bindgen(js_name = signatureHit)]
    pub fn signature_hit(&mut self, url: &str, now: f64) -> JsValue {
        self.inner
            .signature_hit(url, ms(now))
            .map_or(JsValue::UNDEFINED, |p| p.0)
    }

    /// The access_token or jsapi_ticket when memory can serve it now.
    #[wasm_bindgen(js_name = credentialHit)]
    pub fn credential_hit(&self, kind_: CredKind, now: f64) -> Option<String> {
        let w = which(kind_, None).ok()?;
        self.inner.credential_hit(&w, ms(now)).map(|s| s.value)
    }

    #[wasm_bindgen(js_name = startGet)]
    pub fn start_get(&mut self, kind_: StoreKind, id: String, now: f64) -> JsValue {
        self.start(
            Op::Get {
                kind: kind(kind_),
                id,
            },
            now,
        )
    }

    /// A save or update done at once when it needs no I/O: the stored
    /// payload, `true` when only `startSave` can do it, or a coded Error
    /// to reject with (returned, not thrown: a hot path).
    #[wasm_bindgen(js_name = saveNow)]
    #[allow(clippy::too_many_arguments)] // a typed boundary signature, one argument per field
    pub fn save_now(
        &mut self,
        kind_: StoreKind,
        id: &str,
        info: &str,
        made: JsValue,
        merge: bool,
        flush: bool,
        now: f64,
    ) -> JsValue {
        let made = (!made.is_undefined()).then_some(JsInfo(made));
        let incoming = crate::core::store::Incoming { info, merge, made };
        match self
            .inner
            .save_now(kind(kind_), id, incoming, flush, ms(now))
        {
            None => JsValue::TRUE,
            Some(Ok(p)) => p.0,
            Some(Err(e)) => to_js(e),
        }
    }

    /// `made`: a deep-frozen copy of the info the glue made (sharing the
    /// caller's strings), kept as the payload of a plain save; `undefined`
    /// to have the core parse `info` itself.
    #[wasm_bindgen(js_name = startSave)]
    #[allow(clippy::too_many_arguments)] // a typed boundary signature, one argument per field
    pub fn start_save(
        &mut self,
        kind_: StoreKind,
        id: String,
        info: String,
        made: JsValue,
        merge: bool,
        flush: bool,
        now: f64,
    ) -> JsValue {
        let made = (!made.is_undefined()).then_some(JsInfo(made));
        self.start(
            Op::Save {
                kind: kind(kind_),
                id,
                info,
                made,
                merge,
                flush,
            },
            now,
        )
    }

    #[wasm_bindgen(js_name = startFlush)]
    pub fn start_flush(&mut self, now: f64) -> JsValue {
        self.start(Op::Flush, now)
    }

    #[wasm_bindgen(js_name = startClear)]
    pub fn start_clear(&mut self, now: f64) -> JsValue {
        self.start(Op::Clear, now)
    }

    #[wasm_bindgen(js_name = startCredential)]
    pub fn start_credential(
        &mut self,
        kind_: CredKind,
        key: Option<String>,
        force: bool,
        now: f64,
    ) -> Result<JsValue, JsValue> {
        let which = which(kind_, key)?;
        Ok(self.start(Op::Credential { which, force }, now))
    }

    #[wasm_bindgen(js_name = startOAuthRefresh)]
    pub fn start_oauth_refresh(&mut self, key: String, now: f64) -> JsValue {
        self.start(Op::OAuthRefresh { key }, now)
    }

    #[wasm_bindgen(js_name = startSignature)]
    pub fn start_signature(&mut self, url: String, force: bool, now: f64) -> JsValue {
        self.start(Op::Signature { url, force }, now)
    }

    /// Any API taking access_token: `query` as `[[name, value], ...]`,
    /// `body` as JSON text.
    #[wasm_bindgen(js_name = startApi)]
    pub fn start_api(
        &mut self,
        post: bool,
        path: String,
        query: JsValue,
        body: Option<String>,
        now: f64,
    ) -> Result<JsValue, JsValue> {
        let query: Vec<(String, String)> = serde_wasm_bindgen::from_value(query)
            .map_err(|e| to_js(Error::new(ErrorCode::BadInput, format!("query: {e}"))))?;
        let method = if post { Method::Post } else { Method::Get };
        Ok(self.start(
            Op::Api {
                call: ApiCall {
                    method,
                    path,
                    query,
                    body,
                },
            },
            now,
        ))
    }

    #[wasm_bindgen(js_name = startOAuthExchange)]
    pub fn start_oauth_exchange(&mut self, code: String, key: Option<String>, now: f64) -> JsValue {
        self.start(Op::OAuthExchange { code, key }, now)
    }

    #[wasm_bindgen(js_name = startCode2Session)]
    pub fn start_code2session(&mut self, code: String, now: f64) -> JsValue {
        self.start(Op::Code2Session { code }, now)
    }

    #[wasm_bindgen(js_name = startManualRefresh)]
    pub fn start_manual_refresh(&mut self, now: f64) -> JsValue {
        self.start(Op::ManualRefresh, now)
    }

    /// `sessions.login`: `entropy` is 32 bytes from the host's CSPRNG (the
    /// token), `data` the caller's JSON object or undefined.
    #[wasm_bindgen(js_name = startLogin)]
    pub fn start_login(
        &mut self,
        code: String,
        entropy: &[u8],
        data: Option<String>,
        now: f64,
    ) -> Result<JsValue, JsValue> {
        let entropy: [u8; 32] = entropy.try_into().map_err(|_| {
            to_js(Error::new(
                ErrorCode::RandomUnavailable,
                "a session token needs 32 bytes of entropy",
            ))
        })?;
        Ok(self.start(
            Op::SessionLogin {
                code,
                entropy,
                data,
            },
            now,
        ))
    }

    #[wasm_bindgen(js_name = startVerify)]
    pub fn start_verify(&mut self, token: String, now: f64) -> JsValue {
        self.start(Op::SessionVerify { token }, now)
    }

    #[wasm_bindgen(js_name = startRevoke)]
    pub fn start_revoke(&mut self, token: String, now: f64) -> JsValue {
        self.start(Op::SessionRevoke { token }, now)
    }

    #[wasm_bindgen(js_name = startRevokeUser)]
    pub fn start_revoke_user(&mut self, openid: String, now: f64) -> JsValue {
        self.start(Op::SessionRevokeUser { openid }, now)
    }

    #[wasm_bindgen(js_name = startListSessions)]
    pub fn start_list_sessions(&mut self, openid: String, now: f64) -> JsValue {
        self.start(Op::SessionList { openid }, now)
    }

    #[wasm_bindgen(js_name = startDecrypt)]
    pub fn start_decrypt(
        &mut self,
        token: String,
        encrypted: String,
        iv: String,
        now: f64,
    ) -> JsValue {
        self.start(
            Op::SessionDecrypt {
                token,
                encrypted,
                iv,
            },
            now,
        )
    }

    /// I/O `io` succeeded; `value` as its kind says (read text, lock token,
    /// reply body, or nothing). Returns the next actions.
    pub fn complete(&mut self, io: u32, value: Option<String>, now: f64) -> JsValue {
        actions::to_js(self.inner.complete(io, Ok(value.as_deref()), ms(now)))
    }

    /// I/O `io` failed with a coded error; `cause` is the host's id for the
    /// error object, handed back with any failure it causes.
    pub fn fail(
        &mut self,
        io: u32,
        code: &str,
        message: &str,
        cause: Option<u32>,
        now: f64,
    ) -> JsValue {
        let mut e = Error::new(code_from_name(code), message);
        e.cause = cause;
        actions::to_js(self.inner.complete(io, Err(e), ms(now)))
    }

    /// Epoch ms of the next periodic flush, or undefined.
    #[wasm_bindgen(js_name = nextFlushAt)]
    pub fn next_flush_at(&self) -> Option<f64> {
        self.inner.store().next_flush_at().map(|t| t as f64)
    }

    #[wasm_bindgen(js_name = dirtyCount)]
    pub fn dirty_count(&self) -> u32 {
        self.inner.store().dirty_count() as u32
    }

    #[wasm_bindgen(js_name = signatureCount)]
    pub fn signature_count(&self) -> u32 {
        self.inner.store().signature_count() as u32
    }

    #[wasm_bindgen(js_name = inFlight)]
    pub fn in_flight(&self) -> u32 {
        self.inner.in_flight() as u32
    }

    /// The attached Wechat's appId, if any.
    #[wasm_bindgen(js_name = appId)]
    pub fn app_id(&self) -> Option<String> {
        self.inner.config().map(|c| c.app_id.clone())
    }

    pub fn destroy(&mut self) {
        self.inner.destroy()
    }
}

/// WeChat's encryptedData decrypted with a session_key: the JSON text, or
/// DECRYPT_FAILED (also for data watermarked for another app).
#[wasm_bindgen(js_name = decryptDataParts)]
pub fn decrypt_data_parts(
    encrypted: &str,
    iv: &str,
    session_key: &str,
    app_id: &str,
) -> Result<String, JsValue> {
    crate::core::wxcrypt::decrypt_data(encrypted, iv, session_key, app_id).map_err(to_js)
}
