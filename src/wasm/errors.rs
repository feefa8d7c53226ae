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
    let err = make_error(e.code.as_str(), &e.message);
    if let Some((errcode, errmsg)) = &e.wechat {
        let _ = Reflect::set(&err, &"errcode".into(), &(*errcode as f64).into());
        let _ = Reflect::set(&err, &"errmsg".into(), &errmsg.into());
    }
    err
}

/// The names of the numeric codes in `takeEffects`, comma-separated
/// (index = number; index 0 is empty). One string, not an array: cheaper
/// in wasm size, and the glue splits it once.
#[wasm_bindgen(js_name = errorCodes)]
pub fn error_codes() -> String {
    let mut names = String::new();
    for code in ErrorCode::ALL {
        debug_assert_eq!(
            code as usize,
            ErrorCode::ALL.iter().position(|c| *c == code).unwrap_or(0) + 1
        );
        names.push(',');
        names.push_str(code.as_str());
    }
    names
}

pub fn code_from_name(name: &str) -> ErrorCode {
    // An unknown code from a host is still a failure, never a success.
    ErrorCode::from_name(name).unwrap_or(ErrorCode::Network)
}
