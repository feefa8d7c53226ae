use super::errors::{code_from_name, to_js};
use super::ms;
use crate::core::json::{cat, quote};
use crate::core::{
    ClientOptions, Effect, Error, ErrorCode, HostKind, LoginOutcome, ResolvedOptions, Session,
    Transfer,
};
use wasm_bindgen::prelude::*;

// Effect kinds in `takeEffects`, three numbers per effect: [kind, a, b].
const CHECK: u32 = 1; // a = check id
const LOGIN: u32 = 2; // a = login id
const SEND: u32 = 3; // a = request id, b = token generation
const RESOLVE: u32 = 4; // a = request id
const REJECT: u32 = 5; // a = request id, b = error code number (see errorCodes()) | 256 if the login failed
const PERSIST: u32 = 6; // a = the token's expiry in epoch seconds, rounded up (0: none)
const CLEAR: u32 = 7;
const STATE: u32 = 8; // a = 0 anonymous, 1 logging-in, 2 authenticated
/// The one effect of six numbers, for `onEvent`:
/// [REPORT, request id (0 for logins and checks), kind | error << 8 | attempt << 16,
///  durationMs, HTTP status (0: none), 0]. kind: 0 request, 1 upload,
/// 2 download, 3 login, 4 relogin, 5 checkSession; error: a code number
/// (0: none).
const REPORT: u32 = 9;
/// Flag on `request`'s result: send now, nothing queued (ids are < 2^31).
const SEND_NOW: u32 = 0x8000_0000;

/// The session machine for one host. Numbers, not objects, cross the
/// boundary on the hot path: a request costs two calls and no JSON.
#[wasm_bindgen]
pub struct SessionCore {
    inner: Session,
    options: ResolvedOptions,
}

#[wasm_bindgen]
impl SessionCore {
    /// Validates `options` (JSON; function values passed as `true`) for
    /// `host` ('miniprogram' | 'web' | 'node'); throws BAD_CONFIG on any
    /// mistake. JSON rather than a JS object keeps a JS-object deserialiser
    /// out of the mini-program's size budget.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str, host: &str) -> Result<SessionCore, JsValue> {
        let host = match host {
            "miniprogram" => HostKind::MiniProgram,
            "web" => HostKind::Web,
            "node" => HostKind::Node,
            other => {
                return Err(to_js(Error::new(
                    ErrorCode::BadConfig,
                    cat(&["unknown host ", &quote(other)]),
                )))
            }
        };
        let (options, config) = ClientOptions::from_json(options)
            .and_then(|raw| raw.resolve(host))
            .map_err(to_js)?;
        Ok(SessionCore {
            inner: Session::new(config, None, 0),
            options,
        })
    }

    /// The options after defaults, as JSON.
    #[wasm_bindgen(getter)]
    pub fn options(&self) -> String {
        self.options.to_json()
    }

    /// The absolute URL for a request's `url`, if the token may go there;
    /// throws BAD_CONFIG otherwise. Hosts skip this for a plain `/path`,
    /// which extends `options.baseUrl` as is.
    #[wasm_bindgen(js_name = resolveUrl)]
    pub fn resolve_url(&self, url: &str) -> Result<String, JsValue> {
        self.options.scope.resolve(url).map_err(to_js)
    }

    /// Adopts what storage held under `options.storageKey`, if still valid.
    pub fn restore(&mut self, stored: Option<String>, now: f64) -> bool {
        self.inner.restore(stored.as_deref(), ms(now))
    }

    /// Returns the request id, plus `SEND_NOW` when the only thing to do is
    /// to send it with the current token (then nothing is queued).
    pub fn request(&mut self, now: f64) -> u32 {
        let id = self.inner.request(ms(now));
        self.send_now(id)
    }

    /// `request` for an upload (1) or a download (2); any other kind is a request.
    pub fn transfer(&mut self, kind: u8, now: f64) -> u32 {
        let kind = Transfer::from_u8(kind).unwrap_or(Transfer::Request);
        let id = self.inner.transfer(kind, ms(now));
        self.send_now(id)
    }

    /// The caller aborted `req`: true if it was still pending (it then
    /// rejects ABORTED through `takeEffects`).
    pub fn abort(&mut self, req: u32, now: f64) -> bool {
        self.inner.abort(req, ms(now))
    }

    fn send_now(&mut self, id: u32) -> u32 {
        let fast = self
            .inner
            .take_only(|e| matches!(e, Effect::Send { req, .. } if *req == id));
        if fast.is_some() {
            id | SEND_NOW
        } else {
            id
        }
    }

    /// The generation of the current token; it changes when a login succeeds.
    #[wasm_bindgen(getter)]
    pub fn generation(&self) -> u32 {
        self.inner.generation()
    }

    pub fn login(&mut self, force: bool, now: f64) -> u32 {
        self.inner.login(force, ms(now))
    }

    pub fn logout(&mut self) {
        self.inner.logout()
    }

    #[wasm_bindgen(js_name = checkSessionDone)]
    pub fn check_session_done(&mut self, check: u32, ok: bool, now: f64) {
        self.inner.check_session_done(check, ok, ms(now))
    }

    /// The exchange answered 2xx; `token`/`expiresIn` as found in its body.
    #[wasm_bindgen(js_name = loginSucceeded)]
    pub fn login_succeeded(
        &mut self,
        login: u32,
        token: Option<String>,
        expires_in: Option<f64>,
        now: f64,
    ) {
        let outcome = LoginOutcome::Exchanged {
            token: token.as_deref(),
            expires_in,
        };
        self.inner.login_done(login, outcome, ms(now))
    }

    #[wasm_bindgen(js_name = loginFailed)]
    pub fn login_failed(&mut self, login: u32, code: &str, message: &str, now: f64) {
        let error = Error::new(code_from_name(code), message);
        self.inner
            .login_done(login, LoginOutcome::Failed(error), ms(now))
    }

    /// Returns true when the only outcome is that `req` resolves (then
    /// nothing is queued); otherwise drain `takeEffects`.
    pub fn response(&mut self, req: u32, status: u16, now: f64) -> bool {
        self.inner.response(req, status, ms(now));
        self.inner
            .take_only(|e| matches!(e, Effect::Resolve { req: r } if *r == req))
            .is_some()
    }

    #[wasm_bindgen(js_name = requestFailed)]
    pub fn request_failed(&mut self, req: u32, code: &str, now: f64) {
        self.inner
            .request_failed(req, code_from_name(code), ms(now))
    }

    /// Drains queued effects as `[kind, a, b]` triples (REPORT takes two).
    #[wasm_bindgen(js_name = takeEffects)]
    pub fn take_effects(&mut self) -> Vec<u32> {
        let mut out = Vec::new();
        while let Some(e) = self.inner.next_effect() {
            let triple = match e {
                Effect::CheckSession { check } => [CHECK, check, 0],
                Effect::Login { login } => [LOGIN, login, 0],
                Effect::Send { req, generation } => [SEND, req, generation],
                Effect::Resolve { req } => [RESOLVE, req, 0],
                Effect::Reject { req, code, login } => {
                    [REJECT, req, code as u32 | (u32::from(login) << 8)]
                }
                Effect::Persist => {
                    let expiry = self.inner.expires_at().map_or(0, |at| at.div_ceil(1000));
                    [PERSIST, u32::try_from(expiry).unwrap_or(u32::MAX), 0]
                }
                Effect::ClearStorage => [CLEAR, 0, 0],
                Effect::State(s) => [STATE, s as u32, 0],
                Effect::Report(r) => {
                    let error = r.error.map_or(0, |c| c as u32);
                    let attempt = r.attempt.min(0xffff);
                    out.extend_from_slice(&[
                        REPORT,
                        r.req,
                        r.kind as u32 | error << 8 | attempt << 16,
                    ]);
                    let duration = u32::try_from(r.duration_ms).unwrap_or(u32::MAX);
                    [duration, r.status.map_or(0, u32::from), 0]
                }
            };
            out.extend_from_slice(&triple);
        }
        out
    }

    pub fn token(&self) -> Option<String> {
        self.inner.token().map(str::to_owned)
    }

    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.inner.state().as_str().to_owned()
    }

    #[wasm_bindgen(js_name = persistedValue)]
    pub fn persisted_value(&self) -> Option<String> {
        self.inner.persisted_value()
    }

    /// The message of the last failed login, for the errors it caused.
    #[wasm_bindgen(js_name = lastLoginError)]
    pub fn last_login_error(&self) -> Option<String> {
        self.inner.last_login_error().map(|e| e.message.clone())
    }
}
