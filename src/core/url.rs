//! Where the session's token may go. A request URL is a reference resolved
//! against `baseUrl` (RFC 3986 §5.2, with baseUrl's path as the directory it
//! is resolved in), and the token goes only to baseUrl's origin and to the
//! `tokenOrigins` the app names: a URL for any other origin is refused
//! before anything is sent.
//!
//! Mini-programs have no `URL`, and browsers', Node's and WeChat's URL
//! parsers disagree at the edges, so the authority grammar accepted here is
//! deliberately narrow: `host[:port]` with an ASCII host. Anything another
//! parser could read as a different host (userinfo, backslashes, percent
//! signs, non-ASCII or empty hosts) is refused, never interpreted. The
//! resolved URL is rebuilt from the parts checked here, so what a host
//! sends is exactly what was checked. Written over bytes with static
//! messages: this ships in the mini-program's size budget.

use crate::core::error::{Error, ErrorCode};
use crate::core::json::quote;

/// Longer references are refused; a resolved URL is at most this plus baseUrl.
pub const MAX_URL_LEN: usize = 16 * 1024;
/// The most `tokenOrigins` a session takes.
pub const MAX_TOKEN_ORIGINS: usize = 100;

/// baseUrl and the origins the token may go to. Origins are kept
/// serialized (`https://host[:port]`, lowercase, no default port), so
/// comparing them is comparing strings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlScope {
    /// baseUrl's origin and path (no trailing '/'); empty without baseUrl.
    base: String,
    /// baseUrl's origin first (when given), then tokenOrigins.
    allowed: Vec<String>,
}

impl UrlScope {
    /// `base_url` may be empty (an `exchange` function and absolute URLs in
    /// `tokenOrigins` only); otherwise an http(s) URL without query or
    /// fragment. Each token origin is exactly `scheme://host[:port]`.
    pub fn new(base_url: &str, token_origins: &[String]) -> Result<UrlScope, Error> {
        let mut scope = UrlScope::default();
        if !base_url.is_empty() {
            let (origin, rest) = match split_origin(base_url, None) {
                Ok((Some(origin), rest)) if stop(rest.as_bytes(), 0, b"?#") == rest.len() => {
                    Ok((origin, rest))
                }
                Ok(_) => Err("it must be an http(s) URL without query or fragment"),
                Err(why) => Err(why),
            }
            .map_err(|why| refused("baseUrl", base_url, why))?;
            let path = remove_dot_segments(rest);
            scope.base = origin.clone() + path.trim_end_matches('/');
            scope.allowed.push(origin);
        }
        if token_origins.len() > MAX_TOKEN_ORIGINS {
            return Err(bad("tokenOrigins takes at most 100 origins".into()));
        }
        for o in token_origins {
            match split_origin(o, None) {
                Ok((Some(origin), "")) => scope.allowed.push(origin),
                Ok(_) => return Err(refused("tokenOrigins", o, "an origin has no path")),
                Err(why) => return Err(refused("tokenOrigins", o, why)),
            }
        }
        Ok(scope)
    }

    /// baseUrl as relative URLs extend it: origin and path, no trailing '/'
    /// (hosts prepend it to a plain `/path` without asking the core).
    pub fn base_prefix(&self) -> &str {
        &self.base
    }

    /// The absolute URL `reference` names, if the token may go there;
    /// otherwise BAD_CONFIG saying why. The fragment is dropped (hosts never
    /// send it).
    pub fn resolve(&self, reference: &str) -> Result<String, Error> {
        let base_origin = self.allowed.first().filter(|_| !self.base.is_empty());
        let https = base_origin.map(|o| o.starts_with("https:"));
        let (named, rest) =
            split_origin(reference, https).map_err(|why| refused("request URL", reference, why))?;
        let (origin, joined): (String, String);
        let rest = match named {
            Some(o) => {
                if !self.allowed.contains(&o) {
                    return Err(bad(o
                        + " is neither baseUrl's origin nor in tokenOrigins: use \
                        wx.request or fetch for other servers, or add it to tokenOrigins"));
                }
                origin = o;
                rest
            }
            None => {
                let Some(o) = base_origin else {
                    return Err(refused(
                        "request URL",
                        reference,
                        "a relative URL needs baseUrl",
                    ));
                };
                // The directory is baseUrl's path: `/orders` and `orders` both
                // extend it, as a prefix always did, and neither can leave it
                // for another host.
                origin = o.clone();
                let mut j = self.base[o.len()..].to_owned();
                if !matches!(rest.as_bytes().first(), None | Some(b'/' | b'?' | b'#')) {
                    j.push('/');
                }
                j.push_str(rest);
                joined = j;
                &joined
            }
        };
        let b = rest.as_bytes();
        let end = stop(b, 0, b"?#");
        let path = remove_dot_segments(&rest[..end]);
        let mut url = origin + if path.is_empty() { "/" } else { &path };
        if b.get(end) == Some(&b'?') {
            url.push_str(&rest[end..stop(b, end, b"#")]);
        }
        Ok(url)
    }
}

/// The origin `r` names, if any, and the rest (path, query, fragment):
/// RFC 3986 appendix B. `https` is the scheme a `//host` reference takes
/// (baseUrl's); without one such a reference is refused.
fn split_origin(r: &str, https: Option<bool>) -> Result<(Option<String>, &str), &'static str> {
    let b = r.as_bytes();
    if r.len() > MAX_URL_LEN {
        return Err("it is longer than 16 KiB");
    }
    if b.iter().any(|&c| c < 0x20 || c == 0x7f) || b[..stop(b, 0, b"?#")].contains(&b'\\') {
        return Err("it contains a control character or a backslash");
    }
    let mut i = 0;
    let mut https = https;
    let colon = stop(b, 0, b":/?#");
    if colon > 0 && b.get(colon) == Some(&b':') {
        let scheme = &b[..colon];
        https = Some(scheme.eq_ignore_ascii_case(b"https"));
        if !(https == Some(true) || scheme.eq_ignore_ascii_case(b"http")) {
            return Err("only http:// and https:// URLs are allowed");
        }
        i = colon + 1;
        if !b[i..].starts_with(b"//") {
            return Err("it has no host");
        }
    }
    if !b[i..].starts_with(b"//") {
        return Ok((None, &r[i..]));
    }
    let end = stop(b, i + 2, b"/?#");
    let https = https.ok_or("a relative URL needs baseUrl")?;
    Ok((Some(authority(https, &b[i + 2..end])?), &r[end..]))
}

/// Where the first byte of `set` is in `b[from..]`, or `b.len()`.
fn stop(b: &[u8], from: usize, set: &[u8]) -> usize {
    b[from..]
        .iter()
        .position(|c| set.contains(c))
        .map_or(b.len(), |i| from + i)
}

/// `host[:port]` (nothing else is allowed) as `scheme://host[:port]`:
/// lowercase, without the default port.
fn authority(https: bool, a: &[u8]) -> Result<String, &'static str> {
    let host_end = if a.first() == Some(&b'[') {
        a.iter()
            .position(|&c| c == b']')
            .ok_or("its IPv6 address is not closed")?
            + 1
    } else {
        stop(a, 0, b":")
    };
    let host = &a[..host_end];
    let valid = match host {
        [b'[', inner @ .., b']'] => {
            !inner.is_empty()
                && inner
                    .iter()
                    .all(|&c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        }
        _ => {
            !host.is_empty()
                && host
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
        }
    };
    if !valid {
        return Err("its host must be plain ASCII letters, digits, '.' and '-' (no user@, no %)");
    }
    let port = match &a[host_end..] {
        [] | [b':'] => &[][..],
        [b':', digits @ ..] if digits.iter().all(u8::is_ascii_digit) => {
            let first = digits
                .iter()
                .position(|&c| c != b'0')
                .unwrap_or(digits.len() - 1);
            &digits[first..]
        }
        _ => return Err("its port is not a number"),
    };
    if port.len() > 5 || (port.len() == 5 && port > &b"65535"[..]) {
        return Err("its port is above 65535");
    }
    let mut out = String::from(if https { "https://" } else { "http://" });
    out.extend(host.iter().map(|&c| c.to_ascii_lowercase() as char));
    if !port.is_empty() && port != if https { &b"443"[..] } else { &b"80"[..] } {
        out.push(':');
        out.extend(port.iter().map(|&c| c as char));
    }
    Ok(out)
}

/// RFC 3986 §5.2.4 for the absolute paths resolution produces (empty or
/// starting with '/'): `.` segments go, `..` drops the segment before it,
/// and a path ending in either ends with '/'. One pass; popping a segment
/// only removes what an earlier step appended.
fn remove_dot_segments(path: &str) -> String {
    let b = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let (mut i, mut dir) = (0, false);
    while i < b.len() {
        let end = stop(b, i + 1, b"/");
        let segment = &b[i + 1..end];
        dir = segment == b"." || segment == b"..";
        if segment == b".." {
            out.truncate(out.bytes().rposition(|c| c == b'/').unwrap_or(0));
        } else if !dir {
            out.push_str(&path[i..end]);
        }
        i = end;
    }
    if dir {
        out.push('/');
    }
    out
}

fn bad(message: String) -> Error {
    Error::new(ErrorCode::BadConfig, message)
}

/// Names the URL without its query, which may carry data.
fn refused(what: &str, url: &str, why: &str) -> Error {
    let mut end = stop(url.as_bytes(), 0, b"?#").min(200);
    while !url.is_char_boundary(end) {
        end -= 1;
    }
    let mut m = String::from(what);
    m.push(' ');
    m.push_str(&quote(&url[..end]));
    m.push_str(" is refused: ");
    m.push_str(why);
    bad(m)
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
