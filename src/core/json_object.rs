//! A JSON object kept as its members' raw text. The store merges and
//! inspects callers' info objects by their top-level fields only, so it
//! never needs a full document model: values are validated and kept
//! verbatim, which also means they round-trip byte for byte.

const MAX_DEPTH: usize = 64;

/// Why text is not a JSON object. No positions: formatting them would cost
/// the mini-program bytes for a message nobody acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    Syntax,
    Duplicate(String),
}

impl ParseError {
    pub fn describe(&self) -> &'static str {
        match self {
            ParseError::Syntax => "not valid JSON",
            ParseError::Duplicate(_) => "a key is given twice",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawObject {
    members: Vec<(String, String)>,
}

impl RawObject {
    pub fn parse(text: &str) -> Result<RawObject, ParseError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        p.ws();
        p.expect(b'{')?;
        let mut obj = RawObject::default();
        p.ws();
        if p.peek() == Some(b'}') {
            p.i += 1;
        } else {
            loop {
                p.ws();
                let key = p.string()?;
                p.ws();
                p.expect(b':')?;
                p.ws();
                let start = p.i;
                p.value(1)?;
                obj.members.push((key, text[start..p.i].to_owned()));
                p.ws();
                match p.next() {
                    Some(b',') => continue,
                    Some(b'}') => break,
                    _ => return Err(p.err("expected ',' or '}'")),
                }
            }
        }
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("trailing characters"));
        }
        // Sorting once keeps the duplicate check O(n log n): a linear scan
        // per member made a 150k-key object take minutes.
        if let Some(key) = obj.first_duplicate() {
            return Err(ParseError::Duplicate(key));
        }
        Ok(obj)
    }

    fn first_duplicate(&self) -> Option<String> {
        let mut keys: Vec<&str> = self.members.iter().map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys.windows(2)
            .find(|w| w[0] == w[1])
            .map(|w| w[0].to_owned())
    }

    /// Number of top-level members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Sets every member of `update` here (new values win), keeping member
    /// order. One pass with an index, so merging big objects stays linear.
    pub fn merge_from(&mut self, update: &RawObject) {
        let mut index: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for (i, (k, _)) in self.members.iter().enumerate() {
            index.insert(k.as_str(), i);
        }
        let mut replace = Vec::new();
        let mut append = Vec::new();
        for (k, v) in &update.members {
            match index.get(k.as_str()) {
                Some(i) => replace.push((*i, v.clone())),
                None => append.push((k.clone(), v.clone())),
            }
        }
        for (i, v) in replace {
            self.members[i].1 = v;
        }
        self.members.extend(append);
    }

    /// A raw member value (as `members()` yields it) read as a string.
    pub fn raw_str(raw: &str) -> Option<String> {
        Parser {
            s: raw.as_bytes(),
            i: 0,
        }
        .string()
        .ok()
    }

    pub fn members(&self) -> impl Iterator<Item = (&str, &str)> {
        self.members.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn get_raw(&self, key: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn get_str(&self, key: &str) -> Option<String> {
        RawObject::raw_str(self.get_raw(key)?)
    }

    /// A whole number (no fraction, no exponent) that fits an i64.
    pub fn get_int(&self, key: &str) -> Option<i64> {
        let raw = self.get_raw(key)?;
        let digits = raw.strip_prefix('-').unwrap_or(raw);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse().ok()
    }

    /// Sets `key` to already-valid JSON text `raw`, keeping member order.
    pub fn set_raw(&mut self, key: &str, raw: &str) {
        match self.members.iter_mut().find(|(k, _)| k == key) {
            Some(m) => m.1 = raw.to_owned(),
            None => self.members.push((key.to_owned(), raw.to_owned())),
        }
    }

    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        for (i, (k, v)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, k);
            out.push(':');
            out.push_str(v);
        }
        out.push('}');
        out
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        self.i += 1;
        b
    }

    fn err(&self, _what: &str) -> ParseError {
        ParseError::Syntax
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), ParseError> {
        if self.next() == Some(b) {
            Ok(())
        } else {
            Err(self.err("unexpected character"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') | Some(b'[') => self.container(depth),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("expected a value")),
        }
    }

    fn container(&mut self, depth: usize) -> Result<(), ParseError> {
        let close = if self.next() == Some(b'{') {
            b'}'
        } else {
            b']'
        };
        self.ws();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if close == b'}' {
                self.string()?;
                self.ws();
                self.expect(b':')?;
                self.ws();
            }
            self.value(depth + 1)?;
            self.ws();
            match self.next() {
                Some(b',') => continue,
                Some(c) if c == close => return Ok(()),
                _ => return Err(self.err("expected ',' or a closing bracket")),
            }
        }
    }

    fn literal(&mut self, word: &str) -> Result<(), ParseError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(())
        } else {
            Err(self.err("expected true, false or null"))
        }
    }

    fn number(&mut self) -> Result<(), ParseError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let int_len = self.i - int_start;
        if int_len == 0 || (int_len > 1 && self.s[int_start] == b'0') {
            return Err(self.err("bad number"));
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            self.digits()?;
        }
        debug_assert!(self.i > start);
        Ok(())
    }

    fn digits(&mut self) -> Result<(), ParseError> {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        if self.i == start {
            Err(self.err("bad number"))
        } else {
            Ok(())
        }
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let h = std::str::from_utf8(h).map_err(|_| self.err("bad \\u escape"))?;
        let n = u32::from_str_radix(h, 16).map_err(|_| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(n)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.i;
            while !matches!(self.peek(), None | Some(b'"' | b'\\' | 0..=0x1f)) {
                self.i += 1;
            }
            // Safe to slice: we stopped only at ASCII bytes.
            out.push_str(
                std::str::from_utf8(&self.s[start..self.i])
                    .map_err(|_| self.err("invalid UTF-8"))?,
            );
            match self.next() {
                Some(b'"') => return Ok(out),
                Some(b'\\') => {
                    let c = match self.next() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let hi = self.hex4()?;
                            let cp = if (0xD800..0xDC00).contains(&hi) {
                                if !(self.next() == Some(b'\\') && self.next() == Some(b'u')) {
                                    return Err(self.err("lone surrogate"));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(cp).ok_or_else(|| self.err("lone surrogate"))?
                        }
                        _ => return Err(self.err("bad escape")),
                    };
                    out.push(c);
                }
                _ => return Err(self.err("unterminated string or control character")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_values_verbatim_and_reads_top_level_fields() {
        let o = RawObject::parse(r#" { "a" : "x\"y\u00e9\ud83d\ude00" , "n": -12, "f": 1.5e3, "deep": {"k": [1, {"z": null}]}, "b": true } "#).unwrap();
        assert_eq!(o.get_str("a").as_deref(), Some("x\"y\u{e9}\u{1f600}"));
        assert_eq!(o.get_int("n"), Some(-12));
        assert_eq!(o.get_int("f"), None);
        assert_eq!(o.get_raw("deep"), Some(r#"{"k": [1, {"z": null}]}"#));
        assert_eq!(o.get_str("n"), None);
        assert_eq!(RawObject::parse(&o.to_json()).unwrap(), o);
    }

    #[test]
    fn refuses_what_json_refuses() {
        for bad in [
            "",
            "{",
            "}",
            "[]",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":1} x",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":-}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":\"\\udc00\"}",
            "{\"a\":tru}",
            "{\"a\":1,\"a\":2}",
            "{\"a\":[1,2}",
            "{\"a\":\"open}",
        ] {
            assert!(RawObject::parse(bad).is_err(), "{bad:?}");
        }
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(RawObject::parse(&deep).is_err());
    }

    #[test]
    fn big_objects_parse_and_merge_in_near_linear_time() {
        let n = 150_000;
        let mut text = String::from("{");
        for i in 0..n {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("\"k{i}\":{i}"));
        }
        text.push('}');
        let t0 = std::time::Instant::now();
        let mut obj = RawObject::parse(&text).unwrap();
        assert_eq!(obj.len(), n);
        let update = RawObject::parse(&text.replace("\"k1\":1,", "\"k1\":\"x\",")).unwrap();
        obj.merge_from(&update);
        assert_eq!(obj.len(), n);
        assert_eq!(obj.get_str("k1").as_deref(), Some("x"));
        // Quadratic work here took minutes; a debug build does this in well under a second.
        assert!(t0.elapsed().as_secs() < 5, "{:?}", t0.elapsed());
        let dup = text.replace("\"k7\":7", "\"k8\":7");
        assert_eq!(
            RawObject::parse(&dup),
            Err(ParseError::Duplicate("k8".into()))
        );
    }

    #[test]
    fn writes_escaped_strings() {
        let mut out = String::new();
        write_str(&mut out, "q\"b\\n\n\u{1}é");
        assert_eq!(out, r#""q\"b\\n\n\u0001é""#);
        let mut o = RawObject::default();
        o.set_raw("k\"", &out);
        assert_eq!(
            RawObject::parse(&o.to_json()).unwrap().get_str("k\""),
            Some("q\"b\\n\n\u{1}é".into())
        );
    }
}
