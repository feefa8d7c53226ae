//! A cluster on a virtual clock: processes that each run `Credentials`
//! over one shared store with an expiring lock, against a fake WeChat that
//! counts fetches and rejects replaced tokens. Steps take random latencies,
//! so every seed is a different interleaving.

use super::refresh::Step;
use super::*;
use crate::core::json_object::RawObject;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

#[derive(Debug)]
enum Waiter {
    Caller(usize),
    Ticket(u32),
}

#[derive(Debug, Clone)]
enum Owned {
    Locked(Result<bool, Error>),
    Slept,
    Read(Result<Option<String>, Error>),
    Token(Result<String, Error>),
    Fetched(Result<String, Error>),
    Written,
    Unlocked,
}

#[derive(Debug)]
enum Job {
    Exec(usize, u32, Step),
    Deliver(usize, u32, Owned),
    Call(usize, usize),
}

struct Proc {
    creds: Credentials,
    waiters: BTreeMap<u32, Vec<Waiter>>,
    kinds: BTreeMap<u32, CredKind>,
    dead: bool,
}

struct World {
    now: u64,
    rng: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    jobs: Vec<Option<Job>>,
    procs: Vec<Proc>,
    store: Option<String>,
    store_down: bool,
    can_lock: bool,
    locks: BTreeMap<String, (usize, u32, u64)>,
    token_fetches: u32,
    ticket_fetches: u32,
    valid_token: Option<String>,
    /// Kill this process when it starts its first fetch.
    kill_on_fetch: Option<usize>,
    results: Vec<Option<Result<String, Error>>>,
}

fn config() -> CredentialConfig {
    CredentialConfig::with_timeout(1_000)
}

impl World {
    fn new(seed: u64, procs: usize, can_lock: bool) -> World {
        World {
            now: 1_000_000,
            rng: seed.wrapping_mul(6_364_136_223_846_793_005) | 1,
            seq: 0,
            queue: BinaryHeap::new(),
            jobs: Vec::new(),
            procs: (0..procs)
                .map(|_| Proc {
                    creds: Credentials::new(config()),
                    waiters: BTreeMap::new(),
                    kinds: BTreeMap::new(),
                    dead: false,
                })
                .collect(),
            store: None,
            store_down: false,
            can_lock,
            locks: BTreeMap::new(),
            token_fetches: 0,
            ticket_fetches: 0,
            valid_token: None,
            kill_on_fetch: None,
            results: Vec::new(),
        }
    }

    fn rand(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n.max(1)
    }

    fn at(&mut self, delay: u64, job: Job) {
        self.seq += 1;
        self.jobs.push(Some(job));
        self.queue
            .push(Reverse((self.now + delay, self.seq, self.jobs.len() - 1)));
    }

    fn caller(&mut self, proc: usize, start: u64) -> usize {
        self.results.push(None);
        let id = self.results.len() - 1;
        self.at(start, Job::Call(proc, id));
        id
    }

    fn run(&mut self) {
        while let Some(Reverse((time, _, job))) = self.queue.pop() {
            self.now = time;
            let Some(job) = self.jobs[job].take() else {
                continue;
            };
            match job {
                Job::Call(p, id) if !self.procs[p].dead => self.call(p, id),
                Job::Exec(p, f, step) if !self.procs[p].dead => self.exec(p, f, step),
                Job::Deliver(p, f, event) if !self.procs[p].dead => self.deliver(p, f, event),
                _ => {}
            }
        }
    }

    fn call(&mut self, p: usize, id: usize) {
        let now = self.now;
        if let Some(cred) = self
            .store
            .as_deref()
            .and_then(|s| self.procs[p].creds.current(CredKind::Ticket, s, now))
        {
            self.results[id] = Some(Ok(cred.value));
            return;
        }
        self.begin(p, CredKind::Ticket, None, Waiter::Caller(id));
    }

    fn begin(&mut self, p: usize, kind: CredKind, stale: Option<String>, waiter: Waiter) {
        let (can_lock, now) = (self.can_lock, self.now);
        match self.procs[p].creds.begin(kind, "", stale, can_lock, now) {
            Begin::Joined(f) => self.procs[p].waiters.entry(f).or_default().push(waiter),
            Begin::Started(f, step) => {
                self.procs[p].waiters.entry(f).or_default().push(waiter);
                self.procs[p].kinds.insert(f, kind);
                self.at(0, Job::Exec(p, f, step));
            }
        }
    }

    fn exec(&mut self, p: usize, f: u32, step: Step) {
        let latency = 1 + self.rand(40);
        let now = self.now;
        let event = match step {
            Step::Lock { name, ttl_ms } => {
                let free = self
                    .locks
                    .get(&name)
                    .is_none_or(|(_, _, until)| *until <= now);
                if free {
                    self.locks.insert(name, (p, f, now + ttl_ms));
                }
                Owned::Locked(Ok(free))
            }
            Step::Read if self.store_down => {
                Owned::Read(Err(Error::new(ErrorCode::StoreUnavailable, "down")))
            }
            Step::Read => Owned::Read(Ok(self.store.clone())),
            Step::Sleep(ms) => return self.at(ms, Job::Deliver(p, f, Owned::Slept)),
            Step::NeedToken { stale } => {
                let current = self
                    .store
                    .as_deref()
                    .and_then(|s| self.procs[p].creds.current(CredKind::Token, s, now));
                match current.filter(|c| Some(&c.value) != stale.as_ref()) {
                    Some(c) => Owned::Token(Ok(c.value)),
                    None => return self.begin(p, CredKind::Token, stale, Waiter::Ticket(f)),
                }
            }
            Step::Fetch { arg } => {
                if self.kill_on_fetch == Some(p) {
                    self.procs[p].dead = true;
                    return;
                }
                if self.procs[p].kinds[&f] == CredKind::Token {
                    self.token_fetches += 1;
                    let token = format!("token-{}", self.token_fetches);
                    self.valid_token = Some(token.clone());
                    Owned::Fetched(Ok(format!(
                        r#"{{"access_token":"{token}","expires_in":7200}}"#
                    )))
                } else if Some(&arg) == self.valid_token.as_ref() {
                    self.ticket_fetches += 1;
                    Owned::Fetched(Ok(format!(
                        r#"{{"errcode":0,"ticket":"ticket-{}","expires_in":7200}}"#,
                        self.ticket_fetches
                    )))
                } else {
                    Owned::Fetched(Ok(
                        r#"{"errcode":40001,"errmsg":"invalid credential"}"#.into()
                    ))
                }
            }
            Step::Write { patch } => {
                let mut record = RawObject::parse(self.store.as_deref().unwrap_or("{}")).unwrap();
                for (k, v) in RawObject::parse(&patch).unwrap().members() {
                    record.set_raw(k, v);
                }
                self.store = Some(record.to_json());
                Owned::Written
            }
            Step::Unlock => {
                self.locks.retain(|_, (lp, lf, _)| !(*lp == p && *lf == f));
                Owned::Unlocked
            }
            Step::Done(result) => {
                for waiter in self.procs[p].waiters.remove(&f).unwrap_or_default() {
                    match waiter {
                        Waiter::Caller(id) => {
                            self.results[id] = Some(result.clone().map(|c| c.value))
                        }
                        Waiter::Ticket(t) => self.at(
                            0,
                            Job::Deliver(p, t, Owned::Token(result.clone().map(|c| c.value))),
                        ),
                    }
                }
                return;
            }
        };
        self.at(latency, Job::Deliver(p, f, event));
    }

    fn deliver(&mut self, p: usize, f: u32, event: Owned) {
        let event = match &event {
            Owned::Locked(r) => Event::Locked(r.clone()),
            Owned::Slept => Event::Slept,
            Owned::Read(r) => Event::Read(r.as_ref().map(|o| o.as_deref()).map_err(Clone::clone)),
            Owned::Token(r) => Event::Token(r.clone()),
            Owned::Fetched(r) => Event::Fetched(r.as_deref().map_err(Clone::clone)),
            Owned::Written => Event::Written,
            Owned::Unlocked => Event::Unlocked,
        };
        let now = self.now;
        let step = self.procs[p]
            .creds
            .advance(f, event, now)
            .expect("flight exists");
        self.at(0, Job::Exec(p, f, step));
    }

    fn tickets(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .results
            .iter()
            .map(|r| r.clone().expect("settled").expect("ok"))
            .collect();
        out.dedup();
        out
    }
}

fn seeds() -> u64 {
    std::env::var("WXSESSION_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

#[test]
fn a_cold_cluster_fetches_one_token_and_one_ticket() {
    for seed in 0..seeds() {
        let mut w = World::new(seed, 4, true);
        for p in 0..4 {
            for _ in 0..250 {
                let start = w.rand(30);
                w.caller(p, start);
            }
        }
        w.run();
        assert_eq!((w.token_fetches, w.ticket_fetches), (1, 1), "seed {seed}");
        assert_eq!(w.tickets(), vec!["ticket-1".to_owned()], "seed {seed}");
        assert!(w.locks.is_empty() && w.procs.iter().all(|p| p.creds.in_flight() == 0));
    }
}

#[test]
fn a_holder_that_dies_mid_fetch_is_replaced_after_its_lock_expires() {
    for seed in 0..seeds() {
        let mut w = World::new(seed, 3, true);
        w.kill_on_fetch = Some(0);
        let first = w.caller(0, 0);
        for p in 1..3 {
            for _ in 0..20 {
                let start = 5 + w.rand(30);
                w.caller(p, start);
            }
        }
        let began = w.now;
        w.run();
        assert!(
            w.results[first].is_none(),
            "the dead process resolves nothing"
        );
        let survivors: Vec<_> = w.results[1..]
            .iter()
            .map(|r| r.clone().expect("settled").expect("ok"))
            .collect();
        assert!(survivors.iter().all(|t| *t == survivors[0]), "seed {seed}");
        assert_eq!(
            (w.token_fetches, w.ticket_fetches),
            (1, 1),
            "seed {seed}: the dead holder never fetched"
        );
        assert!(
            w.now - began >= config().lock_ttl_ms,
            "waited for the dead holder's lock"
        );
    }
}

#[test]
fn a_rejected_token_is_replaced_only_if_the_store_still_holds_it() {
    for seed in 0..seeds() {
        let mut w = World::new(seed, 2, true);
        // Both processes believe in token-0, which WeChat no longer accepts.
        w.store = Some(format!(
            r#"{{"accessToken":"token-0","accessTokenRefreshAt":{}}}"#,
            w.now + 3_600_000
        ));
        for p in 0..2 {
            for _ in 0..50 {
                let start = w.rand(30);
                w.caller(p, start);
            }
        }
        w.run();
        assert_eq!(
            w.token_fetches, 1,
            "seed {seed}: compare-and-expire, one new token"
        );
        assert_eq!(w.tickets().len(), 1, "seed {seed}");
        assert!(w.ticket_fetches <= 2, "seed {seed}");
    }
}

#[test]
fn without_a_lock_one_process_still_fetches_once() {
    let mut w = World::new(7, 1, false);
    for _ in 0..100 {
        let start = w.rand(10);
        w.caller(0, start);
    }
    w.run();
    assert_eq!((w.token_fetches, w.ticket_fetches), (1, 1));
    assert_eq!(w.tickets().len(), 1);
}

#[test]
fn a_ticket_rejected_twice_fails_with_wechats_error_instead_of_looping() {
    let mut creds = Credentials::new(config());
    let Begin::Started(f, step) = creds.begin(CredKind::Ticket, "", None, false, 0) else {
        panic!()
    };
    assert_eq!(step, Step::Read);
    assert_eq!(
        creds.advance(f, Event::Read(Ok(None)), 0).unwrap(),
        Step::NeedToken { stale: None }
    );
    assert_eq!(
        creds.advance(f, Event::Token(Ok("A".into())), 0).unwrap(),
        Step::Fetch { arg: "A".into() }
    );
    let rejected = r#"{"errcode":42001,"errmsg":"access_token expired"}"#;
    assert_eq!(
        creds.advance(f, Event::Fetched(Ok(rejected)), 0).unwrap(),
        Step::NeedToken {
            stale: Some("A".into())
        }
    );
    creds.advance(f, Event::Token(Ok("B".into())), 0).unwrap();
    let Step::Done(Err(e)) = creds.advance(f, Event::Fetched(Ok(rejected)), 0).unwrap() else {
        panic!()
    };
    assert_eq!(e.wechat, Some((42001, "access_token expired".into())));
    assert_eq!(creds.in_flight(), 0);
    assert!(
        creds.advance(f, Event::Slept, 0).is_err(),
        "a finished flight takes no more events"
    );
}

#[test]
fn waiters_give_up_with_the_store_error_once_the_wait_outlasts_any_lock() {
    let mut w = World::new(3, 1, true);
    w.store_down = true;
    w.locks.insert("lock:ticket".into(), (9, 9, u64::MAX));
    w.caller(0, 0);
    let began = w.now;
    w.run();
    let err = w.results[0].clone().unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::StoreUnavailable);
    assert!(w.now - began >= config().wait_ms);
    assert_eq!(w.token_fetches, 0);
}

#[test]
fn manual_refreshes_are_limited_per_window() {
    let mut creds = Credentials::new(config());
    for i in 0..5 {
        creds.manual_refresh(i * 1000).unwrap();
    }
    let e = creds.manual_refresh(10_000).unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(e.message.contains("7190 s"), "{}", e.message);
    creds.manual_refresh(7_200_000).unwrap();
}

#[test]
fn options_parse_strictly() {
    let c = CredentialConfig::from_json(r#"{"timeout":2000,"margin":60000}"#).unwrap();
    assert_eq!(
        (c.margin_ms, c.lock_ttl_ms, c.wait_ms),
        (60_000, 9_000, 12_000)
    );
    for bad in [
        r#"{"timeout":"1"}"#,
        r#"{"margin":-1}"#,
        r#"{"nope":1}"#,
        "[]",
    ] {
        assert_eq!(
            CredentialConfig::from_json(bad).unwrap_err().code,
            ErrorCode::BadConfig,
            "{bad}"
        );
    }
}

#[test]
fn the_memo_serves_warm_calls_until_refresh_time_and_forgets_rejected_values() {
    let mut creds = Credentials::new(config());
    let info = r#"{"accessToken":"A","accessTokenRefreshAt":100,"jsapi_ticket":"T","jsapiTicketRefreshAt":100,"jsapiTicketToken":"A"}"#;
    assert!(creds.cached(CredKind::Token, 0).is_none());
    creds.current(CredKind::Token, info, 0).unwrap();
    creds.current(CredKind::Ticket, info, 0).unwrap();
    creds.current(CredKind::Token, info, 0).unwrap();
    assert_eq!(
        creds.cached(CredKind::Ticket, 0).unwrap().value,
        "T",
        "the same token keeps its ticket"
    );
    assert_eq!(creds.cached(CredKind::Token, 99).unwrap().value, "A");
    assert!(
        creds.cached(CredKind::Token, 100).is_none(),
        "not past its refresh time"
    );
    // A new token drops the ticket fetched with the old one.
    let Begin::Started(f, _) = creds.begin(CredKind::Token, "", Some("A".into()), false, 0) else {
        panic!()
    };
    assert!(
        creds.cached(CredKind::Token, 0).is_none(),
        "a rejected token is forgotten at once"
    );
    assert_eq!(creds.cached(CredKind::Ticket, 0).unwrap().value, "T");
    creds.advance(f, Event::Read(Ok(None)), 0).unwrap();
    creds
        .advance(
            f,
            Event::Fetched(Ok(r#"{"access_token":"B","expires_in":7200}"#)),
            0,
        )
        .unwrap();
    assert!(matches!(
        creds.advance(f, Event::Written, 0).unwrap(),
        Step::Done(Ok(_))
    ));
    assert_eq!(creds.cached(CredKind::Token, 0).unwrap().value, "B");
    assert!(creds.cached(CredKind::Ticket, 0).is_none());
}
