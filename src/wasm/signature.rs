use super::errors::to_js;
use crate::core::signature;
use crate::core::{Error, ErrorCode};
use wasm_bindgen::prelude::*;

/// Hex sha1 of WeChat's JS-SDK string; the URL's `#…` is dropped. The URL
/// comes as UTF-8 bytes (the glue's `TextEncoder`). Every string argument
/// is copied in by wasm-bindgen's JS loop a character at a time (~2 µs per
/// KB); here that was half the time of signing a 4 KB URL, since the URL is
/// the whole input. Elsewhere (info texts, decrypt's input) the work done
/// with the string dwarfs the copy.
#[wasm_bindgen(js_name = signJsapiParts)]
pub fn sign_jsapi(
    jsapi_ticket: &str,
    nonce_str: &str,
    timestamp: &str,
    url: &[u8],
) -> Result<String, JsValue> {
    let Ok(url) = std::str::from_utf8(url) else {
        return Err(to_js(Error::new(ErrorCode::BadInput, "url must be UTF-8")));
    };
    if jsapi_ticket.is_empty() || nonce_str.is_empty() || timestamp.is_empty() || url.is_empty() {
        let e = Error::new(
            ErrorCode::BadInput,
            "jsapiTicket, nonceStr, timestamp and url must be non-empty",
        );
        return Err(to_js(e));
    }
    Ok(signature::sign_jsapi(
        jsapi_ticket,
        nonce_str,
        timestamp,
        url,
    ))
}

#[wasm_bindgen(js_name = verifyRawDataParts)]
pub fn verify_raw_data(raw_data: &str, signature: &str, session_key: &str) -> bool {
    signature::verify_raw_data(raw_data, signature, session_key)
}

#[wasm_bindgen(js_name = verifyPushSignatureParts)]
pub fn verify_push_signature(token: &str, timestamp: &str, nonce: &str, signature: &str) -> bool {
    signature::verify_push_signature(token, timestamp, nonce, signature)
}
