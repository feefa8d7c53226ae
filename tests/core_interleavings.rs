//! Randomised interleavings of requests, logins, failures, revocations and
//! clock jumps against the session machine, checking the contract's
//! invariants after every step. Deterministic: a failing seed is printed and
//! reproduces exactly. Native only (the wasm suites test the boundary).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use wxsession::core::{
    CheckSessionPolicy, Effect, Error, ErrorCode, EventKind, LoginOutcome, ReqId, Session,
    SessionConfig,
};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: plenty for choosing test steps.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

enum Op {
    Check(u32),
    Login(u32),
    Send { req: ReqId, token: String },
}

struct World {
    s: Session,
    now: u64,
    ops: Vec<Op>,
    /// The token the fake backend currently accepts.
    server_token: Option<String>,
    issued: u32,
    sends: BTreeMap<ReqId, u32>,
    settled: BTreeSet<ReqId>,
    requested: BTreeSet<ReqId>,
    max_relogin: u32,
    /// With `report_events`: reports per request, and logins and checks
    /// started and reported.
    report_events: bool,
    reports: BTreeMap<ReqId, u32>,
    started: [u32; 2],
    reported: [u32; 2],
}

impl World {
    fn pump(&mut self, seed: u64) {
        for e in self.s.take_effects() {
            match e {
                Effect::CheckSession { check } => {
                    self.started[1] += 1;
                    self.ops.push(Op::Check(check));
                }
                Effect::Login { login } => {
                    self.started[0] += 1;
                    self.ops.push(Op::Login(login));
                }
                Effect::Report(r) => {
                    assert!(self.report_events, "seed {seed}: a report nobody asked for");
                    match r.kind {
                        EventKind::Login | EventKind::Relogin => self.reported[0] += 1,
                        EventKind::CheckSession => self.reported[1] += 1,
                        _ => {
                            *self.reports.entry(r.req).or_default() += 1;
                            assert!(r.attempt <= 1 + self.max_relogin, "seed {seed}: {r:?}");
                        }
                    }
                }
                Effect::Send { req, generation } => {
                    assert_eq!(
                        generation,
                        self.s.generation(),
                        "seed {seed}: sent with a stale generation"
                    );
                    let token = self.s.token().expect("Send without a token").to_owned();
                    if let Some(exp) = self.s.expires_at() {
                        assert!(self.now < exp, "seed {seed}: sent an expired token");
                    }
                    let n = self.sends.entry(req).or_default();
                    *n += 1;
                    assert!(
                        *n <= 1 + self.max_relogin,
                        "seed {seed}: request {req} sent {n} times"
                    );
                    self.ops.push(Op::Send { req, token });
                }
                Effect::Resolve { req } | Effect::Reject { req, .. } => {
                    assert!(self.settled.insert(req), "seed {seed}: {req} settled twice");
                }
                Effect::Persist | Effect::ClearStorage | Effect::State(_) => {}
            }
        }
        let logins = self
            .ops
            .iter()
            .filter(|o| matches!(o, Op::Login(_)))
            .count();
        let checks = self
            .ops
            .iter()
            .filter(|o| matches!(o, Op::Check(_)))
            .count();
        assert!(logins <= 1, "seed {seed}: {logins} logins in flight");
        assert!(checks <= 1, "seed {seed}: {checks} checks in flight");
    }

    fn complete(&mut self, i: usize, rng: &mut Rng, fail_rate: u64) {
        let fail = rng.below(100) < fail_rate;
        match self.ops.swap_remove(i) {
            Op::Check(c) => self.s.check_session_done(c, !fail, self.now),
            Op::Login(l) => {
                if fail {
                    let code = [
                        ErrorCode::LoginFailed,
                        ErrorCode::ExchangeFailed,
                        ErrorCode::Timeout,
                    ][rng.below(3) as usize];
                    self.s.login_done(
                        l,
                        LoginOutcome::Failed(Error::new(code, "simulated")),
                        self.now,
                    );
                } else {
                    self.issued += 1;
                    let tok = format!("t{}", self.issued);
                    self.server_token = Some(tok.clone());
                    let life = [None, Some(30.0), Some(7200.0)][rng.below(3) as usize];
                    self.s.login_done(
                        l,
                        LoginOutcome::Exchanged {
                            token: Some(&tok),
                            expires_in: life,
                        },
                        self.now,
                    );
                }
            }
            Op::Send { req, token } => {
                if fail && rng.below(2) == 0 {
                    self.s.request_failed(req, ErrorCode::Network, self.now);
                } else if self.server_token.as_deref() == Some(token.as_str()) {
                    self.s.response(req, if fail { 500 } else { 200 }, self.now);
                } else {
                    self.s.response(req, 401, self.now);
                }
            }
        }
    }
}

fn run(seed: u64) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let policy = [
        CheckSessionPolicy::Once,
        CheckSessionPolicy::Always,
        CheckSessionPolicy::Never,
    ][rng.below(3) as usize];
    let max_relogin = rng.below(3) as u32;
    let report_events = rng.below(2) == 0;
    let config = SessionConfig {
        check_session: policy,
        max_relogin,
        report_events,
        ..SessionConfig::default()
    };
    let mut w = World {
        s: Session::new(config, None, 1_000_000),
        now: 1_000_000,
        ops: Vec::new(),
        server_token: None,
        issued: 0,
        sends: BTreeMap::new(),
        settled: BTreeSet::new(),
        requested: BTreeSet::new(),
        max_relogin,
        report_events,
        reports: BTreeMap::new(),
        started: [0; 2],
        reported: [0; 2],
    };
    for _ in 0..300 {
        match rng.below(20) {
            0..=6 => {
                let id = w.s.request(w.now);
                w.requested.insert(id);
            }
            7 => {
                let id = w.s.login(rng.below(2) == 0, w.now);
                w.requested.insert(id);
            }
            8 => w.s.logout(),
            9 => w.server_token = None, // revoked on the server
            10 => w.now += rng.below(40_000),
            11 => {
                // An upload's abort(): queued or in flight, it settles once.
                let open: Vec<_> = w.requested.difference(&w.settled).copied().collect();
                if !open.is_empty() {
                    let id = open[rng.below(open.len() as u64) as usize];
                    assert!(w.s.abort(id, w.now), "seed {seed}: {id} was pending");
                }
            }
            _ if !w.ops.is_empty() => {
                let i = rng.below(w.ops.len() as u64) as usize;
                w.complete(i, &mut rng, 25);
            }
            _ => {}
        }
        w.pump(seed);
    }
    // Drain with a healthy world: nothing may be left hanging.
    let mut guard = 0;
    while !w.ops.is_empty() {
        w.complete(0, &mut rng, 0);
        w.pump(seed);
        guard += 1;
        assert!(guard < 10_000, "seed {seed}: never drains (a loop)");
    }
    assert_eq!(w.s.pending_count(), 0, "seed {seed}: requests left pending");
    assert_eq!(
        w.settled, w.requested,
        "seed {seed}: not every call settled"
    );
    // One report per attempt sent (an aborted one included), per login and
    // per check; none at all without report_events.
    if report_events {
        assert_eq!(w.reports, w.sends, "seed {seed}: attempts and reports");
        assert_eq!(w.reported, w.started, "seed {seed}: logins and checks");
    } else {
        assert!(w.reports.is_empty() && w.reported == [0; 2]);
    }
}

#[test]
fn random_interleavings_keep_the_invariants() {
    let seeds: u64 = std::env::var("WXSESSION_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    for seed in 0..seeds {
        run(seed);
    }
}

#[test]
fn a_cold_burst_of_a_thousand_makes_one_login() {
    let mut s = Session::new(SessionConfig::default(), None, 0);
    let ids: Vec<_> = (0..1000).map(|_| s.request(0)).collect();
    let fx = s.take_effects();
    let logins: Vec<_> = fx
        .iter()
        .filter_map(|e| {
            if let Effect::Login { login } = e {
                Some(*login)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(logins.len(), 1);
    s.login_done(
        logins[0],
        LoginOutcome::Exchanged {
            token: Some("t"),
            expires_in: None,
        },
        0,
    );
    let sent = s
        .take_effects()
        .iter()
        .filter(|e| matches!(e, Effect::Send { .. }))
        .count();
    assert_eq!(sent, ids.len());
}
