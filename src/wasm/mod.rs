//! The `#[wasm_bindgen]` boundary: thin exports over `crate::core`. Nothing
//! here decides anything; it converts types and turns core errors into JS
//! `Error`s with a stable `.code`.

pub mod errors;
pub mod random;
pub mod session;
pub mod store;
