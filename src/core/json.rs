//! The little JSON the core speaks: flat objects of strings, whole numbers,
//! booleans, nulls and lists of whole numbers or of strings (options, the
//! stored token).
//! Hand-written: serde_json and float formatting cost more than the whole
//! session machine in the mini-program's size budget.

use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::{write_str, ParseError, RawObject};

/// Options and tokens are tiny; anything bigger is not ours.
pub const MAX_LEN: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    Ints(Vec<i64>),
    Strs(Vec<String>),
}

/// `text` as one flat JSON object (at most `MAX_LEN`), its members kept as
/// raw JSON: the readers below type the ones a caller wants, without
/// building values nobody reads. Errors carry `code`.
pub fn object(text: &str, code: ErrorCode) -> Result<RawObject, Error> {
    if text.len() > MAX_LEN {
        return Err(Error::new(code, "not a JSON object: longer than 64 KiB"));
    }
    RawObject::parse(text).map_err(|e| match e {
        ParseError::Duplicate(key) => Error::new(code, cat(&[&quote(&key), " is given twice"])),
        ParseError::Syntax => Error::new(code, "not a JSON object"),
    })
}

/// What a reader answers for a value of another type.
#[derive(Debug, PartialEq, Eq)]
pub struct WrongType;

/// A raw member value as a string: `Ok(None)` for null, `Err` for any other type.
pub fn as_str(raw: &str) -> Result<Option<String>, WrongType> {
    match raw {
        "null" => Ok(None),
        _ => RawObject::raw_str(raw).map(Some).ok_or(WrongType),
    }
}

/// A whole number that fits an i64 (no fraction, no exponent), or null.
pub fn as_int(raw: &str) -> Result<Option<i64>, WrongType> {
    match raw {
        "null" => Ok(None),
        _ => whole(raw).map(Some).map_err(|_| WrongType),
    }
}

pub fn as_bool(raw: &str) -> Result<Option<bool>, WrongType> {
    match raw {
        "null" => Ok(None),
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        _ => Err(WrongType),
    }
}

/// A list of whole numbers, or null.
pub fn as_ints(raw: &str) -> Result<Option<Vec<i64>>, WrongType> {
    match raw {
        "null" => Ok(None),
        _ if raw.starts_with('[') => int_list(raw).map(Some).ok_or(WrongType),
        _ => Err(WrongType),
    }
}

/// A list of strings, or null (`[]` is an empty one).
pub fn as_strs(raw: &str) -> Result<Option<Vec<String>>, WrongType> {
    match raw {
        "null" => Ok(None),
        _ if raw.starts_with('[') => int_list(raw)
            .filter(Vec::is_empty)
            .map(|_| Vec::new())
            .or_else(|| str_list(raw))
            .map(Some)
            .ok_or(WrongType),
        _ => Err(WrongType),
    }
}

/// Parses one flat object, members in order and typed. Errors carry `code`.
pub fn parse_object(text: &str, code: ErrorCode) -> Result<Vec<(String, Value)>, Error> {
    let obj = object(text, code)?;
    let bad = |key: &str, what: &str| Error::new(code, cat(&[&quote(key), " ", what]));
    let mut members = Vec::new();
    for (key, raw) in obj.members() {
        let value = match raw.as_bytes()[0] {
            b'"' => Value::Str(RawObject::raw_str(raw).ok_or_else(|| bad(key, "is not a string"))?),
            b't' => Value::Bool(true),
            b'f' => Value::Bool(false),
            b'n' => Value::Null,
            b'[' => match int_list(raw) {
                Some(list) => Value::Ints(list),
                None => Value::Strs(
                    str_list(raw)
                        .ok_or_else(|| bad(key, "must be a list of whole numbers or of strings"))?,
                ),
            },
            b'{' => return Err(bad(key, "must not be an object")),
            _ => Value::Int(whole(raw).map_err(|what| bad(key, what))?),
        };
        members.push((key.to_owned(), value));
    }
    Ok(members)
}

fn whole(raw: &str) -> Result<i64, &'static str> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be a whole number");
    }
    raw.parse().map_err(|_| "is out of range")
}

/// `[1, -2]` (already valid JSON): whole numbers only, nothing nested.
fn int_list(raw: &str) -> Option<Vec<i64>> {
    let inner = raw[1..raw.len() - 1].trim();
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner.split(',').map(|n| whole(n.trim()).ok()).collect()
}

/// `["a", "b"]` (already valid JSON): strings only, nothing nested. One
/// pass: each element's end is found by skipping escapes, then decoded.
fn str_list(raw: &str) -> Option<Vec<String>> {
    let b = raw.as_bytes();
    let ws = |i: &mut usize| {
        while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            *i += 1;
        }
    };
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        ws(&mut i);
        let start = i;
        if b.get(i) != Some(&b'"') {
            return None;
        }
        loop {
            i += 1;
            match b.get(i)? {
                b'"' => break,
                b'\\' => i += 1,
                _ => {}
            }
        }
        i += 1;
        out.push(RawObject::raw_str(raw.get(start..i)?)?);
        ws(&mut i);
        match b.get(i)? {
            b',' => i += 1,
            _ => return Some(out),
        }
    }
}

/// `parts` joined: messages without `format!`, whose machinery costs the
/// mini-program's wasm bytes at every call site.
pub fn cat(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts {
        out.push_str(p);
    }
    out
}

/// `n` in decimal: `to_string` would bring the formatting machinery along.
pub fn int(n: i64) -> String {
    let mut digits = Vec::new();
    let mut m = n.unsigned_abs();
    loop {
        digits.push(b'0' + (m % 10) as u8);
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        digits.push(b'-');
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

/// `s` as a JSON string literal, also for naming keys and values in messages.
pub fn quote(s: &str) -> String {
    let mut out = String::new();
    write_str(&mut out, s);
    out
}

fn list_of<T>(out: &mut String, list: &[T], write: impl Fn(&mut String, &T)) {
    out.push('[');
    for (i, item) in list.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write(out, item);
    }
    out.push(']');
}

/// Writes one flat object; `Ints` and `Strs` come out as lists.
pub fn write_object(members: &[(&str, Value)]) -> String {
    let mut out = String::from("{");
    for (key, value) in members {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&quote(key));
        out.push(':');
        match value {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => out.push_str(&int(*n)),
            Value::Str(s) => out.push_str(&quote(s)),
            Value::Ints(list) => list_of(&mut out, list, |o, n| o.push_str(&int(*n))),
            Value::Strs(list) => list_of(&mut out, list, |o, s| write_str(o, s)),
        }
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_writes_decimal_like_to_string() {
        for n in [0, 7, -7, 10, 600_000, i64::MAX, i64::MIN] {
            assert_eq!(int(n), n.to_string());
        }
    }
    use Value::*;

    fn values(text: &str) -> Result<Vec<Value>, Error> {
        let members = parse_object(text, ErrorCode::BadInput)?;
        Ok(members.into_iter().map(|(_, v)| v).collect())
    }

    #[test]
    fn reads_every_kind_of_value_in_order() {
        let text = r#" {"s": "x" ,"i":-12,"z":0,"t":true,"f":false,"n":null,"l":[ 401 , -1 ]} "#;
        let (s, l) = (Str("x".into()), Ints(vec![401, -1]));
        let want = [s, Int(-12), Int(0), Bool(true), Bool(false), Null, l];
        assert_eq!(values(text).unwrap(), want);
        assert_eq!(
            values(r#"{"e":[],"m":-9223372036854775807}"#).unwrap(),
            [Ints(vec![]), Int(-i64::MAX)]
        );
        assert_eq!(values(" {} ").unwrap(), []);
        assert_eq!(
            values(r#"{"s":[ "a" , "b\"]\\" ,"\u00e9,"],"e":["x"]}"#).unwrap(),
            [
                Strs(vec!["a".into(), "b\"]\\".into(), "é,".into()]),
                Strs(vec!["x".into()])
            ]
        );
        for bad in [
            r#"{"s":["a",1]}"#,
            r#"{"s":["a",["b"]]}"#,
            r#"{"s":["a",null]}"#,
        ] {
            assert!(values(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn decodes_every_escape_and_surrogate_pairs() {
        let o = parse_object(
            r#"{"k\u00e9":"\"\\\/\b\f\n\r\t\u0041\u4E2d\ud83d\ude00 é😀"}"#,
            ErrorCode::BadInput,
        );
        let want = (
            "ké".to_owned(),
            Str("\"\\/\u{8}\u{c}\n\r\tA中😀 é😀".into()),
        );
        assert_eq!(o.unwrap(), [want]);
        for lone in [
            r"\ud800",
            r"\ud800\u0041",
            r"\udc00",
            r"\ud83d\ud83d",
            r"\udbff",
        ] {
            assert!(values(&format!(r#"{{"a":"{lone}"}}"#)).is_err(), "{lone}");
        }
    }

    #[test]
    fn refuses_bad_input_with_the_callers_code() {
        let huge = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_LEN));
        #[rustfmt::skip]
        let bad = [
            "", " ", "[]", "null", r#""s""#, "{", r#"{"a""#, r#"{"a":"#, r#"{"a":1"#, r#"{"a":"x"#,
            r#"{"a":[1,"#, r#"{"a":"\u12"#, r#"{"a":1} x"#, r#"{"a":1}}"#, r#"{"a":1,}"#, "{,}", "{a:1}",
            r#"{"a" 1}"#, r#"{"a":tru}"#, r#"{"a":{}}"#, r#"{"a":{"b":1}}"#, r#"{"a":[[1]]}"#,
            r#"{"a":["x",1]}"#, r#"{"a":[1,{}]}"#, r#"{"a":1,"a":2}"#, r#"{"a":1.5}"#, r#"{"a":1e3}"#,
            r#"{"a":[1.0]}"#, r#"{"a":01}"#, r#"{"a":-}"#, r#"{"a":+1}"#, r#"{"a":9223372036854775808}"#,
            "{\"a\":\"\u{1}\"}", r#"{"a":"\x"}"#, r#"{"a":"\u12g4"}"#, &huge,
        ];
        for text in bad {
            assert_eq!(
                values(text).expect_err(text).code,
                ErrorCode::BadInput,
                "{text}"
            );
        }
        let said = |text| {
            parse_object(text, ErrorCode::BadConfig)
                .unwrap_err()
                .message
        };
        assert_eq!(said(r#"{"n":1.5}"#), r#""n" must be a whole number"#);
        assert_eq!(said(r#"{"d":1,"d":1}"#), r#""d" is given twice"#);
        assert_eq!(
            said(r#"{"o":[1,"x"]}"#),
            r#""o" must be a list of whole numbers or of strings"#
        );
    }

    #[test]
    fn writes_what_it_reads() {
        let s = Str("q\"b\\\n\u{1f}é😀".into());
        let members = [("s\"", s), ("i", Int(-7)), ("n", Null), ("b", Bool(true))];
        let text = write_object(&members);
        assert_eq!(
            text,
            r#"{"s\"":"q\"b\\\n\u001fé😀","i":-7,"n":null,"b":true}"#
        );
        let back = parse_object(&text, ErrorCode::BadInput)
            .unwrap()
            .into_iter();
        assert!(back.eq(members.map(|(k, v)| (k.to_owned(), v))));
        assert_eq!(write_object(&[("l", Ints(vec![1, -2]))]), r#"{"l":[1,-2]}"#);
        assert_eq!(write_object(&[]), "{}");
    }
}
