//! The `#[wasm_bindgen]` boundary, exercised through the exported Rust API
//! (`wxsession::wasm`) inside a real JS host: errors must arrive as JS
//! `Error`s with a stable `.code`, effects as flat `[kind, a, b]` triples,
//! and randomness must come from `crypto.getRandomValues`.
//!
//! One body, two hosts. There is deliberately no
//! `wasm_bindgen_test_configure!`: without it wasm-bindgen-test-runner runs
//! this binary in Node.js, and with `WASM_BINDGEN_USE_BROWSER=1` in the
//! environment it serves it to a (headless) browser instead. See
//! scripts/wasm-tests.sh, which runs both.
//!
//! wasm32 only: natively this file compiles to an empty test binary.
#![cfg(target_arch = "wasm32")]

use js_sys::{Reflect, JSON};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{console_log, wasm_bindgen_test};
use wxsession::wasm::errors::{error_codes, make_error};
use wxsession::wasm::random::{nonce_str, seed_random};
use wxsession::wasm::session::SessionCore;

// Effect kinds, as src/wasm/session.rs and src/js/shared/session.js number them.
const CHECK: u32 = 1;
const LOGIN: u32 = 2;
const SEND: u32 = 3;
const RESOLVE: u32 = 4;
const REJECT: u32 = 5;
const SEND_NOW: u32 = 0x8000_0000;
const FROM_LOGIN: u32 = 0x100;
const PERSIST: u32 = 6;
const CLEAR: u32 = 7;
const STATE: u32 = 8;
const REPORT: u32 = 9;
// STATE payloads.
const LOGGING_IN: u32 = 1;
const AUTHENTICATED: u32 = 2;
const ANONYMOUS: u32 = 0;

const WEB_OPTIONS: &str =
    r#"{"baseUrl":"https://api.example.com/","loginUrl":"/auth/login","getCode":true}"#;

fn web_core() -> SessionCore {
    SessionCore::new(WEB_OPTIONS, "web").unwrap_or_else(|e| panic!("valid options: {e:?}"))
}

fn effects(core: &mut SessionCore) -> Vec<[u32; 3]> {
    let flat = core.take_effects();
    assert_eq!(flat.len() % 3, 0, "effects come in triples: {flat:?}");
    flat.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).expect("Reflect.get on an object")
}

/// Asserts `err` is what every layer throws: a real JS `Error` named
/// 'WxSessionError' whose `.code` is `code`.
fn assert_coded_error(err: &JsValue, code: &str) {
    assert!(
        err.is_instance_of::<js_sys::Error>(),
        "not a JS Error: {err:?}"
    );
    let e: &js_sys::Error = err.unchecked_ref();
    assert_eq!(e.name(), "WxSessionError");
    assert_eq!(get(err, "code").as_string().as_deref(), Some(code));
    let message = String::from(e.message());
    // The code lives in `.code`; the message is for people and does not repeat it.
    assert!(
        !message.is_empty() && !message.starts_with(code),
        "message {message:?} should be a plain sentence"
    );
}

fn construct_err(options: &str, host: &str) -> JsValue {
    match SessionCore::new(options, host) {
        Ok(_) => panic!("SessionCore::new({options}, {host:?}) should have thrown"),
        Err(e) => e,
    }
}

/// ("node" | "browser" | "unknown", version or user agent)
fn host() -> (&'static str, String) {
    let global = js_sys::global();
    let process = get(&global, "process");
    let versions = if process.is_object() {
        get(&process, "versions")
    } else {
        JsValue::UNDEFINED
    };
    if versions.is_object() && get(&versions, "node").is_string() {
        (
            "node",
            get(&process, "version").as_string().unwrap_or_default(),
        )
    } else if get(&global, "document").is_object() {
        let agent = get(&get(&global, "navigator"), "userAgent");
        ("browser", agent.as_string().unwrap_or_default())
    } else {
        ("unknown", String::new())
    }
}

/// scripts/wasm-tests.sh looks for this line (run with --nocapture) to
/// prove which host executed the suite.
#[wasm_bindgen_test]
fn runs_in_a_known_host() {
    let (host, detail) = host();
    console_log!("wasm_boundary: running in {host} ({detail})");
    assert_ne!(host, "unknown");
    // Both hosts must offer the entropy source getrandom's wasm_js backend uses.
    let crypto = get(&js_sys::global(), "crypto");
    assert!(
        get(&crypto, "getRandomValues").is_function(),
        "{host} has no crypto.getRandomValues"
    );
}

#[wasm_bindgen_test]
fn options_json_is_validated_and_resolved() {
    let core = web_core();
    assert_eq!(core.state(), "anonymous");
    let resolved = JSON::parse(&core.options()).expect("options getter returns JSON");
    assert_eq!(
        get(&resolved, "baseUrl").as_string().as_deref(),
        Some("https://api.example.com")
    );
    assert_eq!(
        get(&resolved, "tokenHeader").as_string().as_deref(),
        Some("Authorization")
    );
    assert_eq!(
        get(&resolved, "tokenPrefix").as_string().as_deref(),
        Some("Bearer ")
    );
    assert_eq!(
        get(&resolved, "storageKey").as_string().as_deref(),
        Some("wxsession")
    );
    assert_eq!(get(&resolved, "timeout").as_f64(), Some(10_000.0));
    assert!(get(&resolved, "storagePath").is_null());

    // A mini-program needs neither getCode nor baseUrl-free login URLs.
    let mp = SessionCore::new(
        r#"{"baseUrl":"https://api.example.com","loginUrl":"/auth/login"}"#,
        "miniprogram",
    );
    assert!(mp.is_ok());
}

#[wasm_bindgen_test]
fn bad_options_throw_bad_config_errors() {
    let cases = [
        // Not JSON at all.
        ("{not json", "web"),
        // Unknown field.
        (
            r#"{"loginUrl":"https://x.test/l","getCode":true,"bogus":1}"#,
            "web",
        ),
        // No loginUrl and no exchange function.
        (r#"{"baseUrl":"https://x.test","getCode":true}"#, "web"),
        // Outside a mini-program there is no wx.login.
        (r#"{"baseUrl":"https://x.test","loginUrl":"/l"}"#, "node"),
        // Wrong type for a field.
        (
            r#"{"baseUrl":"https://x.test","loginUrl":"/l","timeout":"soon"}"#,
            "miniprogram",
        ),
        (
            r#"{"baseUrl":"https://x.test","loginUrl":"/l","timeout":0}"#,
            "miniprogram",
        ),
        // Numbers are whole; values are flat.
        (
            r#"{"baseUrl":"https://x.test","loginUrl":"/l","timeout":1.5}"#,
            "miniprogram",
        ),
        (
            r#"{"baseUrl":"https://x.test","loginUrl":"/l","header":{"a":"b"}}"#,
            "miniprogram",
        ),
        // Unknown host.
        (WEB_OPTIONS, "deno"),
    ];
    for (options, host) in cases {
        assert_coded_error(&construct_err(options, host), "BAD_CONFIG");
    }
}

#[wasm_bindgen_test]
fn a_cold_request_logs_in_then_sends_with_the_new_generation() {
    let mut core = web_core();
    let req = core.request(1_000.0);
    let fx = effects(&mut core);
    assert_eq!(fx.len(), 2, "{fx:?}");
    assert_eq!(fx[0][0], LOGIN, "{fx:?}");
    assert_eq!(fx[0][2], 0);
    let login = fx[0][1];
    assert_eq!(fx[1], [STATE, LOGGING_IN, 0]);
    assert_eq!(core.state(), "logging-in");
    assert!(
        core.take_effects().is_empty(),
        "takeEffects drains the queue"
    );

    core.login_succeeded(login, Some("tok-1".into()), Some(3_600.0), 1_500.0);
    // PERSIST carries the token's expiry in epoch seconds, rounded up, for
    // the storage's ttl (0 when the token has none).
    assert_eq!(
        effects(&mut core),
        [
            [PERSIST, 3_602, 0],
            [SEND, req, 1],
            [STATE, AUTHENTICATED, 0]
        ]
    );
    assert_eq!(core.token().as_deref(), Some("tok-1"));
    assert_eq!(core.state(), "authenticated");

    // persistedValue is the versioned JSON record the hosts write to storage.
    let stored = core.persisted_value().expect("a token to persist");
    let record = JSON::parse(&stored).expect("persistedValue is JSON");
    assert_eq!(get(&record, "v").as_f64(), Some(1.0));
    assert_eq!(get(&record, "token").as_string().as_deref(), Some("tok-1"));
    assert_eq!(get(&record, "issuedAt").as_f64(), Some(1_500.0));
    assert_eq!(get(&record, "expiresAt").as_f64(), Some(3_601_500.0));

    // The hot path: a 2xx resolves without queueing anything...
    assert!(core.response(req, 200, 2_000.0));
    assert!(effects(&mut core).is_empty());

    // ...and a warm request says "send now" in its id's top bit.
    let warm = core.request(2_500.0);
    assert_eq!(warm & SEND_NOW, SEND_NOW);
    assert_eq!(warm & !SEND_NOW, req + 1);
    assert_eq!(core.generation(), 1);
    assert!(effects(&mut core).is_empty());

    // login() while authenticated settles at once, through the queue.
    let login_call = core.login(false, 2_600.0);
    assert_eq!(effects(&mut core), [[RESOLVE, login_call, 0]]);

    // What one core persisted, another adopts (next app start).
    let mut next = web_core();
    assert!(next.restore(Some(stored), 5_000.0));
    assert_eq!(next.token().as_deref(), Some("tok-1"));
    assert_eq!(next.state(), "authenticated");
    // Garbage in storage is ignored, not thrown.
    let mut other = web_core();
    assert!(!other.restore(Some("{\"not\":\"ours\"}".into()), 5_000.0));
    assert!(!other.restore(None, 5_000.0));
    assert_eq!(other.state(), "anonymous");
}

#[wasm_bindgen_test]
fn a_401_logs_in_again_and_a_second_401_rejects_unauthorized() {
    let codes: Vec<String> = error_codes().split(',').map(str::to_owned).collect();
    let mut core = web_core();
    let req = core.request(0.0);
    let login = effects(&mut core)[0][1];
    core.login_succeeded(login, Some("tok-1".into()), None, 10.0);
    assert_eq!(
        effects(&mut core),
        [[PERSIST, 0, 0], [SEND, req, 1], [STATE, AUTHENTICATED, 0]]
    );

    // The server rejects tok-1: drop it, clear storage, log in again.
    core.response(req, 401, 20.0);
    let fx = effects(&mut core);
    assert_eq!(fx.len(), 3, "{fx:?}");
    assert_eq!(fx[0], [CLEAR, 0, 0]);
    assert_eq!(fx[1][0], LOGIN);
    let relogin = fx[1][1];
    assert_ne!(relogin, login, "a new login flight");
    assert_eq!(fx[2], [STATE, LOGGING_IN, 0]);
    assert_eq!(core.token(), None);
    assert_eq!(core.persisted_value(), None);

    // The replay carries the new token's generation.
    core.login_succeeded(relogin, Some("tok-2".into()), None, 30.0);
    assert_eq!(
        effects(&mut core),
        [[PERSIST, 0, 0], [SEND, req, 2], [STATE, AUTHENTICATED, 0]]
    );
    assert_eq!(core.token().as_deref(), Some("tok-2"));

    // maxRelogin defaults to 1: a second 401 for the same request rejects it.
    core.response(req, 401, 40.0);
    let fx = effects(&mut core);
    assert_eq!(
        fx,
        [
            [CLEAR, 0, 0],
            [REJECT, req, fx[1][2]],
            [STATE, ANONYMOUS, 0]
        ]
    );
    assert_eq!(codes[(fx[1][2] & 0xff) as usize], "UNAUTHORIZED");

    // Any other non-2xx status is HTTP_ERROR.
    let other = core.request(50.0);
    let login = effects(&mut core)[0][1];
    core.login_succeeded(login, Some("tok-3".into()), None, 60.0);
    assert_eq!(effects(&mut core)[1], [SEND, other, 3]);
    core.response(other, 500, 70.0);
    let fx = effects(&mut core);
    assert_eq!(fx[0][..2], [REJECT, other]);
    assert_eq!(codes[(fx[0][2] & 0xff) as usize], "HTTP_ERROR");
}

#[wasm_bindgen_test]
fn reject_codes_name_the_host_reported_failure() {
    let codes: Vec<String> = error_codes().split(',').map(str::to_owned).collect();
    let mut core = web_core();

    // A failed login rejects its waiters with the code the host reported.
    let req = core.request(0.0);
    let login = effects(&mut core)[0][1];
    core.login_failed(login, "LOGIN_FAILED", "wx.login: fail", 10.0);
    let fx = effects(&mut core);
    assert_eq!(fx[0][..2], [REJECT, req], "{fx:?}");
    assert_eq!(codes[(fx[0][2] & 0xff) as usize], "LOGIN_FAILED");
    assert_eq!(
        fx[0][2] & FROM_LOGIN,
        FROM_LOGIN,
        "flagged as a login failure"
    );
    assert_eq!(core.last_login_error().as_deref(), Some("wx.login: fail"));

    // An exchange answer without a token is EXCHANGE_FAILED.
    let req = core.request(20.0);
    let login = effects(&mut core)[0][1];
    core.login_succeeded(login, None, None, 30.0);
    let fx = effects(&mut core);
    assert_eq!(fx[0][..2], [REJECT, req], "{fx:?}");
    assert_eq!(codes[(fx[0][2] & 0xff) as usize], "EXCHANGE_FAILED");

    // requestFailed: TIMEOUT stays TIMEOUT; a name the core does not know is
    // still a failure (NETWORK), never a success.
    for (reported, expected) in [("TIMEOUT", "TIMEOUT"), ("ECONNRESET", "NETWORK")] {
        let req = core.request(40.0);
        let login = effects(&mut core)[0][1];
        core.login_succeeded(login, Some("tok".into()), None, 50.0);
        effects(&mut core);
        core.request_failed(req, reported, 60.0);
        let fx = effects(&mut core);
        assert_eq!(fx[0][..2], [REJECT, req], "{fx:?}");
        assert_eq!(codes[(fx[0][2] & 0xff) as usize], expected);
        core.logout();
        assert_eq!(effects(&mut core)[0], [CLEAR, 0, 0]);
    }

    // Mini-program hosts get a CHECK effect first (checkSession 'once').
    let mut mp = SessionCore::new(
        r#"{"baseUrl":"https://api.example.com","loginUrl":"/auth/login"}"#,
        "miniprogram",
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(mp.restore(
        Some(r#"{"v":1,"token":"t","issuedAt":0,"expiresAt":null}"#.into()),
        0.0
    ));
    let req = mp.request(1.0);
    let fx = effects(&mut mp);
    assert_eq!(fx[0][0], CHECK, "{fx:?}");
    mp.check_session_done(fx[0][1], true, 2.0);
    assert_eq!(effects(&mut mp), [[SEND, req, 1]]);
}

#[wasm_bindgen_test]
fn uploads_aborts_and_reports_cross_as_numbers() {
    let codes: Vec<String> = error_codes().split(',').map(str::to_owned).collect();
    let code = |name: &str| codes.iter().position(|c| c == name).unwrap() as u32;
    let options =
        r#"{"baseUrl":"https://api.example.com","loginUrl":"/l","getCode":true,"onEvent":true}"#;
    let mut core = SessionCore::new(options, "web").unwrap_or_else(|e| panic!("{e:?}"));
    // An upload (kind 1) before any login: it waits for one.
    let up = core.transfer(1, 0.0);
    assert_eq!(up & SEND_NOW, 0);
    let login = effects(&mut core)[0][1];
    core.login_succeeded(login, Some("tok".into()), None, 10.0);
    // A REPORT is two triples: [REPORT, req, kind | error << 8 | attempt << 16]
    // then [durationMs, status, 0]. Kind 3 is a login.
    assert_eq!(
        effects(&mut core),
        [
            [REPORT, 0, 3 | 1 << 16],
            [10, 0, 0],
            [PERSIST, 0, 0],
            [SEND, up, 1],
            [STATE, AUTHENTICATED, 0]
        ]
    );
    // Its 401: reported as the upload's first attempt, then one re-login.
    core.response(up, 401, 30.0);
    let fx = effects(&mut core);
    assert_eq!(fx[0], [REPORT, up, 1 | code("UNAUTHORIZED") << 8 | 1 << 16]);
    assert_eq!(fx[1], [20, 401, 0]);
    assert_eq!(fx[2], [CLEAR, 0, 0]);
    assert_eq!(fx[3][0], LOGIN);
    let relogin = fx[3][1];
    // Aborted while it waits: ABORTED at once, no attempt to report.
    assert!(core.abort(up, 40.0));
    assert!(!core.abort(up, 41.0));
    let fx = effects(&mut core);
    assert_eq!(fx[0], [REJECT, up, code("ABORTED")]);
    // A download (kind 2) in flight, aborted: its attempt is reported.
    core.login_succeeded(relogin, Some("tok2".into()), None, 50.0);
    effects(&mut core);
    let down = core.transfer(2, 60.0);
    assert_eq!(down & SEND_NOW, SEND_NOW, "warm: send at once");
    assert!(core.abort(down & !SEND_NOW, 75.0));
    let fx = effects(&mut core);
    assert_eq!(
        fx[..2],
        [
            [REPORT, down & !SEND_NOW, 2 | code("ABORTED") << 8 | 1 << 16],
            [15, 0, 0]
        ]
    );
    assert_eq!(fx[2], [REJECT, down & !SEND_NOW, code("ABORTED")]);
}

#[wasm_bindgen_test]
fn make_error_builds_coded_js_errors() {
    let err = make_error("TIMEOUT", "no answer within 10000 ms");
    assert_coded_error(&err, "TIMEOUT");
    let e: &js_sys::Error = err.unchecked_ref();
    assert_eq!(String::from(e.message()), "no answer within 10000 ms");
    // It is an ordinary, throwable Error: toString shows name and message.
    assert_eq!(
        String::from(e.to_string()),
        "WxSessionError: no answer within 10000 ms"
    );
}

#[wasm_bindgen_test]
fn error_codes_line_up_with_their_numbers() {
    let codes: Vec<String> = error_codes().split(',').map(str::to_owned).collect();
    assert_eq!(
        codes,
        [
            "",
            "LOGIN_FAILED",
            "EXCHANGE_FAILED",
            "UNAUTHORIZED",
            "HTTP_ERROR",
            "NETWORK",
            "TIMEOUT",
            "BAD_CONFIG",
            "RANDOM_UNAVAILABLE",
            "BAD_INPUT",
            "STORE_UNAVAILABLE",
            "STORE_CORRUPT",
            "STORE_DESTROYED",
            "WECHAT_API",
            "RATE_LIMITED",
            "JSSDK_CONFIG",
            "OAUTH_STATE",
            "DECRYPT_FAILED",
            "ABORTED",
            "SESSION_EXPIRED",
        ]
    );
    // The same Vec<String> as JS sees it: an Array of strings.
    let arr: js_sys::Array = codes.iter().map(|s| JsValue::from_str(s)).collect();
    assert_eq!(arr.index_of(&"UNAUTHORIZED".into(), 0), 3);
}

/// One test, because the generator is per instance and every test of this
/// binary shares the instance: the short-seed check needs it still unseeded.
#[wasm_bindgen_test]
fn random_is_seeded_from_the_host_and_rejects_short_seeds() {
    // A first seed under 16 bytes is refused, and leaves the generator unseeded.
    let err = seed_random(&[7; 15]).expect_err("15 bytes is too little entropy");
    assert_coded_error(&err, "BAD_INPUT");

    // Unseeded, nonceStr seeds itself via getrandom -> crypto.getRandomValues.
    let a = nonce_str(Some(16)).unwrap_or_else(|e| panic!("nonceStr: {e:?}"));
    let b = nonce_str(Some(16)).unwrap_or_else(|e| panic!("nonceStr: {e:?}"));
    for s in [&a, &b] {
        assert_eq!(s.len(), 16, "{s:?}");
        assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()), "{s:?}");
    }
    assert_ne!(a, b);
    assert_eq!(nonce_str(None).map(|s| s.len()).ok(), Some(16));
    assert_coded_error(&nonce_str(Some(0)).expect_err("empty nonce"), "BAD_INPUT");

    // Once seeded, more entropy of any size may be mixed in.
    assert!(seed_random(&[1; 4]).is_ok());
    assert!(seed_random(&[2; 32]).is_ok());
    assert_ne!(nonce_str(Some(32)).ok(), nonce_str(Some(32)).ok());
}

#[wasm_bindgen_test]
fn server_steps_cross_as_typed_objects_and_wechat_errors_keep_their_errcode() {
    use wxsession::wasm::server::{CredKind, IoKind, ServerCoreJs as ServerCore};
    let options = |json: &str| js_sys::JSON::parse(json).unwrap();
    let mut core = ServerCore::new(
        options(r#"{"hasBackend":true,"canLock":true,"timeout":1000}"#),
        1000.0,
    )
    .unwrap();
    core.configure(options(r#"{"appId":"wx1","appSecret":"s","timeout":1000}"#))
        .unwrap();
    let started = core
        .start_credential(CredKind::Token, None, false, 1000.0)
        .unwrap();
    let op = get(&started, "op").as_f64().unwrap();
    // Each answer hands back the next typed request, until the finish.
    let mut actions: js_sys::Array = get(&started, "actions").into();
    let mut seen = Vec::new();
    let finish = loop {
        assert_eq!(actions.length(), 1, "one step at a time here");
        let action = actions.get(0);
        if get(&action, "op").as_f64().is_some() {
            break action;
        }
        let io = get(&action, "io").as_f64().unwrap() as u32;
        let kind = get(&action, "kind").as_f64().unwrap() as u32;
        seen.push(kind);
        let answer = match kind {
            k if k == IoKind::Lock as u32 => Some("held".to_owned()),
            k if k == IoKind::Get as u32 => None,
            k if k == IoKind::Call as u32 => {
                assert_eq!(
                    get(&action, "path").as_string().as_deref(),
                    Some("/cgi-bin/token")
                );
                Some(r#"{"access_token":"AT","expires_in":7200}"#.to_owned())
            }
            k if k == IoKind::Set as u32 => {
                assert!(get(&action, "value")
                    .as_string()
                    .unwrap()
                    .contains(r#""accessToken":"AT""#));
                None
            }
            _ => None,
        };
        actions = core.complete(io, answer, 1000.0).into();
    };
    // A cold process reads the shared record before it goes for the lock.
    let kinds = [
        IoKind::Get,
        IoKind::Lock,
        IoKind::Get,
        IoKind::Call,
        IoKind::Set,
        IoKind::Unlock,
    ]
    .map(|k| k as u32);
    assert_eq!(seen, kinds);
    assert_eq!(get(&finish, "op").as_f64(), Some(op));
    assert_eq!(
        get(&get(&finish, "value"), "value").as_string().as_deref(),
        Some("AT")
    );
    assert_eq!(
        core.credential_hit(CredKind::Token, 1001.0).as_deref(),
        Some("AT")
    );

    // A WeChat error comes back with its errcode and errmsg.
    let started = core
        .start_credential(CredKind::Token, None, true, 2000.0)
        .unwrap();
    let mut actions: js_sys::Array = get(&started, "actions").into();
    let finish = loop {
        let action = actions.get(0);
        if get(&action, "op").as_f64().is_some() {
            break action;
        }
        let io = get(&action, "io").as_f64().unwrap() as u32;
        let answer = match get(&action, "kind").as_f64().unwrap() as u32 {
            k if k == IoKind::Lock as u32 => Some("held".to_owned()),
            k if k == IoKind::Call as u32 => {
                Some(r#"{"errcode":40013,"errmsg":"invalid appid"}"#.to_owned())
            }
            _ => None,
        };
        actions = core.complete(io, answer, 2000.0).into();
    };
    let error = get(&finish, "error");
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("WECHAT_API")
    );
    assert_eq!(get(&error, "errcode").as_f64(), Some(40013.0));
    assert_eq!(
        get(&error, "errmsg").as_string().as_deref(),
        Some("invalid appid")
    );
    // The glue checks option names; the boundary still refuses wrong types.
    let bad = ServerCore::new(options(r#"{"hasBackend":"yes","canLock":true}"#), 0.0)
        .err()
        .unwrap();
    assert_coded_error(&bad, "BAD_CONFIG");
}
