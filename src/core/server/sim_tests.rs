//! The server core in a simulated cluster on a virtual clock: exactly one
//! refresh across processes, dead and stalled holders, compare-and-expire,
//! cluster-wide freshness, a corrupt record, an unavailable store, and
//! random schedules that must always finish.

use super::io::{ApiCall, Out};
use super::sim::{World, GRACE_MS};
use super::sim_ops::{assert_newest_after_a_flush, cred, sign, token, view};
use super::{Op, Which};
use crate::core::error::ErrorCode;
use crate::core::store::{Kind, Record};

const SEEDS: u64 = 60;

#[test]
fn a_cold_cluster_fetches_one_token_and_one_ticket() {
    for seed in 0..SEEDS {
        let mut w = World::new(seed, 4, true);
        let tags: Vec<usize> = (0..100)
            .map(|i| {
                let delay = w.rand(60);
                w.call(i % 4, sign("https://h5.test/page?a=1#frag"), delay)
            })
            .collect();
        w.run();
        assert_eq!(
            (w.wechat.token_fetches, w.wechat.ticket_fetches),
            (1, 1),
            "seed {seed}"
        );
        for tag in tags {
            let v = view(&w, tag);
            assert_eq!(w.ticket_of(&v).as_deref(), Some("J1"), "seed {seed}");
            assert!(
                v.contains(r#""url":"https://h5.test/page?a=1""#),
                "signed without the fragment"
            );
        }
        assert!(
            w.procs.iter().all(|p| p.core.in_flight() == 0),
            "seed {seed}: a task never finished"
        );
    }
}

#[test]
fn without_a_lock_each_process_still_fetches_once() {
    let mut w = World::new(7, 3, false);
    for i in 0..30 {
        w.call(i % 3, token(false), 0);
    }
    w.run();
    assert!(w.wechat.token_fetches <= 3, "{}", w.wechat.token_fetches);
}

#[test]
fn a_holder_killed_mid_fetch_is_replaced_once_its_lease_expires() {
    for seed in 0..SEEDS {
        let mut w = World::new(seed, 3, true);
        w.kill_on_fetch = Some(0);
        w.call(0, token(false), 0);
        w.run();
        assert!(w.procs[0].dead);
        let lease_end = w.lock_until("lock:global").expect("the dead holder's lock");
        let tags = [w.call(1, token(false), 5), w.call(2, token(false), 5)];
        w.run();
        let (a, b) = (cred(&w, tags[0]), cred(&w, tags[1]));
        assert_eq!(a, b, "seed {seed}: the survivors agree");
        assert_eq!(
            w.wechat.token_fetches, 1,
            "seed {seed}: the dead holder never reached WeChat"
        );
        for tag in tags {
            assert!(
                w.results[tag].as_ref().unwrap().0 >= lease_end,
                "seed {seed}: they waited for its lease"
            );
        }
    }
}

#[test]
fn a_rejected_token_is_replaced_once_across_the_cluster() {
    for seed in 0..SEEDS {
        let mut w = World::new(seed, 4, true);
        for p in 0..4 {
            w.call(p, token(false), 0);
        }
        w.run();
        let now = w.now;
        w.wechat.invalidate_tokens(now);
        let call = ApiCall::get("/cgi-bin/getcallbackip", &[]);
        let tags: Vec<usize> = (0..20)
            .map(|i| w.call(i % 4, Op::Api { call: call.clone() }, i as u64))
            .collect();
        w.run();
        for tag in tags {
            assert!(
                matches!(w.result(tag), Ok(Out::Reply(_))),
                "seed {seed}: {:?}",
                w.result(tag)
            );
        }
        assert_eq!(
            w.wechat.token_fetches, 2,
            "seed {seed}: compare-and-expire replaced it once"
        );
    }
}

#[test]
fn a_forced_refresh_in_one_process_reaches_the_others_within_the_recheck_interval() {
    for seed in 0..SEEDS / 3 {
        let mut w = World::new(seed, 0, true);
        let recheck = 2_000;
        let (a, b) = (w.add_proc(3_000, recheck), w.add_proc(3_000, recheck));
        let first = w.call(b, sign("https://h5.test/"), 0);
        w.run();
        assert_eq!(w.ticket_of(&view(&w, first)).as_deref(), Some("J1"));
        w.call(a, Op::ManualRefresh, 10);
        w.run();
        assert_eq!(w.wechat.newest_ticket(), Some("J2"), "seed {seed}");
        let refreshed_at = w.now;
        // Before the interval B may still serve J1 (valid for the grace);
        // once it has passed, B signs with J2.
        let mut tags = Vec::new();
        for i in 0..40u64 {
            let delay = i * 100;
            tags.push((
                refreshed_at + delay,
                w.call(b, sign("https://h5.test/"), delay),
            ));
        }
        w.run();
        for (at, tag) in tags {
            let ticket = w
                .ticket_of(&view(&w, tag))
                .expect("made with a real ticket");
            if at >= refreshed_at + recheck + 100 {
                assert_eq!(
                    ticket,
                    "J2",
                    "seed {seed}: B still signed with J1 at +{} ms",
                    at - refreshed_at
                );
            }
        }
        assert!(recheck < GRACE_MS);
    }
}

#[test]
fn a_fresh_process_never_serves_a_signature_made_with_a_replaced_ticket() {
    let mut w = World::new(3, 1, true);
    let t = w.call(0, sign("https://h5.test/x"), 0);
    w.run();
    let old = view(&w, t);
    w.call(0, Op::Flush, 0);
    w.run();
    w.call(0, Op::ManualRefresh, 0);
    w.run();
    // The backend now holds J2 as the global ticket and (until it expires)
    // the signature made with J1; a new process starts with a cold cache.
    let fresh = w.add_proc(3_000, 60_000);
    let t2 = w.call(fresh, sign("https://h5.test/x"), 0);
    w.run();
    let served = view(&w, t2);
    assert_ne!(served, old);
    assert_eq!(w.ticket_of(&served).as_deref(), Some("J2"));
}

/// The Store path (wechat-jssdk's JSSDK on the drop-in reads signatures
/// with `getSignature`): a cold process, and a warm one past its recheck
/// interval, look at the global record before serving a stored signature.
#[test]
fn a_store_read_never_serves_a_signature_made_with_a_replaced_ticket() {
    let get = || Op::Get {
        kind: Kind::Signature,
        id: "https://h5.test/x".into(),
    };
    let mut w = World::new(4, 2, true);
    w.call(0, sign("https://h5.test/x"), 0);
    w.run();
    w.call(0, Op::Flush, 0);
    w.run();
    let warm = w.call(1, get(), 0);
    w.run();
    assert!(
        matches!(w.result(warm), Ok(Out::Info(Some(_)))),
        "J1 is current: served"
    );
    w.call(0, Op::ManualRefresh, 0);
    w.run();
    let fresh = w.add_proc(3_000, 60_000);
    let cold = w.call(fresh, get(), 0);
    w.run();
    assert!(
        matches!(w.result(cold), Ok(Out::Info(None))),
        "{:?}",
        w.result(cold)
    );
    w.run_until(w.now + 60_001);
    let later = w.call(1, get(), 0);
    w.run();
    assert!(
        matches!(w.result(later), Ok(Out::Info(None))),
        "{:?}",
        w.result(later)
    );
}

#[test]
fn a_store_read_of_the_global_record_sees_another_process_refresh_within_the_interval() {
    let get = || Op::Get {
        kind: Kind::Global,
        id: String::new(),
    };
    let mut w = World::new(5, 2, true);
    w.call(0, token(false), 0);
    w.run();
    let first = w.call(1, get(), 0);
    w.run();
    let Ok(Out::Info(Some(before))) = w.result(first).clone() else {
        panic!("{:?}", w.result(first));
    };
    w.call(0, Op::ManualRefresh, 0);
    w.run();
    w.run_until(w.now + 60_001);
    let later = w.call(1, get(), 0);
    w.run();
    let Ok(Out::Info(Some(after))) = w.result(later).clone() else {
        panic!("{:?}", w.result(later));
    };
    assert_ne!(before, after, "process 1 adopted process 0's refresh");
    let newest = &w.wechat.tokens.last().unwrap().0;
    assert!(after.contains(newest.as_str()), "{after}");
}

#[test]
fn a_stalled_holder_whose_lease_lapsed_never_overwrites_the_newer_ticket() {
    for seed in 0..SEEDS / 3 {
        let mut w = World::new(seed, 2, true);
        let warm = w.call(0, token(false), 0);
        w.run();
        let _ = cred(&w, warm);
        w.call(1, token(false), 0);
        w.run();
        // Process 0's ticket fetch is answered long after its lease ran out.
        w.wechat
            .stall
            .insert("/cgi-bin/ticket/getticket".into(), 5_000);
        let stalled = w.call(
            0,
            Op::Credential {
                which: Which::Ticket,
                force: false,
            },
            0,
        );
        w.run_until(w.now + 4_000);
        w.wechat.stall.clear();
        let other = w.call(
            1,
            Op::Credential {
                which: Which::Ticket,
                force: false,
            },
            0,
        );
        w.run();
        assert_eq!(
            w.wechat.ticket_fetches, 2,
            "seed {seed}: the stalled fetch and the takeover, nothing more"
        );
        assert_eq!(cred(&w, other), "J2");
        assert_eq!(
            cred(&w, stalled),
            "J2",
            "seed {seed}: the stalled holder adopts the newer ticket"
        );
        let stored = &w.backend["global"].0;
        let record: Record<String> = Record::decode(Kind::Global, stored).unwrap();
        assert_eq!(
            record.meta.creds().cloned().unwrap().ticket.unwrap().value,
            "J2",
            "seed {seed}: J1 never overwrote J2"
        );
    }
}

#[test]
fn garbage_under_the_global_record_heals_with_exactly_one_fetch() {
    for seed in 0..SEEDS / 3 {
        let mut w = World::new(seed, 3, true);
        w.backend.insert("global".into(), ("{not json".into(), 0));
        let tags: Vec<usize> = (0..30)
            .map(|i| w.call(i % 3, sign("https://h5.test/"), i as u64))
            .collect();
        w.run();
        for tag in tags {
            assert!(
                matches!(w.result(tag), Ok(Out::Signature(_))),
                "seed {seed}: {:?}",
                w.result(tag)
            );
        }
        assert_eq!(
            (w.wechat.token_fetches, w.wechat.ticket_fetches),
            (1, 1),
            "seed {seed}"
        );
        let get = w.call(
            1,
            Op::Get {
                kind: Kind::Global,
                id: String::new(),
            },
            0,
        );
        w.run();
        assert!(matches!(w.result(get), Ok(Out::Info(Some(_)))));
    }
}

#[test]
fn an_unavailable_store_fails_with_its_own_error_instead_of_hanging() {
    let mut w = World::new(1, 2, true);
    w.backend_down = true;
    let tags = [
        w.call(0, token(false), 0),
        w.call(1, sign("https://h5.test/"), 0),
    ];
    let t0 = w.now;
    w.run();
    for tag in tags {
        let e = w.result(tag).as_ref().unwrap_err();
        assert_eq!(e.code, ErrorCode::StoreUnavailable, "{e:?}");
        assert!(
            w.results[tag].as_ref().unwrap().0 - t0 < 6_000,
            "gave up after the wait"
        );
    }
    assert_eq!(w.wechat.token_fetches, 0);
}

#[test]
fn random_schedules_always_finish_and_never_mix_up_tickets() {
    for seed in 0..SEEDS * 2 {
        let mut w = World::new(seed, 3, seed % 5 != 0);
        let mut tags = Vec::new();
        for i in 0..40 {
            let p = w.rand(3) as usize;
            let delay = w.rand(20_000);
            let op = match w.rand(7) {
                0 => token(true),
                1 => Op::ManualRefresh,
                2 => Op::Api {
                    call: ApiCall::get("/cgi-bin/getcallbackip", &[]),
                },
                3 => Op::Flush,
                4 => Op::Credential {
                    which: Which::Ticket,
                    force: false,
                },
                _ => sign(&format!("https://h5.test/{}", i % 4)),
            };
            tags.push(w.call(p, op, delay));
        }
        if seed % 3 == 0 {
            let at = w.rand(10_000);
            w.run_until(w.now + at);
            let now = w.now;
            w.wechat.invalidate_tokens(now);
        }
        w.run();
        for &tag in &tags {
            let (at, result) = w.results[tag]
                .as_ref()
                .unwrap_or_else(|| panic!("seed {seed}: op {tag} never finished"));
            match result {
                Ok(Out::Signature(v)) => {
                    let ticket = w.ticket_of(v).expect("a real ticket");
                    let (_, until) = w.wechat.tickets.iter().find(|(t, _)| *t == ticket).unwrap();
                    assert!(
                        *until > *at,
                        "seed {seed}: a signature made with an invalidated ticket"
                    );
                }
                Ok(_) => {}
                Err(e) => assert!(
                    matches!(
                        e.code,
                        ErrorCode::RateLimited | ErrorCode::WechatApi | ErrorCode::Timeout
                    ),
                    "seed {seed}: {e:?}"
                ),
            }
        }
        assert!(
            w.procs.iter().all(|p| p.core.in_flight() == 0),
            "seed {seed}: a task never finished"
        );
    }
}

#[test]
fn a_failed_credential_write_is_never_sent_later_over_a_newer_one() {
    for seed in 0..SEEDS {
        let mut w = World::new(seed, 2, true);
        // Process 0 fetches T1/J1 but none of its writes land, even resent.
        w.fail_sets = Some(0);
        let first = w.call(0, sign("https://h5.test/"), 0);
        w.run();
        assert_eq!(
            w.ticket_of(&view(&w, first)).as_deref(),
            Some("J1"),
            "seed {seed}"
        );
        w.fail_sets = None;
        // Process 1 fetches T2/J2; process 0's periodic flush must not
        // bring J1 back.
        assert_newest_after_a_flush(&mut w, seed, &[0, 1]);
    }
}

#[test]
fn a_write_that_fails_once_is_resent_under_the_lock() {
    for seed in 0..20 {
        let mut w = World::new(seed, 2, true);
        w.fail_sets = Some(0);
        let t = w.call(0, token(false), 0);
        // The backend comes back while process 0 still holds the lock.
        w.run_until(w.now + 150);
        w.fail_sets = None;
        w.run();
        let stored = &w.backend["global"].0;
        assert!(
            stored.contains(&cred(&w, t)),
            "seed {seed}: the resend landed"
        );
        let other = w.call(1, token(false), 0);
        w.run();
        assert_eq!(cred(&w, other), cred(&w, t), "seed {seed}");
        assert_eq!(w.wechat.token_fetches, 1, "seed {seed}");
    }
}

#[test]
fn a_token_refresh_and_a_ticket_refresh_never_undo_each_other() {
    for seed in 0..SEEDS {
        let mut w = World::new(seed, 2, true);
        w.call(0, sign("https://h5.test/"), 0);
        w.run();
        w.call(1, sign("https://h5.test/"), 0);
        w.run();
        let jitter = w.rand(60);
        w.call(
            0,
            Op::Credential {
                which: Which::Ticket,
                force: true,
            },
            0,
        );
        w.call(1, token(true), jitter);
        w.run();
        w.run_until(w.now + GRACE_MS + 1_000);
        for p in 0..2 {
            let t = w.call(p, token(false), 0);
            let s = w.call(p, sign("https://h5.test/after"), 0);
            w.run();
            let served = cred(&w, t);
            assert!(
                w.wechat
                    .tokens
                    .iter()
                    .any(|(v, until)| *v == served && *until > w.now),
                "seed {seed}: process {p} served {served}, which WeChat no longer accepts"
            );
            assert_eq!(
                w.ticket_of(&view(&w, s)).as_deref(),
                w.wechat.newest_ticket(),
                "seed {seed}"
            );
        }
    }
}
