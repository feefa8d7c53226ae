//! Credentials a refresh owns under its lock while the Store API changes
//! the same record: every acknowledged change is written, a fetched token
//! is never stranded unwritten, and a publish never lands over a newer one.

use super::sim::World;
use super::sim_ops::{
    backend_token, cred, step_until, stored, token, unsent_forced_token, update_global,
};
use super::{Kind, Op};

/// updateGlobalToken (Save merge flush:true) while the refresh's held
/// write is in flight: written under the refresh's lock once that lands.
#[test]
fn an_update_while_the_refresh_writes_is_written_too() {
    let mut bad = 0;
    for seed in 0..20 {
        let mut w = World::new(seed, 1, true);
        w.call(0, token(false), 0);
        // Until the refresh's Set has landed in the backend (its answer is
        // still on the way back).
        step_until(&mut w, 10_000, |w| {
            w.writes.get("global").copied().unwrap_or(0) >= 1
        });
        let s = w.call(0, update_global("x", true), 0);
        w.run();
        let save_ok = w.result(s).is_ok();
        // Any number of later flushes.
        for _ in 0..3 {
            w.call(0, Op::Flush, 0);
            w.run();
        }
        let written = stored(&w).contains("note");
        let dirty = w.procs[0].core.store().dirty_count();
        // A later update (flush:true) also resolves.
        let s2 = w.call(0, update_global("y", true), 0);
        w.run();
        let later_written = stored(&w).contains(r#""note":"y""#);
        if !written {
            bad += 1;
        }
        assert!(save_ok && w.result(s2).is_ok(), "seed {seed}");
        assert!(
            later_written,
            "seed {seed}: a later update written (dirty {dirty})"
        );
    }
    assert_eq!(
        bad, 0,
        "{bad} of 20 seeds: an acknowledged updateGlobalToken was never written"
    );
}

/// A refresh stores its token while a flush writes the key (and, with
/// `second`, while another save lands on it too), with no lease left for a
/// resend. Ten minutes of traffic later: (cases, processes serving a token
/// WeChat no longer takes, saves missing from the store).
fn owned_run(can_lock: bool, stall: u64, flush_at: u64, second: bool) -> (u32, u32, u32) {
    let (mut hit, mut stale, mut lost) = (0, 0, 0);
    for seed in 0..40 {
        let mut w = World::new(seed, 2, can_lock);
        let a = w.call(0, token(false), 0);
        w.run();
        let t1 = cred(&w, a);
        w.call(1, token(false), 0);
        w.run();
        w.wechat.stall.insert("/cgi-bin/token".into(), stall);
        let f = w.call(0, token(true), 0);
        step_until(&mut w, 100_000, |w| w.wechat.token_fetches >= 2);
        w.wechat.stall.clear();
        // updateGlobalToken lands just before the fetch's answer: its flush
        // takes the key.
        w.call(0, update_global("x", true), flush_at);
        if second {
            w.call(0, update_global("y", false), flush_at + 1);
        }
        w.run();
        let t2 = cred(&w, f);
        assert_ne!(t1, t2);
        if w.procs[0].core.store().dirty_count() == 0 && backend_token(&w) == t2 {
            continue;
        }
        hit += 1;
        // Ten minutes of traffic on both processes, flushes included.
        for _ in 0..60 {
            w.run_until(w.now + 10_000);
            w.call(0, token(false), 0);
            w.call(1, token(false), 0);
            w.call(0, Op::Flush, 0);
            w.run();
        }
        let p0 = w.call(0, token(false), 0);
        let p1 = w.call(1, token(false), 0);
        w.run();
        let valid = |v: &str| {
            w.wechat
                .tokens
                .iter()
                .any(|(t, until)| t == v && *until > w.now)
        };
        if !valid(&cred(&w, p0)) || !valid(&cred(&w, p1)) {
            stale += 1;
        }
        if second && !stored(&w).contains(r#""note":"y""#) {
            lost += 1;
        }
    }
    (hit, stale, lost)
}

#[test]
fn without_a_lock_a_token_stored_while_a_flush_writes_the_key_is_written() {
    for second in [false, true] {
        let (hit, stale, lost) = owned_run(false, 1_000, 995, second);
        assert!(hit > 0, "the scenario happened");
        assert_eq!((stale, lost), (0, 0), "of {hit} (second save: {second})");
    }
}

#[test]
fn near_the_lease_end_a_token_stored_while_a_flush_writes_the_key_is_written() {
    for second in [false, true] {
        let (hit, stale, lost) = owned_run(true, 1_820, 1_815, second);
        assert!(hit > 0, "the scenario happened");
        assert_eq!((stale, lost), (0, 0), "of {hit} (second save: {second})");
    }
}

/// The publish of an unsent token re-reads under the lock while the app
/// updates the record (`saves` of them): it must still see the newer token
/// another process stored and adopt it, not write the older one over it.
#[test]
fn a_publish_never_writes_over_a_newer_record_despite_local_updates_during_its_read() {
    publish_run(200);
}

#[test]
fn a_publish_never_writes_over_a_newer_record() {
    publish_run(0);
}

fn publish_run(saves: u64) {
    let mut over = 0;
    for seed in 0..30 {
        let mut w = World::new(seed, 2, true);
        w.call(0, token(false), 0);
        w.run();
        w.call(1, token(false), 0);
        w.run();
        let t2 = unsent_forced_token(&mut w);
        // Process 1 replaces the token: T3 is stored, T2 is now the older.
        let g = w.call(1, token(true), 0);
        w.run();
        let t3 = cred(&w, g);
        assert_eq!(backend_token(&w), t3);
        w.run_until(w.now + 60_001);
        // p0's next call publishes; the app updates the record meanwhile.
        w.call(0, token(false), 0);
        for i in 0..saves {
            w.call(0, update_global(&format!("n{i}"), false), i);
        }
        w.run();
        let now_stored = backend_token(&w);
        if now_stored == t2 {
            over += 1;
        }
    }
    assert_eq!(
        over, 0,
        "{over} of 30 seeds: an older unsent token written over a newer one"
    );
}

/// The unsent base is what the backend held, not memory: a local save not
/// yet flushed (with a newer modifyDate, as wechat-jssdk's saves carry)
/// must not make the recheck see a write that never happened.
#[test]
fn an_unflushed_local_save_does_not_make_the_recheck_drop_the_new_token() {
    let mut back = 0;
    for seed in 0..20 {
        let mut w = World::new(seed, 1, true);
        let a = w.call(0, token(false), 0);
        w.run();
        let t1 = cred(&w, a);
        let md = w.now + 1;
        w.call(
            0,
            Op::Save {
                kind: Kind::Global,
                id: String::new(),
                info: format!(r#"{{"note":"x","modifyDate":{md}}}"#),
                made: None,
                merge: true,
                flush: false,
            },
            0,
        );
        w.run();
        let t2 = unsent_forced_token(&mut w);
        let writes_before = w.writes.get("global").copied().unwrap_or(0);
        w.run_until(w.now + 60_001);
        let r = w.call(0, token(false), 0);
        w.run();
        let served = cred(&w, r);
        let published = w.writes.get("global").copied().unwrap_or(0) > writes_before;
        assert!(published, "seed {seed}: T2 published at the recheck");
        let _ = t2;
        if served == t1 {
            back += 1;
        }
    }
    assert_eq!(
        back, 0,
        "{back} of 20: back to the replaced token though no one wrote"
    );
}
