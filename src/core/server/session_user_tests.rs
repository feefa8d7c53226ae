//! A user's sessions as a whole, in the simulated cluster: `list`, the live
//! count `revokeUser` answers, logging in again after it, and renewals that
//! many verifies (or a failing backend) cross at once.

use super::io::Out;
use super::session_tests::{code_of, encrypt_for, info, login, reply, verify, DAY};
use super::sim::World;
use super::Op;
use crate::core::error::ErrorCode;
use crate::core::wxcrypt::token_hash;

fn reply_text(w: &World, tag: usize) -> String {
    match w.result(tag) {
        Ok(Out::Reply(text)) => text.clone(),
        other => panic!("expected a reply, got {other:?}"),
    }
}

fn revoke_user(openid: &str) -> Op<String> {
    Op::SessionRevokeUser {
        openid: openid.into(),
    }
}

#[test]
fn a_login_after_revoke_user_is_listed_and_revocable_again() {
    for (procs, can_lock) in [(1, true), (1, false), (2, true)] {
        let mut w = World::new(11, procs, can_lock);
        let code = w.wechat.issue_code("o5");
        w.call(0, login(&code, 1), 0);
        w.run();
        let r = w.call(0, revoke_user("o5"), 0);
        w.run();
        assert_eq!(reply_text(&w, r), "1");
        // Logged in again: the newest session_key and the index reach the
        // backend before the login answers.
        let code = w.wechat.issue_code("o5");
        let t = w.call(0, login(&code, 2), 0);
        w.run();
        let token = reply(&w, t).get_str("token").unwrap();
        let key = w.wechat.session_keys["o5"].clone();
        assert!(w.backend["mp:o5"].0.contains(&key), "{procs} {can_lock}");
        assert!(w.backend["idx:o5"].0.contains(&token_hash(&token)));
        let (data, iv) = encrypt_for(&key, "wxsim");
        let d = w.call(
            procs - 1,
            Op::SessionDecrypt {
                token: token.clone(),
                encrypted: data,
                iv,
            },
            0,
        );
        let again = w.call(procs - 1, revoke_user("o5"), 1);
        w.run();
        assert!(
            matches!(w.result(d), Ok(Out::Reply(_))),
            "{:?}",
            w.result(d)
        );
        assert_eq!(reply_text(&w, again), "1");
        let v = w.call(0, verify(&token), 0);
        w.run();
        assert_eq!(code_of(&w, v), ErrorCode::Unauthorized);
    }
}

#[test]
fn list_shows_the_live_sessions_of_one_user_oldest_first() {
    for (procs, can_lock) in [(2, true), (1, false)] {
        let mut w = World::new(12, procs, can_lock);
        let mut tokens = Vec::new();
        for (i, who) in ["o6", "o6", "o6", "o7"].iter().enumerate() {
            let code = w.wechat.issue_code(who);
            let t = w.call(i % procs, login(&code, i as u8 + 1), i as u64);
            w.run();
            tokens.push(reply(&w, t).get_str("token").unwrap());
        }
        let r = w.call(
            0,
            Op::SessionRevoke {
                token: tokens[1].clone(),
            },
            0,
        );
        w.run();
        assert_eq!(reply_text(&w, r), "1");
        let list = |w: &mut World, who: &str, after: u64| {
            let t = w.call(procs - 1, Op::SessionList { openid: who.into() }, after);
            w.run();
            reply_text(w, t)
        };
        let six = list(&mut w, "o6", 0);
        assert_eq!(six.matches("\"openid\":\"o6\"").count(), 2, "{six}");
        assert!(six.starts_with('[') && six.contains("\"role\":\"buyer\""));
        assert!(!six.contains("session_key") && !six.contains(&tokens[0]));
        let created: Vec<u64> = six
            .split("\"createdAt\":")
            .skip(1)
            .map(|s| s.split([',', '}']).next().unwrap().parse().unwrap())
            .collect();
        assert!(created.windows(2).all(|p| p[0] < p[1]), "{created:?}");
        assert_eq!(list(&mut w, "o7", 0).matches("createdAt").count(), 1);
        assert_eq!(list(&mut w, "nobody", 0), "[]");
        // Past their ttl (7 days) none is live, and revokeUser counts none.
        assert_eq!(list(&mut w, "o6", 8 * DAY), "[]");
        let r = w.call(0, revoke_user("o6"), 0);
        w.run();
        assert_eq!(reply_text(&w, r), "0");
    }
}

#[test]
fn a_burst_crossing_half_life_renews_with_one_write() {
    for procs in [1, 2] {
        let mut w = World::new(13, procs, true);
        let code = w.wechat.issue_code("o9");
        let t = w.call(0, login(&code, 1), 0);
        w.run();
        let token = reply(&w, t).get_str("token").unwrap();
        let key = format!("sess:{}", token_hash(&token));
        let before = w.writes[&key];
        let tags: Vec<usize> = (0..10)
            .map(|i| w.call(i % procs, verify(&token), 4 * DAY))
            .collect();
        w.run();
        for &t in &tags {
            let e = info(&w, t).get_int("expiresAt").unwrap() as u64;
            assert!(e >= 11 * DAY, "renewed for another ttl: {e}");
        }
        // Verifies in one process share the renewal; another process that
        // waited for the lock finds it renewed and writes nothing.
        assert_eq!(w.writes[&key] - before, 1, "{procs} process(es)");
    }
}

#[test]
fn a_renewal_the_backend_fails_leaves_the_session_valid_and_nothing_to_flush() {
    let mut w = World::new(14, 2, true);
    let code = w.wechat.issue_code("o10");
    let t = w.call(0, login(&code, 1), 0);
    w.run();
    let token = reply(&w, t).get_str("token").unwrap();
    // Past half its life: the read succeeds, then the backend fails the renewal.
    let v = w.call(0, verify(&token), 4 * DAY);
    let mut at = w.now + 4 * DAY;
    while w.procs[0].core.in_flight() < 2 {
        at += 1;
        w.run_until(at);
        assert!(w.results[v].is_none(), "the renewal never started");
    }
    w.backend_down = true;
    w.run();
    w.backend_down = false;
    assert!(matches!(w.result(v), Ok(Out::Info(Some(_)))), "still valid");
    assert_eq!(w.procs[0].core.store().dirty_count(), 0, "nothing to flush");
    // Another process revokes it; this one flushes; it stays revoked.
    let r = w.call(
        1,
        Op::SessionRevoke {
            token: token.clone(),
        },
        0,
    );
    w.run();
    assert_eq!(reply_text(&w, r), "1");
    w.call(0, Op::Flush, 0);
    w.run();
    let again = w.call(0, verify(&token), 0);
    w.run();
    assert_eq!(code_of(&w, again), ErrorCode::Unauthorized);
}
