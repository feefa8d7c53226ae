//! Refreshes whose writes under the lock fail: the credential fetched is
//! never lost to the one it replaced, never sent by an unlocked flush, and
//! reaches the other processes once the store takes writes again.

use super::io::Out;
use super::sim::{World, GRACE_MS};
use super::{Op, Which};

fn sign(url: &str) -> Op<String> {
    Op::Signature {
        url: url.into(),
        force: false,
    }
}

fn token(force: bool) -> Op<String> {
    Op::Credential {
        which: Which::Token,
        force,
    }
}

fn view(w: &World, tag: usize) -> String {
    match w.result(tag) {
        Ok(Out::Signature(v)) => v.clone(),
        other => panic!("expected a signature, got {other:?}"),
    }
}

fn cred(w: &World, tag: usize) -> String {
    match w.result(tag) {
        Ok(Out::Cred(s)) => s.value.clone(),
        other => panic!("expected a credential, got {other:?}"),
    }
}

/// Whether WeChat still takes this token.
fn accepted(w: &World, t: &str) -> bool {
    w.wechat.tokens.iter().any(|(v, u)| v == t && *u > w.now)
}

#[test]
fn a_forced_refresh_whose_write_never_lands_keeps_the_new_token_and_publishes_it_later() {
    for seed in 0..20 {
        let mut w = World::new(seed, 2, true);
        let a = w.call(0, token(false), 0);
        w.run();
        let t1 = cred(&w, a);
        w.call(1, token(false), 0);
        w.run();
        // Every write of process 0 fails for the whole lease.
        w.fail_sets = Some(0);
        let f = w.call(0, token(true), 0);
        w.run();
        let t2 = cred(&w, f);
        assert_ne!(t1, t2, "seed {seed}");
        w.fail_sets = None;
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
        // Process 1 finds nothing stored and fetches T2/J2; process 0's
        // next flush must not bring T1/J1 back over it.
        w.call(1, sign("https://h5.test/"), 0);
        w.run();
        w.call(0, Op::Flush, 0);
        w.run();
        w.run_until(w.now + GRACE_MS + 1_000);
        let newest = w.wechat.newest_ticket().map(str::to_owned);
        let t = w.call(1, sign("https://h5.test/other"), 0);
        w.run();
        assert_eq!(w.ticket_of(&view(&w, t)), newest, "seed {seed}");
    }
}
