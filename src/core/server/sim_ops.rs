//! What the simulated-cluster tests ask of a process and read back: the
//! operations (a signature, a token, a Store-API update) and the answers,
//! shared by sim_tests.rs and the refresh fault tests.

use super::io::Out;
use super::sim::{World, GRACE_MS};
use super::{Op, Which};
use crate::core::store::Kind;

pub(super) fn sign(url: &str) -> Op<String> {
    Op::Signature {
        url: url.into(),
        force: false,
    }
}

pub(super) fn sign_forced(url: &str) -> Op<String> {
    Op::Signature {
        url: url.into(),
        force: true,
    }
}

pub(super) fn token(force: bool) -> Op<String> {
    Op::Credential {
        which: Which::Token,
        force,
    }
}

/// `updateGlobalToken`-style: merged into the global record.
pub(super) fn update_global(note: &str, flush: bool) -> Op<String> {
    Op::Save {
        kind: Kind::Global,
        id: String::new(),
        info: format!(r#"{{"note":"{note}"}}"#),
        made: None,
        merge: true,
        flush,
    }
}

pub(super) fn view(w: &World, tag: usize) -> String {
    match w.result(tag) {
        Ok(Out::Signature(v)) => v.clone(),
        other => panic!("expected a signature, got {other:?}"),
    }
}

pub(super) fn cred(w: &World, tag: usize) -> String {
    match w.result(tag) {
        Ok(Out::Cred(s)) => s.value.clone(),
        other => panic!("expected a credential, got {other:?}"),
    }
}

/// Whether WeChat still takes this token.
pub(super) fn accepted(w: &World, t: &str) -> bool {
    w.wechat.tokens.iter().any(|(v, u)| v == t && *u > w.now)
}

/// The global record as the backend holds it (empty if none).
pub(super) fn stored(w: &World) -> String {
    w.backend
        .get("global")
        .map(|(v, _)| v.clone())
        .unwrap_or_default()
}

/// The access_token in the backend's global record.
pub(super) fn backend_token(w: &World) -> String {
    let s = stored(w);
    let i = s.find(r#""accessToken":""#).map(|i| i + 15).unwrap_or(0);
    s[i..].split('"').next().unwrap_or("").to_owned()
}

/// Runs one ms at a time until `cond` holds (or panics after `limit` ms).
pub(super) fn step_until(w: &mut World, limit: u64, mut cond: impl FnMut(&World) -> bool) {
    let end = w.now + limit;
    while !cond(w) {
        assert!(w.now < end, "condition never held");
        let t = w.now + 1;
        w.run_until(t);
    }
}

/// Process 0 forces a new token while none of its writes land (the store
/// fails for the whole lease), then the store takes writes again: the
/// token it serves now and never wrote.
pub(super) fn unsent_forced_token(w: &mut World) -> String {
    w.fail_sets = Some(0);
    let f = w.call(0, token(true), 0);
    w.run();
    w.fail_sets = None;
    cred(w, f)
}

/// After process 0's credential writes failed: process 1 finds nothing
/// stored and fetches its own, process 0 flushes, and once WeChat's grace
/// for replaced tickets is over each of `procs` signs with the newest
/// ticket (an unlocked flush never brought the older one back).
pub(super) fn assert_newest_after_a_flush(w: &mut World, seed: u64, procs: &[usize]) {
    w.call(1, sign("https://h5.test/"), 0);
    w.run();
    w.call(0, Op::Flush, 0);
    w.run();
    w.run_until(w.now + GRACE_MS + 1_000);
    let newest = w.wechat.newest_ticket().map(str::to_owned);
    for &p in procs {
        let t = w.call(p, sign("https://h5.test/other"), 0);
        w.run();
        assert_eq!(w.ticket_of(&view(w, t)), newest, "seed {seed}: process {p}");
    }
}
