//! A cluster on a virtual clock for the server core's tests: processes that
//! each run a `ServerCore` over one shared backend (with expiring keys and
//! locks) against a fake WeChat that counts fetches, invalidates a replaced
//! token or ticket after a grace period and rejects invalid tokens. Every
//! I/O takes a random latency (its effect lands part-way through), so each
//! seed is a different interleaving.

use super::config::{StoreSettings, WechatParams};
use super::io::{Action, Io, OpId, Out};
use super::{Op, ServerCore};
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::RawObject;
use crate::core::store::{Kind, StoreConfig};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

pub const GRACE_MS: u64 = 300_000;
pub const STORE_TIMEOUT: u64 = 1_000;

type Reply = Result<Option<String>, Error>;
/// When an operation finished, and how.
pub type Finished = (u64, Result<Out<String>, Error>);

enum Job {
    Start(usize, Op<String>, usize),
    Perform(usize, u32, Io),
    Answer(usize, u32, Reply),
}

pub struct Proc {
    pub core: ServerCore<String>,
    pub dead: bool,
    /// Caller tag of each operation started, by op id.
    ops: BTreeMap<OpId, usize>,
}

#[derive(Default)]
pub struct Wechat {
    pub token_fetches: u32,
    pub ticket_fetches: u32,
    /// (value, valid until): a replaced one stays valid for the grace.
    pub tokens: Vec<(String, u64)>,
    pub tickets: Vec<(String, u64)>,
    /// Extra latency for calls to this path (a stalled fetch).
    pub stall: BTreeMap<String, u64>,
    /// wx.login codes not redeemed yet: code -> openid.
    pub codes: BTreeMap<String, String>,
    /// The session_key jscode2session gave each openid last (rotated per login).
    pub session_keys: BTreeMap<String, String>,
    pub code2session_calls: u32,
}

pub struct World {
    pub now: u64,
    rng: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, usize)>>,
    jobs: Vec<Option<Job>>,
    pub procs: Vec<Proc>,
    pub backend: BTreeMap<String, (String, u64)>,
    pub backend_down: bool,
    /// This process's backend writes fail without landing (a timed-out SET).
    pub fail_sets: Option<usize>,
    pub can_lock: bool,
    locks: BTreeMap<String, (String, u64)>,
    pub wechat: Wechat,
    /// Kill this process when it starts a fetch.
    pub kill_on_fetch: Option<usize>,
    /// Results by caller tag.
    pub results: Vec<Option<Finished>>,
    pub max_latency: u64,
    /// Backend writes per key, as performed.
    pub writes: BTreeMap<String, u32>,
}

pub fn params(lock_ttl: u64, recheck: u64) -> WechatParams {
    WechatParams {
        app_id: "wxsim".into(),
        app_secret: "secret".into(),
        timeout_ms: Some(1_000),
        lock_ttl_ms: Some(lock_ttl),
        recheck_ms: Some(recheck),
        ..WechatParams::default()
    }
}

impl World {
    pub fn new(seed: u64, procs: usize, can_lock: bool) -> World {
        let mut w = World {
            now: 1_000_000,
            rng: seed.wrapping_mul(6_364_136_223_846_793_005) | 1,
            seq: 0,
            queue: BinaryHeap::new(),
            jobs: Vec::new(),
            procs: Vec::new(),
            backend: BTreeMap::new(),
            backend_down: false,
            fail_sets: None,
            can_lock,
            locks: BTreeMap::new(),
            wechat: Wechat::default(),
            kill_on_fetch: None,
            results: Vec::new(),
            max_latency: 40,
            writes: BTreeMap::new(),
        };
        for _ in 0..procs {
            w.add_proc(3_000, 60_000);
        }
        w
    }

    pub fn add_proc(&mut self, lock_ttl: u64, recheck: u64) -> usize {
        self.add_proc_on(true, lock_ttl, recheck)
    }

    /// A process whose Store has no backend: memory is its store.
    pub fn add_memory_proc(&mut self) -> usize {
        self.add_proc_on(false, 3_000, 60_000)
    }

    fn add_proc_on(&mut self, has_backend: bool, lock_ttl: u64, recheck: u64) -> usize {
        let settings = StoreSettings {
            has_backend,
            can_lock: self.can_lock,
            timeout_ms: STORE_TIMEOUT,
        };
        let config = StoreConfig {
            no_interval: true,
            ..StoreConfig::default()
        };
        let seed = self.rand(u64::MAX).to_le_bytes().repeat(4);
        let mut core = ServerCore::new(config, settings, &seed, self.now).unwrap();
        core.configure(params(lock_ttl, recheck)).unwrap();
        self.procs.push(Proc {
            core,
            dead: false,
            ops: BTreeMap::new(),
        });
        self.procs.len() - 1
    }

    pub fn rand(&mut self, n: u64) -> u64 {
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

    /// Starts `op` on `proc` after `delay` ms; returns the caller's tag.
    pub fn call(&mut self, proc: usize, op: Op<String>, delay: u64) -> usize {
        self.results.push(None);
        let tag = self.results.len() - 1;
        self.at(delay, Job::Start(proc, op, tag));
        tag
    }

    pub fn result(&self, tag: usize) -> &Result<Out<String>, Error> {
        &self.results[tag]
            .as_ref()
            .expect("the operation never finished")
            .1
    }

    /// Runs until nothing is left to do, or until `until`.
    pub fn run_until(&mut self, until: u64) {
        while let Some(Reverse((time, _, _))) = self.queue.peek() {
            if *time > until {
                break;
            }
            let Reverse((time, _, job)) = self.queue.pop().expect("peeked");
            self.now = time;
            let Some(job) = self.jobs[job].take() else {
                continue;
            };
            match job {
                Job::Start(p, op, tag) if !self.procs[p].dead => {
                    let (id, actions) = self.procs[p].core.start(op, self.now);
                    self.procs[p].ops.insert(id, tag);
                    self.apply(p, actions);
                }
                Job::Perform(p, id, io) if !self.procs[p].dead => self.perform(p, id, io),
                Job::Answer(p, id, reply) if !self.procs[p].dead => {
                    let now = self.now;
                    let actions = self.procs[p].core.complete(
                        id,
                        reply.as_ref().map(|o| o.as_deref()).map_err(Clone::clone),
                        now,
                    );
                    self.apply(p, actions);
                }
                _ => {}
            }
        }
        if until != u64::MAX {
            self.now = self.now.max(until);
        }
    }

    pub fn run(&mut self) {
        self.run_until(u64::MAX);
    }

    fn apply(&mut self, p: usize, actions: Vec<Action<String>>) {
        for action in actions {
            match action {
                Action::Io {
                    id,
                    io: Io::Sleep { ms },
                } => self.at(ms, Job::Answer(p, id, Ok(None))),
                Action::Io { id, io } => {
                    let a = 1 + self.rand(self.max_latency);
                    self.at(a, Job::Perform(p, id, io));
                }
                Action::Finish { op, result } => {
                    if let Some(tag) = self.procs[p].ops.remove(&op) {
                        self.results[tag] = Some((self.now, result));
                    }
                }
            }
        }
    }

    /// The effect lands now; the answer arrives after a second latency.
    fn perform(&mut self, p: usize, id: u32, io: Io) {
        let now = self.now;
        let mut back = 1 + self.rand(self.max_latency);
        let down = || Err(Error::new(ErrorCode::StoreUnavailable, "backend down"));
        let reply: Reply = match io {
            Io::Get { .. }
            | Io::Set { .. }
            | Io::Delete { .. }
            | Io::Lock { .. }
            | Io::Unlock { .. }
            | Io::Clear
                if self.backend_down =>
            {
                down()
            }
            Io::Set { .. } if self.fail_sets == Some(p) => {
                Err(Error::new(ErrorCode::StoreUnavailable, "write timed out"))
            }
            Io::Get { key } => Ok(self
                .backend
                .get(&key)
                .filter(|(_, until)| *until == 0 || *until > now)
                .map(|(v, _)| v.clone())),
            Io::Set { key, value, ttl_ms } => {
                *self.writes.entry(key.clone()).or_default() += 1;
                self.backend
                    .insert(key, (value, if ttl_ms == 0 { 0 } else { now + ttl_ms }));
                Ok(None)
            }
            Io::Delete { key } => {
                self.backend.remove(&key);
                Ok(None)
            }
            Io::Clear => {
                self.backend.retain(|k, _| key_survives_clear(k));
                Ok(None)
            }
            Io::Lock { name, ttl_ms } => {
                let free = self.locks.get(&name).is_none_or(|(_, until)| *until <= now);
                if free {
                    let token = format!("lock-{p}-{id}");
                    self.locks.insert(name, (token.clone(), now + ttl_ms));
                    Ok(Some(token))
                } else {
                    Ok(None)
                }
            }
            Io::Unlock { name, token } => {
                if self
                    .locks
                    .get(&name)
                    .is_some_and(|(t, until)| *t == token && *until > now)
                {
                    self.locks.remove(&name);
                }
                Ok(None)
            }
            Io::Call(call) => {
                if self.kill_on_fetch == Some(p) {
                    self.procs[p].dead = true;
                    return;
                }
                back += self.wechat.stall.get(&call.path).copied().unwrap_or(0);
                Ok(Some(self.wechat.answer(&call.path, &call.query, now)))
            }
            Io::Sleep { .. } => Ok(None),
        };
        self.at(back, Job::Answer(p, id, reply));
    }

    pub fn lock_until(&self, name: &str) -> Option<u64> {
        self.locks.get(name).map(|(_, until)| *until)
    }

    /// The ticket a signature view was made with, if any ticket ever issued.
    pub fn ticket_of(&self, view: &str) -> Option<String> {
        let obj = RawObject::parse(view).ok()?;
        let field = |k: &str| obj.get_str(k).unwrap_or_default();
        self.wechat
            .tickets
            .iter()
            .map(|(t, _)| t.clone())
            .find(|t| {
                crate::core::signature::sign_jsapi(
                    t,
                    &field("nonceStr"),
                    &field("timestamp"),
                    &field("url"),
                ) == field("signature")
            })
    }
}

fn valid(list: &[(String, u64)], value: &str, now: u64) -> bool {
    list.iter().any(|(v, until)| v == value && *until > now)
}

fn replace(list: &mut Vec<(String, u64)>, value: String, now: u64) {
    for (_, until) in list.iter_mut() {
        *until = (*until).min(now + GRACE_MS);
    }
    list.push((value, now + 7_200_000));
}

impl Wechat {
    fn answer(&mut self, path: &str, query: &[(String, String)], now: u64) -> String {
        let q = |k: &str| {
            query
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let rejected = r#"{"errcode":40001,"errmsg":"invalid credential"}"#.to_owned();
        match path {
            "/cgi-bin/token" | "/cgi-bin/stable_token" => {
                self.token_fetches += 1;
                let token = format!("T{}", self.token_fetches);
                replace(&mut self.tokens, token.clone(), now);
                format!(r#"{{"access_token":"{token}","expires_in":7200}}"#)
            }
            "/cgi-bin/ticket/getticket" if valid(&self.tokens, q("access_token"), now) => {
                self.ticket_fetches += 1;
                let ticket = format!("J{}", self.ticket_fetches);
                replace(&mut self.tickets, ticket.clone(), now);
                format!(r#"{{"errcode":0,"errmsg":"ok","ticket":"{ticket}","expires_in":7200}}"#)
            }
            "/sns/jscode2session" => {
                self.code2session_calls += 1;
                match self.codes.remove(q("js_code")) {
                    Some(openid) => {
                        let key = crate::core::wxcrypt::base64url(
                            &(self.code2session_calls as u128).to_le_bytes(),
                        )[..22]
                            .to_owned()
                            + "==";
                        let key = key.replace('-', "+").replace('_', "/");
                        self.session_keys.insert(openid.clone(), key.clone());
                        format!(
                            r#"{{"openid":"{openid}","session_key":"{key}","unionid":"u-{openid}"}}"#
                        )
                    }
                    None => r#"{"errcode":40029,"errmsg":"invalid code"}"#.to_owned(),
                }
            }
            _ if !valid(&self.tokens, q("access_token"), now) => rejected,
            _ => r#"{"errcode":0,"ip_list":["127.0.0.1"]}"#.to_owned(),
        }
    }

    /// A wx.login code for `openid`, usable once.
    pub fn issue_code(&mut self, openid: &str) -> String {
        let code = format!(
            "code-{}-{openid}",
            self.codes.len() + self.code2session_calls as usize
        );
        self.codes.insert(code.clone(), openid.to_owned());
        code
    }

    /// WeChat invalidates every token at once (a secret reset, say).
    pub fn invalidate_tokens(&mut self, now: u64) {
        for (_, until) in self.tokens.iter_mut() {
            *until = now;
        }
    }

    pub fn newest_ticket(&self) -> Option<&str> {
        self.tickets.last().map(|(t, _)| t.as_str())
    }
}

/// What a backend's `clear` keeps: the keys of the kinds that survive it
/// (the core's own rule, applied to the keys' prefixes).
fn key_survives_clear(key: &str) -> bool {
    // Every kind: the Store API's (`Kind::ALL`) and the app sessions' own.
    [Kind::AppSession, Kind::SessionIndex]
        .into_iter()
        .chain(Kind::ALL)
        .any(|k| k.survives_clear() && key.starts_with(&k.key("")))
}
