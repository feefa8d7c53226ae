use super::errors::to_js;
use super::ms;
use crate::core::store::{writes_to_json, Incoming, Kind, Lookup, StoreConfig, StoreCore};

type Core = StoreCore<String>;
use wasm_bindgen::prelude::*;

const ABSENT: u32 = 0;
const HIT: u32 = 1; // lastValue() is the info JSON
const LOAD: u32 = 2; // lastValue() is the backend key to read

/// The Token Store's logic for one JS `Store`; the glue only moves bytes
/// between it and a backend.
#[wasm_bindgen(js_name = StoreCore)]
pub struct StoreCoreJs {
    inner: Core,
    last: String,
    epoch: u32,
}

fn kind(k: &str) -> Result<Kind, JsValue> {
    Kind::parse(k).map_err(to_js)
}

impl StoreCoreJs {
    /// Keeps a lookup's string for `lastValue` and answers its number.
    fn remember(&mut self, found: Lookup<String>) -> u32 {
        match found {
            Lookup::Absent => ABSENT,
            Lookup::Hit(info) => {
                self.last = info;
                HIT
            }
            Lookup::Load { key, epoch } => {
                self.last = key;
                self.epoch = epoch;
                LOAD
            }
        }
    }
}

#[wasm_bindgen(js_class = StoreCore)]
impl StoreCoreJs {
    #[wasm_bindgen(constructor)]
    pub fn new(options: &str, has_backend: bool, now: f64) -> Result<StoreCoreJs, JsValue> {
        let config = StoreConfig::from_json(options).map_err(to_js)?;
        let mut key = [0u8; 16];
        super::random::with_drbg(|d| d.fill(&mut key))?;
        let hash_key = [
            u64::from_le_bytes(key[..8].try_into().expect("8 bytes")),
            u64::from_le_bytes(key[8..].try_into().expect("8 bytes")),
        ];
        Ok(StoreCoreJs {
            inner: StoreCore::new(config, has_backend, hash_key, ms(now)),
            last: String::new(),
            epoch: 0,
        })
    }

    /// ABSENT, HIT or LOAD; see `lastValue`.
    pub fn lookup(&mut self, kind_name: &str, id: &str, now: f64) -> Result<u32, JsValue> {
        let found = self
            .inner
            .lookup(kind(kind_name)?, id, ms(now))
            .map_err(to_js)?;
        Ok(self.remember(found))
    }

    #[wasm_bindgen(js_name = lastValue)]
    pub fn last_value(&self) -> String {
        self.last.clone()
    }

    /// The epoch of the last LOAD, handed back with its result.
    #[wasm_bindgen(js_name = lastEpoch)]
    pub fn last_epoch(&self) -> u32 {
        self.epoch
    }

    /// What the backend held for a LOAD; returns the info JSON to serve.
    pub fn loaded(
        &mut self,
        kind_name: &str,
        id: &str,
        raw: Option<String>,
        epoch: u32,
        now: f64,
    ) -> Result<Option<String>, JsValue> {
        let found = self
            .inner
            .loaded(kind(kind_name)?, id, raw.as_deref(), epoch, ms(now))
            .map_err(to_js)?;
        Ok(found.map(|r| r.payload))
    }

    /// An update whose save answered LOAD: `raw` is what the backend held.
    /// Merges onto it even if memory dropped it meanwhile; returns the info.
    #[wasm_bindgen(js_name = saveLoaded)]
    pub fn save_loaded(
        &mut self,
        kind_name: &str,
        id: &str,
        raw: Option<String>,
        epoch: u32,
        info: &str,
        now: f64,
    ) -> Result<String, JsValue> {
        let k = kind(kind_name)?;
        let base = self
            .inner
            .loaded(k, id, raw.as_deref(), epoch, ms(now))
            .map_err(to_js)?;
        self.inner
            .save_onto(
                k,
                id,
                base.as_ref(),
                Incoming {
                    info,
                    merge: true,
                    made: None,
                },
                ms(now),
            )
            .map_err(to_js)
    }

    /// HIT (`lastValue` is the info as stored, to resolve with) or LOAD
    /// (`lastValue` is a backend key to read first: an update of something
    /// not yet read).
    pub fn save(
        &mut self,
        kind_name: &str,
        id: &str,
        info: &str,
        merge: bool,
        now: f64,
    ) -> Result<u32, JsValue> {
        let outcome = self
            .inner
            .save(kind(kind_name)?, id, info, merge, ms(now))
            .map_err(to_js)?;
        Ok(self.remember(outcome))
    }

    /// The dirty entries as JSON `[{key, value|null, ttlMs}]`, marked in flight.
    #[wasm_bindgen(js_name = flushBatch)]
    pub fn flush_batch(&mut self, now: f64) -> String {
        writes_to_json(&self.inner.flush_batch(ms(now)))
    }

    #[wasm_bindgen(js_name = writeDone)]
    pub fn write_done(&mut self, key: &str, ok: bool, now: f64) {
        self.inner.write_done(key, ok, ms(now))
    }

    /// Epoch ms of the next periodic flush, or undefined.
    #[wasm_bindgen(js_name = nextFlushAt)]
    pub fn next_flush_at(&self) -> Option<f64> {
        self.inner.next_flush_at().map(|t| t as f64)
    }

    #[wasm_bindgen(js_name = dirtyCount)]
    pub fn dirty_count(&self) -> u32 {
        self.inner.dirty_count() as u32
    }

    #[wasm_bindgen(js_name = signatureCount)]
    pub fn signature_count(&self) -> u32 {
        self.inner.signature_count() as u32
    }

    pub fn destroy(&mut self) {
        self.inner.destroy()
    }
}
