use crate::core::{Error, ErrorCode};
use js_sys::Reflect;
use wasm_bindgen::prelude::*;

/// Builds the `Error` every layer throws: `name` 'WxSessionError' and a
/// stable `.code`, so callers can branch without parsing messages.
#[wasm_bindgen(js_name = makeError)]
pub fn make_error(code: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    err.set_name("WxSessionError");
    // Setting a property on a fresh Error cannot fail.
    let _ = Reflect::set(&err, &"code".into(), &code.into());
    err.into()
}

pub fn to_js(e: Error) -> JsValue {
    make_error(e.code.as_str(), &e.message)
}

/// The names of the numeric codes in `takeEffects` (index = number).
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> Vec<String> {
    let mut names = vec![String::new(); ErrorCode::ALL.len() + 1];
    for code in ErrorCode::ALL {
        names[code as usize] = code.as_str().to_owned();
    }
    names
}

pub fn code_from_name(name: &str) -> ErrorCode {
    // An unknown code from a host is still a failure, never a success.
    ErrorCode::from_name(name).unwrap_or(ErrorCode::Network)
}
