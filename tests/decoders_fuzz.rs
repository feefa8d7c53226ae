//! Fuzz and property tests of every decoder the core runs on input it did
//! not write, one module per decoder: mutated and generated inputs must
//! never panic, decoding must stay linear (worst-case shapes at the size cap
//! finish in milliseconds, past the cap they are refused at once), and what
//! comes out is bounded by what went in. Deterministic: fixed seeds and a
//! fixed budget (`WXSESSION_FUZZ_ITERS` runs more); a failure names its input.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

/// What every module shares (seeded generator, mutations, time limits).
#[path = "common/fuzz.rs"]
mod fuzz;

/// `createSession`'s options JSON (`ClientOptions::from_json` + `resolve`).
mod options_json {
    use super::fuzz::*;
    use super::*;
    use wxsession::core::json::MAX_LEN;
    use wxsession::core::{ClientOptions, ErrorCode, HostKind};

    const CORPUS: &[&str] = &[
        r#"{"baseUrl":"https://api.example.com","loginUrl":"/auth/login"}"#,
        r#"{"baseUrl":"https://a.test/v1/","loginUrl":"../l","getCode":true,"exchange":false,"reloginOn":[401,419],"maxRelogin":2,"timeout":5000,"expiryMargin":0,"tokenPrefix":"Token \"x\"","storageKey":null,"checkSession":"never"}"#,
        r#"{"baseUrl":"http://[::1]:8080","exchange":true,"tokenOrigins":["https://cdn.a.test:8443","http://127.0.0.1"],"tokenHeader":"X-Token"}"#,
        r#"{"baseUrl":"https://a.test","loginUrl":"https://a.test/l","storagePath":"/tmp/x.json","storage":false,"getCode":true,"wasmPath":"/w.wasm"}"#,
        "{}",
    ];

    /// Whether `text` made options some host accepts.
    fn decode(text: &str) -> bool {
        let Ok(options) = ClientOptions::from_json(text) else {
            return false;
        };
        let mut accepted = false;
        for host in [HostKind::MiniProgram, HostKind::Web, HostKind::Node] {
            match options.clone().resolve(host) {
                Ok((resolved, _)) => {
                    accepted = true;
                    let json = resolved.to_json();
                    // Escaping at most sextuples a character (\u00XX); defaults add a little.
                    assert!(json.len() <= 6 * text.len() + 256, "{text:?} -> {json:?}");
                }
                Err(e) => assert_eq!(e.code, ErrorCode::BadConfig, "{text:?}: {e:?}"),
            }
        }
        accepted
    }

    #[test]
    fn mutated_options_never_panic_and_stay_bounded() {
        let accepted = mutants(1, CORPUS, iterations())
            .filter(|text| decode(text))
            .count();
        // Mutations that still decode exercise resolve(): not only the error paths.
        assert!(accepted > iterations() / 50, "{accepted}");
    }

    #[test]
    fn worst_shapes_at_the_cap_decode_in_linear_time() {
        let fill = MAX_LEN - 64;
        let many_keys: String = (0..fill / 14).map(|i| format!("\"k{i:08}\":1,")).collect();
        let shapes = [
            format!("{{\"baseUrl\":\"{}\"}}", "a".repeat(fill)),
            format!("{{\"tokenPrefix\":\"{}\"}}", "\\u00e9".repeat(fill / 6)),
            format!("{{{}\"z\":1}}", many_keys),
            format!("{{\"reloginOn\":[{}401]}}", "401,".repeat(fill / 4)),
            format!(
                "{{\"tokenOrigins\":[{}\"x\"]}}",
                "\"https://a.test\",".repeat(fill / 17)
            ),
            format!("{{\"a\":{}}}", "[".repeat(fill)),
            format!("{{\"a\":\"{}", "\\\\".repeat(fill / 2)),
        ];
        for text in &shapes {
            // At the cap, not past it: these are parsed, not refused for their size.
            assert!(
                text.len() <= MAX_LEN && text.len() > MAX_LEN * 9 / 10,
                "{}",
                text.len()
            );
            within(Duration::from_millis(250), &text[..40], || decode(text));
        }
        let over = format!("{{\"baseUrl\":\"{}\"}}", "a".repeat(4 * MAX_LEN));
        let e = within(Duration::from_millis(50), "over the cap", || {
            ClientOptions::from_json(&over).unwrap_err()
        });
        assert_eq!(e.code, ErrorCode::BadConfig);
    }
}

/// The session record hosts read back from storage (`TokenRecord::load`).
mod stored_session {
    use super::fuzz::*;
    use super::*;
    use wxsession::core::token::{Loaded, TokenRecord};

    const CORPUS: &[&str] = &[
        r#"{"v":1,"token":"abc","issuedAt":1000,"expiresAt":7201000}"#,
        r#"{"v":1,"token":"a\"\\~","issuedAt":5,"expiresAt":null}"#,
        r#"{"token":"t","v":1,"issuedAt":2}"#,
        r#"{"value":"{\"v\":1}","expiresAt":null}"#,
    ];

    #[test]
    fn mutated_records_never_panic_and_what_loads_round_trips() {
        let mut valid = 0;
        for text in mutants(2, CORPUS, iterations()) {
            if let Loaded::Valid(t) = TokenRecord::load(Some(&text)) {
                // Anything adopted is a token a header can carry, and writes back as it reads.
                assert!(
                    t.token.bytes().all(|b| (0x21..0x7f).contains(&b)),
                    "{text:?}"
                );
                assert!(t.expires_at.is_none_or(|e| e >= t.issued_at), "{text:?}");
                let again = t.to_json();
                assert!(again.len() <= text.len() + 32, "{text:?} -> {again:?}");
                assert_eq!(TokenRecord::load(Some(&again)), Loaded::Valid(t));
                valid += 1;
            }
        }
        assert!(valid > iterations() / 200, "{valid}");
    }

    #[test]
    fn exchanged_tokens_round_trip_through_storage() {
        let mut r = Rng::new(3);
        for _ in 0..iterations() / 4 {
            let token: String = (0..1 + r.below(64))
                .map(|_| (0x21 + r.below(0x5e) as u8) as char)
                .collect();
            let expires = [
                None,
                Some(1e-9),
                Some(7200.0),
                Some(1e300),
                Some(r.next() as f64),
            ];
            let expires_in = expires[r.below(expires.len())];
            let now = r.next() >> 24;
            let t = TokenRecord::from_exchange(Some(&token), expires_in, now).unwrap();
            assert_eq!(TokenRecord::load(Some(&t.to_json())), Loaded::Valid(t));
        }
    }

    #[test]
    fn worst_shapes_decode_in_linear_time() {
        let big = 60 * 1024;
        for text in [
            format!(r#"{{"v":1,"token":"{}","issuedAt":1}}"#, "x".repeat(big)),
            format!(
                r#"{{"v":1,"token":"{}","issuedAt":1}}"#,
                "\\\"".repeat(big / 2)
            ),
            format!(r#"{{"v":1,"issuedAt":1,"x":{}}}"#, "[".repeat(big)),
            format!(r#"{{"v":1,"token":"{}"#, "\\u00e9".repeat(big / 6)),
        ] {
            let loaded = within(Duration::from_millis(250), "stored record", || {
                TokenRecord::load(Some(&text))
            });
            assert_eq!(loaded, Loaded::Unusable);
        }
    }
}

/// Request URLs resolved against baseUrl (`UrlScope`).
mod url_resolver {
    use super::fuzz::*;
    use super::*;
    use wxsession::core::url::{UrlScope, MAX_URL_LEN};
    use wxsession::core::ErrorCode;

    const BASES: &[&str] = &[
        "https://api.example.com",
        "http://127.0.0.1:8080/v1/",
        "https://a.test/x/y",
    ];
    const ORIGINS: &[&str] = &["https://cdn.example.com:8443", "http://[::1]"];
    const CORPUS: &[&str] = &[
        "/orders?page=1",
        "orders",
        ".evil.test/x",
        "@evil.test/x",
        "//evil.test/x",
        "https://cdn.example.com:8443/a?b#c",
        "http://[::1]/x/../y",
        "HTTP://127.0.0.1:8080/v1/./a",
        "../../a/./b/../c?q=/../#f",
        "?q",
        "#f",
        "",
    ];

    fn scopes() -> Vec<(UrlScope, Vec<String>)> {
        let origins: Vec<String> = ORIGINS.iter().map(|s| (*s).to_owned()).collect();
        BASES
            .iter()
            .map(|b| {
                let scope = UrlScope::new(b, &origins).unwrap();
                let base_origin = b.split('/').take(3).collect::<Vec<_>>().join("/");
                let mut allowed = origins.clone();
                allowed.push(base_origin.to_ascii_lowercase());
                (scope, allowed)
            })
            .collect()
    }

    #[test]
    fn mutated_urls_never_panic_resolve_only_to_allowed_origins_and_are_fixed_points() {
        let scopes = scopes();
        let mut resolved = 0;
        for (i, reference) in mutants(4, CORPUS, iterations()).enumerate() {
            let (scope, allowed) = &scopes[i % scopes.len()];
            match scope.resolve(&reference) {
                Ok(url) => {
                    assert!(
                        url.len() <= scope.base_prefix().len() + reference.len() + 2,
                        "{reference:?} -> {url:?}"
                    );
                    let origin_end = url[8..].find(['/', '?']).map_or(url.len(), |i| i + 8);
                    assert!(
                        allowed.iter().any(|o| *o == url[..origin_end])
                            && url[origin_end..].starts_with('/'),
                        "{reference:?} -> {url:?} is not on an allowed origin"
                    );
                    assert_eq!(scope.resolve(&url).ok(), Some(url.clone()), "{reference:?}");
                    resolved += 1;
                }
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::BadConfig);
                    // Messages never repeat a query (unless the same text is in the path too).
                    if let Some((before, q)) = reference.split_once('?') {
                        let q = q.split('#').next().unwrap_or("");
                        if q.len() > 6
                            && !before.contains(q)
                            && !q.contains(['"', '\\'])
                            && !q.chars().any(char::is_control)
                        {
                            assert!(!e.message.contains(q), "{reference:?}: {}", e.message);
                        }
                    }
                }
            }
        }
        assert!(resolved > iterations() / 5, "{resolved}");
    }

    #[test]
    fn mutated_base_urls_and_origins_never_panic() {
        let mut r = Rng::new(5);
        for _ in 0..iterations() / 2 {
            let (b, o) = (r.pick(BASES), r.pick(ORIGINS));
            let base = mutate(&mut r, b);
            let origin = mutate(&mut r, o);
            if let Ok(scope) = UrlScope::new(&base, &[origin]) {
                assert!(scope.base_prefix().len() <= base.len());
                let _ = scope.resolve("/x");
            }
        }
    }

    #[test]
    fn worst_shapes_at_the_cap_resolve_in_linear_time() {
        let scope = UrlScope::new("https://a.test/v", &[]).unwrap();
        let n = MAX_URL_LEN - 16;
        for reference in [
            "/..".repeat(n / 3),
            format!("{}{}", "/a".repeat(n / 4), "/..".repeat(n / 6)),
            format!("/{}/..", "a".repeat(n)),
            "./".repeat(n / 2),
            format!("/{}", "/".repeat(n)),
            format!("https://{}", "a".repeat(n)),
            format!("/x?{}", "?/../".repeat(n / 5)),
        ] {
            let out = within(Duration::from_millis(250), &reference[..20], || {
                scope.resolve(&reference)
            });
            if let Ok(url) = out {
                assert!(url.len() <= reference.len() + 20);
            }
        }
        let over = "/a".repeat(MAX_URL_LEN);
        let e = within(Duration::from_millis(50), "over the cap", || {
            scope.resolve(&over).unwrap_err()
        });
        assert_eq!(e.code, ErrorCode::BadConfig);
    }
}
