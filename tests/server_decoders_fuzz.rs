//! Fuzz and property tests of the decoders the server core runs on input it
//! did not write: store records from a backend, WeChat's replies, base64,
//! WeChat's encrypted data and ISO dates. Mutated and generated inputs must
//! never panic, decode in linear time (worst shapes at the size cap finish in
//! milliseconds, past it they are refused at once) and give out no more than
//! came in. Deterministic: fixed seeds and budget (`WXSESSION_FUZZ_ITERS`).
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/fuzz.rs"]
mod fuzz;

use fuzz::{iterations, mutants, within, Rng};
use std::time::Duration;
use wxsession::core::server::wechat;
use wxsession::core::store::meta::iso_ms;
use wxsession::core::store::{Kind, Record};
use wxsession::core::wxcrypt::{base64_decode, decrypt_data};
use wxsession::core::ErrorCode;

type R = Record<String>;

mod store_records {
    use super::*;

    const CORPUS: &[&str] = &[
        r#"{"v":1,"expiresAt":null,"info":{"accessToken":"A","jsapi_ticket":"T","modifyDate":"2016-12-01T09:25:43.781Z","count":3}}"#,
        r#"{"v":1,"expiresAt":7200000,"info":{"accessToken":"A","accessTokenRefreshAt":5,"jsapi_ticket":"T","jsapiTicketToken":"A"}}"#,
        r#"{"v":1,"expiresAt":5,"info":{"jsapi_ticket":"T","signature":"s","nested":{"a":[1,2,{"b":null}]}}}"#,
        r#"{"v":1,"expiresAt":null,"info":{"access_token":"o","refresh_token":"r","expirationTime":12}}"#,
        r#"{"v":1,"expiresAt":null,"info":{"openid":"o","session_key":"k","sessions":[{"h":"ab","c":1}]}}"#,
    ];

    #[test]
    fn mutated_records_never_panic_and_what_decodes_round_trips() {
        let mut valid = 0;
        for (i, text) in mutants(11, CORPUS, iterations()).enumerate() {
            let kind = Kind::ALL[i % Kind::ALL.len()];
            match R::decode(kind, &text) {
                Ok(r) => {
                    assert!(r.payload.len() <= text.len(), "{text:?}");
                    let again = r.encode();
                    assert_eq!(R::decode(kind, &again).unwrap(), r, "{text:?}");
                    valid += 1;
                }
                Err(e) => assert_eq!(e.code, ErrorCode::StoreCorrupt, "{text:?}"),
            }
        }
        assert!(valid > iterations() / 100, "{valid}");
    }

    #[test]
    fn worst_shapes_are_refused_or_read_in_linear_time() {
        let cap = 64 * 1024;
        let keys: String = (0..6000).map(|i| format!("\"k{i}\":{i},")).collect();
        for text in [
            format!(r#"{{"v":1,"expiresAt":null,"info":{{{}"z":0}}}}"#, keys),
            format!(
                r#"{{"v":1,"expiresAt":null,"info":{{"a":{}}}}}"#,
                "[".repeat(cap)
            ),
            format!(
                r#"{{"v":1,"expiresAt":null,"info":{{"a":"{}"}}}}"#,
                "\\u00e9".repeat(cap / 7)
            ),
            format!(
                r#"{{"v":1,"expiresAt":null,"info":{{"a":"{}"}}}}"#,
                "x".repeat(4 * cap)
            ),
        ] {
            let _ = within(Duration::from_millis(300), "store record", || {
                R::decode(Kind::Global, &text)
            });
        }
    }
}

mod wechat_replies {
    use super::*;

    const CORPUS: &[&str] = &[
        r#"{"access_token":"ACCESS","expires_in":7200}"#,
        r#"{"errcode":0,"errmsg":"ok","ticket":"T","expires_in":7200}"#,
        r#"{"errcode":40001,"errmsg":"invalid credential"}"#,
        r#"{"access_token":"T","expires_in":7200,"refresh_token":"R","openid":"o","scope":"snsapi_base","unionid":"u"}"#,
        r#"{"openid":"o","session_key":"k==","unionid":"u"}"#,
    ];

    #[test]
    fn mutated_replies_never_panic_and_errors_have_codes() {
        for text in mutants(12, CORPUS, iterations()) {
            for result in [
                wechat::credential(&text, "access_token", 300_000, 1_000).map(|s| s.value),
                wechat::credential(&text, "ticket", 300_000, 1_000).map(|s| s.value),
                wechat::oauth_info(&text, 300_000, 1_000).map(|(info, _)| info),
                wechat::mini_program_session(&text),
            ] {
                match result {
                    Ok(out) => assert!(out.len() <= text.len() + 160, "{text:?} -> {out:?}"),
                    Err(e) => assert!(
                        matches!(e.code, ErrorCode::HttpError | ErrorCode::WechatApi),
                        "{text:?}: {e:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn replies_are_read_in_linear_time() {
        // Twice the keys must cost about twice the time (a quadratic reader
        // costs four times): the best of three runs of each size, compared.
        let reply = |n: usize| {
            let keys: String = (0..n).map(|i| format!("\"k{i}\":{i},")).collect();
            format!(r#"{{{keys}"access_token":"AT","expires_in":7200}}"#)
        };
        let best = |text: &str| {
            (0..3)
                .map(|_| {
                    let t0 = std::time::Instant::now();
                    assert_eq!(
                        wechat::credential(text, "access_token", 0, 0)
                            .unwrap()
                            .value,
                        "AT"
                    );
                    t0.elapsed()
                })
                .min()
                .unwrap()
        };
        let (small, large) = (reply(15_000), reply(60_000));
        let (t1, t4) = (best(&small), best(&large));
        assert!(t4 < t1 * 8, "15k keys {t1:?}, 60k keys {t4:?}: not linear");
        let huge = format!(r#"{{"a":"{}"}}"#, "x".repeat(wechat::MAX_REPLY_LEN));
        let e = within(Duration::from_millis(50), "oversized reply", || {
            wechat::parse(&huge)
        })
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::HttpError);
    }
}

mod open_data {
    use super::*;

    const KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
    const IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";

    #[test]
    fn base64_never_panics_and_never_gives_more_than_it_reads() {
        let corpus = ["aGk=", "aGkh", "AAAA", KEY, IV, "////", "+/+/"];
        for text in mutants(13, &corpus, iterations()) {
            if let Some(bytes) = base64_decode(&text) {
                assert!(bytes.len() * 4 <= text.len() * 3, "{text:?}");
            }
        }
    }

    #[test]
    fn random_data_never_decrypts_and_always_says_why_with_one_code() {
        let mut r = Rng::new(14);
        for _ in 0..iterations() / 20 {
            let blocks = 1 + r.below(8);
            let bytes: Vec<u8> = (0..blocks * 16).map(|_| r.next() as u8).collect();
            let data = b64(&bytes);
            match decrypt_data(&data, IV, KEY, "wx4f4bc4dec97d474b") {
                // A random plaintext that is valid JSON with our watermark: never.
                Ok(text) => panic!("random data decrypted to {text:?}"),
                Err(e) => assert_eq!(e.code, ErrorCode::DecryptFailed),
            }
        }
        let big = "A".repeat(400 * 1024);
        let e = within(Duration::from_millis(50), "oversized data", || {
            decrypt_data(&big, IV, KEY, "x")
        })
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::DecryptFailed);
    }

    #[test]
    fn iso_dates_never_panic() {
        let corpus = [
            "2016-12-01T09:25:43.781Z",
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:60.999999Z",
        ];
        for text in mutants(15, &corpus, iterations()) {
            if let Some(ms) = iso_ms(&text) {
                assert!(ms < 253_402_300_800_000 + 1_000, "{text:?}");
            }
        }
    }

    fn b64(bytes: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
            for i in 0..4 {
                out.push(if i <= chunk.len() {
                    A[((n >> (18 - 6 * i)) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    }
}
