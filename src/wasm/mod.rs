//! The `#[wasm_bindgen]` boundary: thin exports over `crate::core`. Nothing
//! here decides anything; it converts types and turns core errors into JS
//! `Error`s with a stable `.code`.

pub mod errors;
pub mod random;
#[cfg(feature = "server")]
pub mod server;
pub mod session;
#[cfg(feature = "server")]
pub mod signature;
#[cfg(feature = "token-store")]
pub mod store;

/// JS clock readings (epoch ms as f64) for the core; junk reads as 0.
pub(crate) fn ms(now: f64) -> u64 {
    if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    }
}
