//! App sessions against what else touches a user's records at the same
//! time: a wechat-jssdk `setMPSession`, a lock left by a dead process, a
//! lock that could lapse mid-section, and a memory store's live count.

use super::io::Out;
use super::session_tests::{login, reply, verify, DAY};
use super::sim::World;
use super::Op;
use crate::core::error::ErrorCode;
use crate::core::store::Kind;
use crate::core::wxcrypt::token_hash;

fn set_mp_session(app: &str) -> Op<String> {
    Op::Save {
        kind: Kind::MpSession,
        id: "o1".into(),
        info: format!(
            r#"{{"openid":"o1","session_key":"b2xkb2xkb2xkb2xkb2xkMQ==","app":"{app}"}}"#
        ),
        made: None,
        merge: false,
        flush: true,
    }
}

#[test]
fn a_login_and_a_set_mp_session_of_one_user_both_reach_the_backend() {
    for seed in 0..60 {
        let mut w = World::new(seed, 1, true);
        let code = w.wechat.issue_code("o1");
        let l = w.call(0, login(&code, 1), 0);
        let jitter = w.rand(120);
        let s = w.call(0, set_mp_session("legacy"), jitter);
        w.run();
        assert!(w.result(l).is_ok() && w.result(s).is_ok(), "seed {seed}");
        // Each was sent once, when it said it was written, and nothing is
        // left in memory for a later flush to send out of order.
        assert_eq!(w.writes.get("mp:o1").copied(), Some(2), "seed {seed}");
        assert_eq!(w.procs[0].core.store().dirty_count(), 0, "seed {seed}");
    }
}

#[test]
fn a_lock_left_by_a_dead_process_does_not_hold_up_a_verify_that_would_renew() {
    let mut w = World::new(7, 2, true);
    let code = w.wechat.issue_code("o1");
    let t = w.call(0, login(&code, 1), 0);
    w.run();
    let token = reply(&w, t).get_str("token").unwrap();
    w.run_until(w.now + 4 * DAY);
    // Process 1 logs the same user in and dies holding lock:user:o1.
    let code = w.wechat.issue_code("o1");
    w.call(1, login(&code, 2), 0);
    let mut at = w.now;
    while w.lock_until("lock:user:o1").is_none() {
        at += 1;
        w.run_until(at);
    }
    w.procs[1].dead = true;
    let start = w.now;
    let v = w.call(0, verify(&token), 0);
    w.run();
    let (done, result) = w.results[v].as_ref().unwrap();
    assert!(matches!(result, Ok(Out::Info(Some(_)))), "valid as read");
    assert!(done - start < 1_000, "answered after {} ms", done - start);
}

#[test]
fn a_lock_inside_one_process_never_lapses_mid_section() {
    for seed in 0..40 {
        let mut w = World::new(seed, 0, false);
        // A 20 ms lockTtl is accepted without a backend lock; it must not
        // let two logins of one user interleave.
        w.add_proc(20, 60_000);
        let tags: Vec<usize> = (0..4)
            .map(|i| {
                let code = w.wechat.issue_code("o7");
                w.call(0, login(&code, i as u8 + 1), i as u64)
            })
            .collect();
        w.run();
        assert!(tags.iter().all(|&t| w.result(t).is_ok()), "seed {seed}");
        let all = w.call(
            0,
            Op::SessionRevokeUser {
                openid: "o7".into(),
            },
            0,
        );
        w.run();
        assert!(
            matches!(w.result(all), Ok(Out::Reply(n)) if n == "4"),
            "seed {seed}"
        );
        let left = w.backend.keys().filter(|k| k.starts_with("sess:")).count();
        assert_eq!(left, 0, "seed {seed}: sessions revokeUser could not find");
    }
}

#[test]
fn a_section_whose_lease_could_lapse_writes_nothing() {
    for seed in 0..3000 {
        let mut w = World::new(seed, 0, true);
        // lockTtl = 2 x the 1000 ms store timeout: the floor, accepted.
        w.add_proc(2_000, 60_000);
        w.add_proc(2_000, 60_000);
        for i in 0..3 {
            let code = w.wechat.issue_code("o6");
            w.call(0, login(&code, i + 1), 0);
            w.run();
        }
        // Every I/O answers within 900 ms: revokeUser's three round trips
        // can outlast the lease.
        w.max_latency = 499;
        let all = w.call(
            0,
            Op::SessionRevokeUser {
                openid: "o6".into(),
            },
            0,
        );
        let code = w.wechat.issue_code("o6");
        let delay = 1_000 + w.rand(1_500);
        let l = w.call(1, login(&code, 9), delay);
        w.run();
        // revokeUser either ran under its lease or stopped before writing.
        match w.result(all) {
            Ok(_) => {}
            Err(e) => assert_eq!(e.code, ErrorCode::Timeout, "seed {seed}"),
        }
        if let Ok(Out::Reply(_)) = w.result(l) {
            let token = reply(&w, l).get_str("token").unwrap();
            let h = token_hash(&token);
            let listed = w.backend.get("idx:o6").is_some_and(|(v, _)| v.contains(&h));
            let live = w.backend.contains_key(&format!("sess:{h}"));
            assert!(
                !live || listed,
                "seed {seed}: a live session the index does not list"
            );
        }
    }
}

#[test]
fn revoke_user_on_memory_counts_only_live_sessions() {
    let mut w = World::new(3, 0, false);
    w.add_memory_proc();
    for (i, at) in [(1u8, 0u64), (2, 5 * DAY)] {
        let code = w.wechat.issue_code("o2");
        let t = w.call(0, login(&code, i), at);
        w.run();
        reply(&w, t);
    }
    // Three days later the first (7-day ttl) has expired.
    let r = w.call(
        0,
        Op::SessionRevokeUser {
            openid: "o2".into(),
        },
        3 * DAY,
    );
    w.run();
    assert!(
        matches!(w.result(r), Ok(Out::Reply(n)) if n == "1"),
        "{:?}",
        w.result(r)
    );
}
