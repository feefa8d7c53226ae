//! A store payload in the node build: a deep-frozen JS object. A memory hit
//! hands it to the caller as it is (no JSON, no copy); freezing is what
//! makes sharing it safe, since no caller can change what another reads.

use crate::core::store::Payload;
use js_sys::{Object, JSON};
use wasm_bindgen::prelude::*;

#[derive(Clone, Debug)]
pub struct JsInfo(pub JsValue);

impl PartialEq for JsInfo {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for JsInfo {}

/// Freezes `value` and everything inside it. The core has already checked
/// the JSON (a parsed object nests at most 64 deep), so this ends.
pub fn deep_freeze(value: &JsValue) {
    if !value.is_object() {
        return;
    }
    let object: &Object = value.unchecked_ref();
    for inner in Object::values(object).iter() {
        deep_freeze(&inner);
    }
    Object::freeze(object);
}

impl Payload for JsInfo {
    fn from_json(text: &str) -> JsInfo {
        // The text was produced or validated by the core's own parser, so
        // JSON.parse cannot fail here; an object is all it can be.
        let value = JSON::parse(text).unwrap_or_else(|_| Object::new().into());
        deep_freeze(&value);
        JsInfo(value)
    }

    fn to_json(&self) -> String {
        JSON::stringify(&self.0)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| "{}".to_owned())
    }
}
