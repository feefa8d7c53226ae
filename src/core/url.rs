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
//! sends is exactly what was checked.

use crate::core::error::{Error, ErrorCode};
use crate::core::json::quote;

/// Longer references are refused; a resolved URL is at most this plus baseUrl.
pub const MAX_URL_LEN: usize = 16 * 1024;
/// The most `tokenOrigins` a session takes.
pub const MAX_TOKEN_ORIGINS: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    /// Lowercase ASCII, or a bracketed IPv6 literal.
    host: String,
    port: u16,
}

impl Origin {
    /// `scheme://host[:port]`, without the default port.
    fn write(&self, out: &mut String) {
        out.push_str(if self.https { "https://" } else { "http://" });
        out.push_str(&self.host);
        if self.port != default_port(self.https) {
            out.push(':');
            out.push_str(&self.port.to_string());
        }
    }

    fn serialized(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// baseUrl and the origins the token may go to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlScope {
    /// baseUrl's origin and path; `None` when no baseUrl was given.
    base: Option<(Origin, String)>,
    token_origins: Vec<Origin>,
}

impl UrlScope {
    /// `base_url` may be empty (an `exchange` function and absolute URLs in
    /// `tokenOrigins` only); otherwise an http(s) URL without query or
    /// fragment. Each token origin is exactly `scheme://host[:port]`.
    pub fn new(base_url: &str, token_origins: &[String]) -> Result<UrlScope, Error> {
        let base = if base_url.is_empty() {
            None
        } else {
            let p = split(base_url).map_err(|why| bad_base(base_url, why))?;
            let origin = absolute_origin(&p).map_err(|why| bad_base(base_url, why))?;
            if p.query.is_some() || p.fragment {
                return Err(bad_base(base_url, "it must not have a query or fragment"));
            }
            let path = remove_dot_segments(p.path);
            Some((origin, path.trim_end_matches('/').to_owned()))
        };
        if token_origins.len() > MAX_TOKEN_ORIGINS {
            return Err(bad("tokenOrigins takes at most 100 origins".into()));
        }
        let mut list = Vec::with_capacity(token_origins.len());
        for o in token_origins {
            list.push(exact_origin(o).map_err(|why| {
                bad(format!(
                    "tokenOrigins: {} is not an origin like https://host[:port] ({why})",
                    quote(o)
                ))
            })?);
        }
        Ok(UrlScope {
            base,
            token_origins: list,
        })
    }

    /// baseUrl as relative URLs extend it: origin and path, no trailing '/'
    /// (hosts prepend it to a plain `/path` without asking the core).
    pub fn base_prefix(&self) -> String {
        match &self.base {
            Some((origin, path)) => origin.serialized() + path,
            None => String::new(),
        }
    }

    /// The absolute URL `reference` names, if the token may go there;
    /// otherwise BAD_CONFIG saying why. The fragment is dropped (hosts never
    /// send it).
    pub fn resolve(&self, reference: &str) -> Result<String, Error> {
        if reference.len() > MAX_URL_LEN {
            return Err(bad("the URL is longer than 16 KiB".into()));
        }
        let r = split(reference).map_err(|why| bad_url(reference, why))?;
        if r.scheme.is_some() || r.authority.is_some() {
            let origin = match (r.scheme, &self.base) {
                (Some(_), _) => absolute_origin(&r),
                // A network-path reference (`//host/x`) takes baseUrl's scheme.
                (None, Some((base, _))) => authority(base.https, r.authority.unwrap_or_default()),
                (None, None) => Err("a relative URL needs baseUrl"),
            }
            .map_err(|why| bad_url(reference, why))?;
            let allowed = self.base.iter().map(|(o, _)| o).chain(&self.token_origins);
            if !allowed.into_iter().any(|o| *o == origin) {
                return Err(bad(format!(
                    "{} is neither baseUrl's origin nor in tokenOrigins, and the session sends its token \
                     only there: use wx.request or fetch for other servers, or add it to tokenOrigins",
                    origin.serialized()
                )));
            }
            return Ok(build(&origin, &remove_dot_segments(r.path), r.query));
        }
        let Some((origin, base_path)) = &self.base else {
            return Err(bad_url(reference, "a relative URL needs baseUrl"));
        };
        let path = if r.path.is_empty() {
            base_path.clone()
        } else {
            // The directory is baseUrl's path: `/orders` and `orders` both
            // extend it, as a prefix always did, and neither can leave it
            // for another host.
            let rel = r.path.strip_prefix('/').unwrap_or(r.path);
            remove_dot_segments(&format!("{base_path}/{rel}"))
        };
        Ok(build(origin, &path, r.query))
    }
}

/// RFC 3986 appendix B: the five parts of a reference (the fragment only as
/// "there was one").
#[derive(Debug, Default)]
struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: bool,
}

fn split(r: &str) -> Result<Parts<'_>, &'static str> {
    if r.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("it contains control characters");
    }
    let before_query = r.find(['?', '#']).map_or(r, |i| &r[..i]);
    if before_query.contains('\\') {
        return Err("it contains a backslash, which URL parsers read differently");
    }
    let mut p = Parts::default();
    let mut rest = r;
    if let Some(i) = rest.find([':', '/', '?', '#']) {
        if i > 0 && rest.as_bytes()[i] == b':' {
            p.scheme = Some(&rest[..i]);
            rest = &rest[i + 1..];
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        p.authority = Some(&after[..end]);
        rest = &after[end..];
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    p.path = &rest[..end];
    rest = &rest[end..];
    if let Some(q) = rest.strip_prefix('?') {
        let end = q.find('#').unwrap_or(q.len());
        p.query = Some(&q[..end]);
        rest = &q[end..];
    }
    p.fragment = rest.starts_with('#');
    Ok(p)
}

/// The origin of a reference with a scheme, which must be http(s) with an
/// authority.
fn absolute_origin(p: &Parts) -> Result<Origin, &'static str> {
    let https = match p.scheme.map(str::to_ascii_lowercase).as_deref() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("only http:// and https:// URLs are allowed"),
    };
    authority(https, p.authority.ok_or("it has no host")?)
}

/// `host[:port]` and nothing else.
fn authority(https: bool, a: &str) -> Result<Origin, &'static str> {
    let (host, port) = match a.strip_prefix('[') {
        Some(v6) => {
            let end = v6.find(']').ok_or("it has an unclosed IPv6 address")?;
            let literal = &v6[..end];
            if literal.is_empty()
                || !literal
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
            {
                return Err("it has a malformed IPv6 address");
            }
            a.split_at(end + 2)
        }
        None => a.split_at(a.find(':').unwrap_or(a.len())),
    };
    let reg_name = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'-';
    if host.is_empty() || !(host.starts_with('[') || host.bytes().all(reg_name)) {
        return Err("its host must be plain ASCII letters, digits, '.' and '-' (no user@, no %)");
    }
    let port = match port {
        "" | ":" => default_port(https),
        p => {
            let digits = p.strip_prefix(':').ok_or("it has junk after the host")?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("its port is not a number");
            }
            digits.parse().map_err(|_| "its port is above 65535")?
        }
    };
    Ok(Origin {
        https,
        host: host.to_ascii_lowercase(),
        port,
    })
}

fn exact_origin(s: &str) -> Result<Origin, &'static str> {
    let p = split(s)?;
    if !p.path.is_empty() || p.query.is_some() || p.fragment {
        return Err("no path, not even '/'");
    }
    absolute_origin(&p)
}

fn default_port(https: bool) -> u16 {
    if https {
        443
    } else {
        80
    }
}

fn build(origin: &Origin, path: &str, query: Option<&str>) -> String {
    let mut out = String::with_capacity(32 + path.len() + query.map_or(0, str::len));
    origin.write(&mut out);
    out.push_str(if path.is_empty() { "/" } else { path });
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// RFC 3986 §5.2.4, in one pass: each step consumes input, and popping a
/// segment only removes what an earlier step appended.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut out = String::with_capacity(path.len());
    let pop = |out: &mut String| out.truncate(out.rfind('/').unwrap_or(0));
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") {
            input = &input[3..];
            pop(&mut out);
        } else if input == "/.." {
            input = "/";
            pop(&mut out);
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    out
}

fn bad(message: String) -> Error {
    Error::new(ErrorCode::BadConfig, message)
}

fn bad_base(url: &str, why: &str) -> Error {
    bad(format!("baseUrl {} is not usable: {why}", quote(url)))
}

/// Names the URL without its query, which may carry data.
fn bad_url(url: &str, why: &str) -> Error {
    let shown = url.find(['?', '#']).map_or(url, |i| &url[..i]);
    let shown: String = shown.chars().take(200).collect();
    bad(format!("request URL {} is refused: {why}", quote(&shown)))
}

#[cfg(test)]
#[path = "url_tests.rs"]
mod tests;
