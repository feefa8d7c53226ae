use super::errors::to_js;
use crate::core::random::Drbg;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static DRBG: RefCell<Drbg> = RefCell::new(Drbg::default());
}

/// Seeds the generator; the mini-program loader calls this with bytes from
/// `wx.getRandomValues` because that host has no synchronous entropy source.
#[wasm_bindgen(js_name = seedRandom)]
pub fn seed_random(entropy: &[u8]) -> Result<(), JsValue> {
    DRBG.with(|d| d.borrow_mut().reseed(entropy)).map_err(to_js)
}

pub fn with_drbg<T>(
    f: impl FnOnce(&mut Drbg) -> Result<T, crate::core::Error>,
) -> Result<T, JsValue> {
    DRBG.with(|d| {
        let mut d = d.borrow_mut();
        if !d.is_seeded() {
            // Web and node: crypto.getRandomValues via getrandom. Where it is
            // missing getrandom returns an error (it does not trap), which
            // the DRBG then reports as RANDOM_UNAVAILABLE.
            let mut seed = [0u8; 32];
            if getrandom::fill(&mut seed).is_ok() {
                d.reseed(&seed).map_err(to_js)?;
            }
        }
        f(&mut d).map_err(to_js)
    })
}

/// A random `[A-Za-z0-9]` string, for nonces and OAuth state.
#[wasm_bindgen(js_name = nonceStr)]
pub fn nonce_str(len: Option<u32>) -> Result<String, JsValue> {
    with_drbg(|d| d.alphanumeric(len.unwrap_or(16) as usize))
}
