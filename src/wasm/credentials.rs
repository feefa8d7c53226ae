use super::errors::{code_from_name, to_js};
use super::ms;
use crate::core::credentials::refresh::Step;
use crate::core::credentials::{reply, Begin, CredKind, CredentialConfig, Credentials, Event};
use crate::core::{Error, ErrorCode};
use wasm_bindgen::prelude::*;

// Step kinds answered by `begin` and the event methods; details are in
// `text`/`number`, an error in `takeError()`.
const LOCK: u32 = 1; // text = lock name, number = ttl ms
const READ: u32 = 2;
const SLEEP: u32 = 3; // number = ms
const NEED_TOKEN: u32 = 4; // text = stale token or undefined
const FETCH: u32 = 5; // text = access token (ticket) or refresh token (OAuth)
const WRITE: u32 = 6; // text = info patch JSON
const UNLOCK: u32 = 7;
const DONE: u32 = 8; // text = value, number = refreshAt
const FAILED: u32 = 9; // takeError()
/// Flag on `begin`'s answer: joined a refresh already running.
const JOINED: u32 = 0x8000_0000;

fn kind(n: u8) -> Result<CredKind, JsValue> {
    CredKind::from_u8(n)
        .ok_or_else(|| to_js(Error::new(ErrorCode::BadInput, "unknown credential kind")))
}

fn host_error(code: &str, message: &str) -> Error {
    Error::new(code_from_name(code), message)
}

/// One app's credential refreshes in one process; the glue performs each
/// step (lock, read, fetch, write...) and reports back.
#[wasm_bindgen]
pub struct CredentialCore {
    inner: Credentials,
    text: Option<String>,
    number: f64,
    first: u32,
    error: Option<Error>,
}

#[wasm_bindgen]
impl CredentialCore {
    /// `options`: JSON `{timeout, margin, lockTtl, wait}` (ms, optional).
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str) -> Result<CredentialCore, JsValue> {
        let config = CredentialConfig::from_json(options).map_err(to_js)?;
        Ok(CredentialCore {
            inner: Credentials::new(config),
            text: None,
            number: 0.0,
            first: 0,
            error: None,
        })
    }

    #[wasm_bindgen(getter)]
    pub fn text(&self) -> Option<String> {
        self.text.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn number(&self) -> f64 {
        self.number
    }

    /// The kind of the first step of the flight `begin` just started.
    #[wasm_bindgen(getter, js_name = firstStep)]
    pub fn first_step(&self) -> u32 {
        self.first
    }

    #[wasm_bindgen(js_name = takeError)]
    pub fn take_error(&mut self) -> JsValue {
        to_js(
            self.error
                .take()
                .unwrap_or_else(|| Error::new(ErrorCode::BadInput, "no error")),
        )
    }

    /// The usable credential in a stored info object (`number` = refreshAt).
    pub fn current(&mut self, kind_n: u8, info: &str, now: f64) -> Result<Option<String>, JsValue> {
        Ok(self.inner.current(kind(kind_n)?, info, ms(now)).map(|c| {
            self.number = c.refresh_at as f64;
            c.value
        }))
    }

    /// The remembered token (0) or ticket (1) if still usable, without a
    /// store read (`number` = refreshAt).
    pub fn cached(&mut self, kind_n: u8, now: f64) -> Result<Option<String>, JsValue> {
        let found = self.inner.cached(kind(kind_n)?, ms(now)).cloned();
        Ok(found.map(|c| {
            self.number = c.refresh_at as f64;
            c.value
        }))
    }

    /// Flight id (| JOINED when sharing one); when started, `text`/`number`
    /// hold its first step, whose kind is `firstStep`.
    pub fn begin(
        &mut self,
        kind_n: u8,
        id: &str,
        stale: Option<String>,
        can_lock: bool,
        now: f64,
    ) -> Result<u32, JsValue> {
        match self
            .inner
            .begin(kind(kind_n)?, id, stale, can_lock, ms(now))
        {
            Begin::Joined(flight) => Ok(flight | JOINED),
            Begin::Started(flight, step) => {
                self.first = self.show(step);
                Ok(flight)
            }
        }
    }

    fn show(&mut self, step: Step) -> u32 {
        self.text = None;
        match step {
            Step::Lock { name, ttl_ms } => {
                self.text = Some(name);
                self.number = ttl_ms as f64;
                LOCK
            }
            Step::Read => READ,
            Step::Sleep(delay) => {
                self.number = delay as f64;
                SLEEP
            }
            Step::NeedToken { stale } => {
                self.text = stale;
                NEED_TOKEN
            }
            Step::Fetch { arg } => {
                self.text = Some(arg);
                FETCH
            }
            Step::Write { patch } => {
                self.text = Some(patch);
                WRITE
            }
            Step::Unlock => UNLOCK,
            Step::Done(Ok(cred)) => {
                self.text = Some(cred.value);
                self.number = cred.refresh_at as f64;
                DONE
            }
            Step::Done(Err(e)) => {
                self.error = Some(e);
                FAILED
            }
        }
    }

    fn advance(&mut self, flight: u32, event: Event, now: f64) -> Result<u32, JsValue> {
        let step = self.inner.advance(flight, event, ms(now)).map_err(to_js)?;
        Ok(self.show(step))
    }

    pub fn locked(&mut self, flight: u32, acquired: bool, now: f64) -> Result<u32, JsValue> {
        self.advance(flight, Event::Locked(Ok(acquired)), now)
    }

    pub fn slept(&mut self, flight: u32, now: f64) -> Result<u32, JsValue> {
        self.advance(flight, Event::Slept, now)
    }

    pub fn read(&mut self, flight: u32, info: Option<String>, now: f64) -> Result<u32, JsValue> {
        self.advance(flight, Event::Read(Ok(info.as_deref())), now)
    }

    pub fn token(&mut self, flight: u32, token: String, now: f64) -> Result<u32, JsValue> {
        self.advance(flight, Event::Token(Ok(token)), now)
    }

    pub fn fetched(&mut self, flight: u32, body: &str, now: f64) -> Result<u32, JsValue> {
        self.advance(flight, Event::Fetched(Ok(body)), now)
    }

    pub fn written(&mut self, flight: u32, now: f64) -> Result<u32, JsValue> {
        self.advance(flight, Event::Written, now)
    }

    pub fn unlocked(&mut self, flight: u32, now: f64) -> Result<u32, JsValue> {
        self.advance(flight, Event::Unlocked, now)
    }

    /// A step failed in the host; `step` is the kind that failed.
    pub fn failed(
        &mut self,
        flight: u32,
        step: u32,
        code: &str,
        message: &str,
        now: f64,
    ) -> Result<u32, JsValue> {
        let e = host_error(code, message);
        let event = match step {
            LOCK => Event::Locked(Err(e)),
            READ => Event::Read(Err(e)),
            NEED_TOKEN => Event::Token(Err(e)),
            FETCH => Event::Fetched(Err(e)),
            _ => {
                return Err(to_js(Error::new(
                    ErrorCode::BadInput,
                    "that step cannot fail",
                )))
            }
        };
        self.advance(flight, event, now)
    }

    /// Counts a manual refresh; throws RATE_LIMITED past the limit.
    #[wasm_bindgen(js_name = manualRefresh)]
    pub fn manual_refresh(&mut self, now: f64) -> Result<(), JsValue> {
        self.inner.manual_refresh(ms(now)).map_err(to_js)
    }

    /// An OAuth code exchange's reply as the info JSON to store.
    #[wasm_bindgen(js_name = oauthInfo)]
    pub fn oauth_info(&self, body: &str, now: f64) -> Result<String, JsValue> {
        reply::oauth_info(body, self.inner.config().margin_ms, ms(now))
            .map(|(info, _)| info)
            .map_err(to_js)
    }
}

/// Throws WECHAT_API (with errcode/errmsg) if a reply reports an error.
#[wasm_bindgen(js_name = checkWechatReply)]
pub fn check_wechat_reply(body: &str) -> Result<(), JsValue> {
    reply::check(body).map_err(to_js)
}

/// 1 if `code` is an errcode that means "this access_token is no good".
#[wasm_bindgen(js_name = isTokenRejection)]
pub fn is_token_rejection(errcode: f64) -> bool {
    Error::wechat(errcode as i64, "").is_token_rejection()
}

/// `jscode2session`'s reply as `{"openid","sessionKey","unionid"?}` JSON.
#[wasm_bindgen(js_name = miniProgramSession)]
pub fn mini_program_session(body: &str) -> Result<String, JsValue> {
    reply::mini_program_session(body).map_err(to_js)
}
