//! What a store entry holds for its caller. The core never looks inside a
//! payload: it decides from the fields it parsed out of the JSON text once
//! (see `meta`), and asks the payload for JSON only to write or merge it.
//! The node build keeps a frozen JS object here, so a memory hit hands the
//! caller an object without any JSON; client builds and tests keep the text.

pub trait Payload: Clone + std::fmt::Debug {
    /// Builds the payload from a JSON object the core has already parsed
    /// and size-checked.
    fn from_json(text: &str) -> Self;
    /// The payload as JSON object text, for a backend write or a merge.
    fn to_json(&self) -> String;
}

impl Payload for String {
    fn from_json(text: &str) -> String {
        text.to_owned()
    }

    fn to_json(&self) -> String {
        self.clone()
    }
}
