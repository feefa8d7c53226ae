//! Refreshes whose writes under the lock fail: the credential fetched is
//! never lost to the one it replaced, never sent by an unlocked flush, and
//! reaches the other processes once the store takes writes again.

use super::sim::{World, GRACE_MS};
use super::sim_ops::{
    accepted, assert_newest_after_a_flush, cred, sign, sign_forced, stored, token,
    unsent_forced_token, update_global, view,
};
use super::{Op, Which};

#[test]
fn a_forced_refresh_whose_write_never_lands_keeps_the_new_token_and_publishes_it_later() {
    for seed in 0..20 {
        let mut w = World::new(seed, 2, true);
        let a = w.call(0, token(false), 0);
        w.run();
        let t1 = cred(&w, a);
        w.call(1, token(false), 0);
        w.run();
        let t2 = unsent_forced_token(&mut w);
        assert_ne!(t1, t2, "seed {seed}");
        let right_after = w.call(0, token(false), 0);
        w.run();
        assert_eq!(
            cred(&w, right_after),
            t2,
            "seed {seed}: never back to the replaced token"
        );
        // Both keep serving requests; by the end of WeChat's grace for T1
        // process 0 has published T2 and process 1 has adopted it.
        for _ in 0..GRACE_MS / 10_000 {
            w.run_until(w.now + 10_000);
            w.call(0, token(false), 0);
            w.call(1, token(false), 0);
            w.run();
        }
        w.run_until(w.now + 1_000);
        let later = w.call(0, token(false), 0);
        let other = w.call(1, token(false), 0);
        w.run();
        let (l, o) = (cred(&w, later), cred(&w, other));
        assert!(
            accepted(&w, &l) && accepted(&w, &o),
            "seed {seed}: p0 {l}, p1 {o}"
        );
    }
}

#[test]
fn no_flush_sends_a_credential_its_refresh_still_holds() {
    for seed in 0..30 {
        let mut w = World::new(seed, 2, true);
        w.fail_sets = Some(0);
        w.call(0, sign("https://h5.test/"), 0);
        // Anything that flushes on process 0 meanwhile (the periodic timer,
        // updateGlobalToken, setMPSession, the drop-in's flush after a save).
        for i in 0..300 {
            w.call(0, Op::Flush, i * 10);
        }
        let at = w.rand(1_800);
        w.call(0, Op::Flush, at);
        w.run();
        w.fail_sets = None;
        // Process 1 fetches T2/J2; process 0's next flush must not bring
        // T1/J1 back over it.
        assert_newest_after_a_flush(&mut w, seed, &[1]);
    }
}

#[test]
fn an_unsent_token_is_served_from_memory_while_the_store_is_down() {
    for seed in 0..20 {
        let mut w = World::new(seed, 1, true);
        w.call(0, token(false), 0);
        w.run();
        let t2 = unsent_forced_token(&mut w);
        // The store is down altogether when the recheck comes due: the
        // write of T2 cannot happen, but T2 is valid and in memory.
        w.backend_down = true;
        w.run_until(w.now + 60_001);
        let first = w.call(0, token(false), 0);
        w.run();
        assert_eq!(cred(&w, first), t2, "seed {seed}");
        // Only that first call waited on the store; the next are answered from memory.
        w.run_until(w.now + 1_000);
        let at = w.now;
        let next = w.call(0, token(false), 0);
        w.run();
        assert_eq!(cred(&w, next), t2, "seed {seed}");
        assert_eq!(w.results[next].as_ref().unwrap().0, at, "seed {seed}");
    }
}

#[test]
fn a_ticket_built_on_an_unsent_token_never_lands_over_a_newer_one() {
    for seed in 0..20 {
        let mut w = World::new(seed, 2, true);
        w.call(0, sign("https://h5.test/"), 0);
        w.run();
        w.call(1, sign("https://h5.test/"), 0);
        w.run();
        let before = stored(&w);
        // Process 0 forces a token and then a ticket; neither write lands.
        w.fail_sets = Some(0);
        w.call(0, token(true), 0);
        w.run();
        w.call(0, sign_forced("https://h5.test/a"), 0);
        w.run();
        w.fail_sets = None;
        assert_eq!(
            stored(&w),
            before,
            "seed {seed}: nothing of process 0 landed"
        );
        // Process 1 replaces the ticket once; process 0's recheck must adopt it.
        w.call(
            1,
            Op::Credential {
                which: Which::Ticket,
                force: true,
            },
            0,
        );
        w.run();
        let newest = w.wechat.newest_ticket().map(str::to_owned);
        w.run_until(w.now + 60_001);
        w.call(0, sign("https://h5.test/c"), 0);
        w.run();
        w.run_until(w.now + GRACE_MS + 61_000);
        let t = w.call(1, sign("https://h5.test/d"), 0);
        w.run();
        assert_eq!(w.ticket_of(&view(&w, t)), newest, "seed {seed}");
    }
}

#[test]
fn an_update_global_token_during_a_refresh_never_lets_a_flush_send_the_held_credential() {
    for seed in 0..30 {
        let mut w = World::new(seed, 2, true);
        w.fail_sets = Some(0);
        w.call(0, sign("https://h5.test/"), 0);
        // The app (or wechat-jssdk's client) updates the record meanwhile.
        for i in 0..300 {
            w.call(0, update_global("x", true), i * 10);
        }
        w.run();
        w.fail_sets = None;
        assert_newest_after_a_flush(&mut w, seed, &[1]);
    }
}
