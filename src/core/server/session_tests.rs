//! App sessions in the simulated cluster: one jscode2session per code, a
//! token stored only as its hash, revocation seen by every process at once,
//! sliding expiry, the per-user bound, and decrypting with the session_key.

use super::io::Out;
use super::sim::World;
use super::Op;
use crate::core::error::ErrorCode;
use crate::core::json_object::RawObject;
use crate::core::store::{Kind, Record};
use crate::core::wxcrypt::{base64_decode, token_hash};
use aes::cipher::{BlockEncryptMut, KeyIvInit};

pub(super) const DAY: u64 = 86_400_000;

pub(super) fn login(code: &str, seed: u8) -> Op<String> {
    Op::SessionLogin {
        code: code.into(),
        entropy: [seed; 32],
        data: Some(r#"{"role":"buyer"}"#.into()),
    }
}

pub(super) fn verify(token: &str) -> Op<String> {
    Op::SessionVerify {
        token: token.into(),
    }
}

pub(super) fn reply(w: &World, tag: usize) -> RawObject {
    match w.result(tag) {
        Ok(Out::Reply(text)) => RawObject::parse(text).unwrap_or_default(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

pub(super) fn info(w: &World, tag: usize) -> RawObject {
    match w.result(tag) {
        Ok(Out::Info(Some(text))) => RawObject::parse(text).unwrap(),
        other => panic!("expected a session, got {other:?}"),
    }
}

pub(super) fn code_of(w: &World, tag: usize) -> ErrorCode {
    w.result(tag).as_ref().unwrap_err().code
}

/// What WeChat hands a mini-program: the data AES-128-CBC encrypted under
/// the user's session_key, watermarked with the app it is for.
pub(super) fn encrypt_for(session_key: &str, app_id: &str) -> (String, String) {
    let key = base64_decode(session_key).unwrap();
    let iv = [9u8; 16];
    let mut plain = format!(
        r#"{{"phoneNumber":"13800000000","watermark":{{"appid":"{app_id}","timestamp":1}}}}"#
    )
    .into_bytes();
    let pad = 16 - plain.len() % 16;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let mut enc = cbc::Encryptor::<aes::Aes128>::new_from_slices(&key, &iv).unwrap();
    for block in plain.chunks_exact_mut(16) {
        enc.encrypt_block_mut(block.into());
    }
    let b64 = |b: &[u8]| {
        crate::core::wxcrypt::base64url(b)
            .replace('-', "+")
            .replace('_', "/")
            + &"=".repeat((3 - b.len() % 3) % 3)
    };
    (b64(&plain), b64(&iv))
}

#[test]
fn one_code_one_exchange_one_token_stored_only_as_its_hash() {
    for seed in 0..20 {
        let mut w = World::new(seed, 2, true);
        let code = w.wechat.issue_code("o1");
        let tags: Vec<usize> = (0..5).map(|_| w.call(0, login(&code, 7), 0)).collect();
        w.run();
        assert_eq!(w.wechat.code2session_calls, 1, "seed {seed}");
        let token = reply(&w, tags[0]).get_str("token").unwrap();
        for &t in &tags {
            assert_eq!(
                reply(&w, t).get_str("token").as_deref(),
                Some(token.as_str())
            );
        }
        assert!(
            w.backend.keys().all(|k| !k.contains(&token)),
            "the token itself is never stored"
        );
        assert!(w
            .backend
            .contains_key(&format!("sess:{}", token_hash(&token))));
        // Any process verifies it; the result never carries the session_key.
        let v = w.call(1, verify(&token), 0);
        w.run();
        let s = info(&w, v);
        assert_eq!(
            (
                s.get_str("openid").as_deref(),
                s.get_str("unionid").as_deref()
            ),
            (Some("o1"), Some("u-o1"))
        );
        assert_eq!(s.get_raw("data"), Some(r#"{"role":"buyer"}"#));
        assert!(
            s.get_raw("session_key").is_none() && !w.result(v).as_ref().unwrap().eq(&Out::Unit)
        );
        // The code is spent: WeChat refuses it again.
        let again = w.call(1, login(&code, 8), 0);
        w.run();
        assert_eq!(code_of(&w, again), ErrorCode::WechatApi);
    }
}

#[test]
fn revocation_is_seen_by_every_process_at_once() {
    let mut w = World::new(3, 3, true);
    let tokens: Vec<String> = (0..3)
        .map(|i| {
            let code = w.wechat.issue_code("o1");
            let t = w.call(i, login(&code, i as u8 + 1), 0);
            w.run();
            reply(&w, t).get_str("token").unwrap()
        })
        .collect();
    let warm: Vec<usize> = (0..3).map(|p| w.call(p, verify(&tokens[p]), 0)).collect();
    w.run();
    warm.iter()
        .for_each(|&t| assert!(matches!(w.result(t), Ok(Out::Info(Some(_))))));
    let r = w.call(
        2,
        Op::SessionRevoke {
            token: tokens[0].clone(),
        },
        0,
    );
    w.run();
    assert!(matches!(w.result(r), Ok(Out::Reply(n)) if n == "1"));
    let after = w.call(0, verify(&tokens[0]), 0);
    w.run();
    assert_eq!(
        code_of(&w, after),
        ErrorCode::Unauthorized,
        "another process's revoke counts at once"
    );
    let all = w.call(
        1,
        Op::SessionRevokeUser {
            openid: "o1".into(),
        },
        0,
    );
    w.run();
    // The one revoked already left the user's index: two remain.
    assert!(matches!(w.result(all), Ok(Out::Reply(n)) if n == "2"));
    for (p, token) in tokens.iter().enumerate() {
        let t = w.call(p, verify(token), 0);
        w.run();
        assert_eq!(code_of(&w, t), ErrorCode::Unauthorized);
    }
    // Malformed, truncated or forged tokens never reach the backend.
    for bad in ["", "short", &tokens[1][1..], &"A".repeat(43)] {
        let t = w.call(0, verify(bad), 0);
        w.run();
        assert_eq!(code_of(&w, t), ErrorCode::Unauthorized, "{bad:?}");
    }
}

#[test]
fn a_session_used_after_half_its_life_lives_another_ttl() {
    let mut w = World::new(5, 1, true);
    let code = w.wechat.issue_code("o2");
    let t = w.call(0, login(&code, 1), 0);
    w.run();
    let token = reply(&w, t).get_str("token").unwrap();
    let day = DAY;
    let expiry = |w: &World, tag: usize| info(w, tag).get_int("expiresAt").unwrap() as u64;
    let early = w.call(0, verify(&token), day);
    w.run();
    let first = expiry(&w, early);
    let late = w.call(0, verify(&token), 4 * day);
    w.run();
    assert!(expiry(&w, late) > first, "renewed past half its life");
    let record: Record<String> = Record::decode(
        Kind::AppSession,
        &w.backend[&format!("sess:{}", token_hash(&token))].0,
    )
    .unwrap();
    assert_eq!(
        record.expiry(),
        Some(expiry(&w, late)),
        "the renewal was written"
    );
    let gone = w.call(0, verify(&token), 20 * day);
    w.run();
    assert_eq!(
        code_of(&w, gone),
        ErrorCode::Unauthorized,
        "unused for a whole ttl: expired"
    );
}

#[test]
fn a_user_keeps_at_most_twenty_sessions_the_oldest_goes() {
    let mut w = World::new(6, 1, false);
    let mut tokens = Vec::new();
    for i in 0..22u8 {
        let code = w.wechat.issue_code("o3");
        let t = w.call(0, login(&code, i + 1), 0);
        w.run();
        tokens.push(reply(&w, t).get_str("token").unwrap());
    }
    let checks: Vec<(usize, usize)> = (0..22)
        .map(|i| (i, w.call(0, verify(&tokens[i]), 0)))
        .collect();
    w.run();
    for (i, t) in checks {
        let ok = matches!(w.result(t), Ok(Out::Info(Some(_))));
        assert_eq!(ok, i >= 2, "session {i}");
    }
}

#[test]
fn decrypt_uses_the_newest_session_key_and_checks_the_watermark() {
    for (procs, can_lock) in [(1, true), (2, false)] {
        let mut w = World::new(8, procs, can_lock);
        let code = w.wechat.issue_code("o4");
        let t = w.call(0, login(&code, 1), 0);
        w.run();
        let token = reply(&w, t).get_str("token").unwrap();
        // A second login (another device) rotates the session_key.
        let code2 = w.wechat.issue_code("o4");
        w.call(procs - 1, login(&code2, 2), 0);
        w.run();
        let key = w.wechat.session_keys["o4"].clone();
        let (data, iv) = encrypt_for(&key, "wxsim");
        let d = w.call(
            0,
            Op::SessionDecrypt {
                token: token.clone(),
                encrypted: data,
                iv: iv.clone(),
            },
            0,
        );
        let (foreign, iv2) = encrypt_for(&key, "wx_other_app");
        let f = w.call(
            0,
            Op::SessionDecrypt {
                token: token.clone(),
                encrypted: foreign,
                iv: iv2,
            },
            0,
        );
        w.run();
        assert_eq!(
            reply(&w, d).get_str("phoneNumber").as_deref(),
            Some("13800000000")
        );
        assert_eq!(code_of(&w, f), ErrorCode::DecryptFailed);
        let no_session = w.call(
            0,
            Op::SessionDecrypt {
                token: "A".repeat(43),
                encrypted: "x".into(),
                iv,
            },
            0,
        );
        w.run();
        assert_eq!(code_of(&w, no_session), ErrorCode::Unauthorized);
    }
}

fn session_expiry(w: &World, token: &str) -> Option<u64> {
    let (raw, _) = w.backend.get(&format!("sess:{}", token_hash(token)))?;
    Record::<String>::decode(Kind::AppSession, raw)
        .unwrap()
        .expiry()
}

#[test]
fn a_renewal_racing_a_revoke_never_brings_the_session_back() {
    let day = DAY;
    for seed in 0..40 {
        // Cross-process with a backend lock; in one process without one.
        let (procs, can_lock) = if seed % 2 == 0 { (2, true) } else { (1, false) };
        let mut w = World::new(seed, procs, can_lock);
        let code = w.wechat.issue_code("o5");
        let t = w.call(0, login(&code, 1), 0);
        w.run();
        let token = reply(&w, t).get_str("token").unwrap();
        w.run_until(w.now + 4 * day);
        let jitter = w.rand(60);
        let v = w.call(0, verify(&token), jitter);
        let r = w.call(
            procs - 1,
            Op::SessionRevoke {
                token: token.clone(),
            },
            30,
        );
        w.run();
        assert!(
            matches!(w.result(r), Ok(Out::Reply(n)) if n == "1"),
            "seed {seed}"
        );
        assert!(
            w.result(v).is_ok() || code_of(&w, v) == ErrorCode::Unauthorized,
            "seed {seed}"
        );
        assert_eq!(
            session_expiry(&w, &token),
            None,
            "seed {seed}: the revoked session came back"
        );
        let after = w.call(0, verify(&token), 0);
        w.run();
        assert_eq!(code_of(&w, after), ErrorCode::Unauthorized, "seed {seed}");
    }
}

#[test]
fn revoke_user_racing_a_login_leaves_no_session_unlisted() {
    for seed in 0..40 {
        let (procs, can_lock) = if seed % 2 == 0 { (2, true) } else { (1, false) };
        let mut w = World::new(seed, procs, can_lock);
        let first = w.wechat.issue_code("o6");
        w.call(0, login(&first, 1), 0);
        w.run();
        let code = w.wechat.issue_code("o6");
        let jitter = w.rand(80);
        let l = w.call(0, login(&code, 2), jitter);
        let all = w.call(
            procs - 1,
            Op::SessionRevokeUser {
                openid: "o6".into(),
            },
            40,
        );
        w.run();
        assert!(w.result(all).is_ok(), "seed {seed}");
        let token = reply(&w, l).get_str("token").unwrap();
        // Whichever came first, a live session is one revokeUser can find.
        if session_expiry(&w, &token).is_some() {
            let again = w.call(
                0,
                Op::SessionRevokeUser {
                    openid: "o6".into(),
                },
                0,
            );
            w.run();
            assert!(
                matches!(w.result(again), Ok(Out::Reply(n)) if n == "1"),
                "seed {seed}"
            );
            assert_eq!(session_expiry(&w, &token), None, "seed {seed}");
        }
        let sessions = w.backend.keys().filter(|k| k.starts_with("sess:")).count();
        assert_eq!(
            sessions, 0,
            "seed {seed}: a session outlived revokeUser unlisted"
        );
    }
}

#[test]
fn concurrent_logins_of_one_user_all_land_in_the_index() {
    for seed in 0..20 {
        let (procs, can_lock) = if seed % 2 == 0 { (3, true) } else { (1, false) };
        let mut w = World::new(seed, procs, can_lock);
        let tags: Vec<usize> = (0..6)
            .map(|i| {
                let code = w.wechat.issue_code("o7");
                let delay = w.rand(30);
                w.call(i % procs, login(&code, i as u8 + 1), delay)
            })
            .collect();
        w.run();
        tags.iter()
            .for_each(|&t| assert!(w.result(t).is_ok(), "seed {seed}"));
        let all = w.call(
            0,
            Op::SessionRevokeUser {
                openid: "o7".into(),
            },
            0,
        );
        w.run();
        assert!(
            matches!(w.result(all), Ok(Out::Reply(n)) if n == "6"),
            "seed {seed}: {:?}",
            w.result(all)
        );
        assert!(
            w.backend.keys().all(|k| !k.starts_with("sess:")),
            "seed {seed}"
        );
        // The MP session (wechat-jssdk's record) stays, with no index in it.
        let mp = &w.backend["mp:o7"].0;
        assert!(
            mp.contains("session_key") && !mp.contains("sessions"),
            "seed {seed}"
        );
    }
}
