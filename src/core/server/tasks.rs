//! The operations as tasks: store reads and writes, flushes, re-reads,
//! signatures, API calls and code exchanges. Credential refreshes are in
//! `refresh.rs`; "get me a usable credential" is `need.rs`.

use super::config::DEFAULT_RECHECK_MS;
use super::io::{ApiCall, Io, Out};
use super::need::{Got, Need, Which};
use super::refresh::RefreshTask;
use super::sessions::{ListTask, LoginTask, RevokeTask, VerifyTask};
use super::wechat;
use super::{Cx, Event, FlightKey, Next, Op};
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::RawObject;
use crate::core::signature::{sign_jsapi, signed_url};
use crate::core::store::meta::Slot;
use crate::core::store::record::{check_id, json_str, object_text, parse_info};
use crate::core::store::{Incoming, Kind, Lookup, Payload, Record};

pub(crate) enum Task<P> {
    /// Finishes at once (waiting on a flight that may have ended).
    Noop,
    /// Waits for a flight and resolves with its result.
    Join(FlightKey, Option<Box<Task<P>>>),
    Load(LoadTask),
    /// A memory or backend read; a signature's after the global record is
    /// re-read if due (`true` once it was).
    Get(Kind, String, bool),
    Save(SaveTask<P>),
    Flush(FlushTask),
    Clear,
    Reread(RereadTask),
    Cred(Need, bool),
    Refresh(Box<RefreshTask>),
    Sign(SignTask),
    Api(ApiTask),
    Exchange(ExchangeTask<P>),
    Manual(Option<Need>),
    Login(Box<LoginTask>),
    Verify(Box<VerifyTask>),
    Revoke(Box<RevokeTask<P>>),
    List(Box<ListTask<P>>),
}

fn bad_input(m: &str) -> Error {
    Error::new(ErrorCode::BadInput, m)
}

fn code_ok(code: &str) -> Result<(), Error> {
    if code.is_empty() || code.len() > 512 || code.chars().any(char::is_control) {
        return Err(bad_input(
            "the code must be a non-empty string of at most 512 characters",
        ));
    }
    Ok(())
}

/// The task for a caller's operation; input the core can refuse is refused
/// here, before anything runs.
pub(crate) fn for_op<P: Payload>(op: Op<P>, wechat: bool) -> Result<Task<P>, Error> {
    let needs_wechat = !matches!(op, Op::Get { .. } | Op::Save { .. } | Op::Flush | Op::Clear);
    if needs_wechat && !wechat {
        return Err(Error::new(
            ErrorCode::BadConfig,
            "no Wechat is attached to this store",
        ));
    }
    Ok(match op {
        Op::Get { kind, id } => {
            check_id(kind, &id)?;
            Task::Get(kind, id, false)
        }
        Op::Save {
            kind,
            id,
            info,
            made,
            merge,
            flush,
        } => {
            check_id(kind, &id)?;
            parse_info(&info)?;
            Task::Save(SaveTask {
                kind,
                id,
                info,
                made,
                merge,
                flush,
                stored: None,
            })
        }
        Op::Flush => Task::Join(FlightKey::Flush(0), None),
        Op::Clear => Task::Clear,
        Op::Credential { which, force } => {
            if let Which::OAuth(key) = &which {
                check_id(Kind::OAuth, key)?;
            }
            Task::Cred(
                if force {
                    Need::forced(which)
                } else {
                    Need::new(which, None)
                },
                false,
            )
        }
        Op::OAuthRefresh { key } => {
            check_id(Kind::OAuth, &key)?;
            Task::Cred(Need::forced(Which::OAuth(key)), true)
        }
        Op::Signature { url, force } => {
            let url = signed_url(&url).to_owned();
            check_id(Kind::Signature, &url)?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(bad_input(
                    "the page URL must start with http:// or https://",
                ));
            }
            let sign = Task::Sign(SignTask {
                url: url.clone(),
                force,
                need: Need::new(Which::Ticket, None),
                ticket: None,
                loaded: false,
            });
            Task::Join(FlightKey::Sign(url, force), Some(Box::new(sign)))
        }
        Op::Api { call } => {
            if !call.path.starts_with('/') || call.path.len() > 1024 {
                return Err(bad_input(
                    "the API path must start with / (at most 1024 characters)",
                ));
            }
            Task::Api(ApiTask {
                call,
                need: Need::new(Which::Token, None),
                token: None,
                attempt: 0,
            })
        }
        Op::OAuthExchange { code, key } => {
            code_ok(&code)?;
            if let Some(key) = &key {
                check_id(Kind::OAuth, key)?;
            }
            let flight = FlightKey::Exchange(format!("oauth:{code}"));
            Task::Join(
                flight,
                Some(Box::new(Task::Exchange(ExchangeTask {
                    code,
                    oauth_key: Some(key),
                    writing: None,
                }))),
            )
        }
        Op::Code2Session { code } => {
            code_ok(&code)?;
            let flight = FlightKey::Exchange(format!("js:{code}"));
            Task::Join(
                flight,
                Some(Box::new(Task::Exchange(ExchangeTask {
                    code,
                    oauth_key: None,
                    writing: None,
                }))),
            )
        }
        Op::ManualRefresh => Task::Manual(None),
        Op::SessionLogin {
            code,
            entropy,
            data,
        } => {
            code_ok(&code)?;
            if let Some(data) = &data {
                if data.len() > 16 * 1024 || RawObject::parse(data).is_err() {
                    return Err(bad_input(
                        "session data must be a JSON object of at most 16 KiB",
                    ));
                }
            }
            let flight = FlightKey::Exchange(format!("login:{code}"));
            Task::Join(
                flight,
                Some(Box::new(Task::Login(Box::new(LoginTask::new(
                    code, entropy, data,
                ))))),
            )
        }
        Op::SessionVerify { token } => Task::Verify(Box::new(VerifyTask::new(&token, true, None)?)),
        Op::SessionRevoke { token } => Task::Revoke(Box::new(RevokeTask::session(&token)?)),
        Op::SessionRevokeUser { openid } => {
            check_id(Kind::MpSession, &openid)?;
            Task::Revoke(Box::new(RevokeTask::user(openid)))
        }
        Op::SessionList { openid } => {
            check_id(Kind::MpSession, &openid)?;
            Task::List(Box::new(ListTask::new(openid)))
        }
        Op::SessionDecrypt {
            token,
            encrypted,
            iv,
        } => Task::Verify(Box::new(VerifyTask::new(
            &token,
            false,
            Some((encrypted, iv)),
        )?)),
    })
}

impl<P: Payload> Task<P> {
    pub(crate) fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match self {
            Task::Noop => Next::Done(Ok(Out::Unit)),
            Task::Join(key, inner) => match event {
                Event::Start => {
                    let key = match key {
                        // A flush asked for during one runs after it.
                        FlightKey::Flush(_) => FlightKey::Flush(cx.flush.started + 1),
                        key => key.clone(),
                    };
                    let task = match (inner.take(), &key) {
                        (Some(task), _) => *task,
                        (None, FlightKey::Flush(gen)) => Task::Flush(FlushTask::new(*gen)),
                        (None, _) => Task::Noop,
                    };
                    Next::Wait(key, task)
                }
                Event::Flight(result) => Next::Done(result),
                Event::Io(..) => Next::Done(Err(unexpected())),
            },
            Task::Load(t) => t.resume(cx, event),
            Task::Get(kind, id, reread) => match event {
                Event::Start | Event::Flight(Ok(Out::Unit))
                    if *kind == Kind::Signature && !*reread && global_due(cx) =>
                {
                    *reread = true;
                    let task = Task::Reread(RereadTask::new(Kind::Global, ""));
                    Next::Wait(FlightKey::Reread(Kind::Global.key("")), task)
                }
                Event::Start | Event::Flight(Ok(Out::Unit)) => {
                    match cx.store.lookup(*kind, id, cx.now) {
                        Ok(Lookup::Hit(p)) => Next::Done(Ok(Out::Info(Some(p)))),
                        Ok(Lookup::Absent) => Next::Done(Ok(Out::Info(None))),
                        Ok(Lookup::Load { key, .. }) => {
                            Next::Wait(FlightKey::Load(key), Task::Load(LoadTask::new(*kind, id)))
                        }
                        Err(e) => Next::Done(Err(e)),
                    }
                }
                Event::Flight(Ok(Out::Record(r))) => {
                    Next::Done(Ok(Out::Info(r.map(|r| r.payload))))
                }
                Event::Flight(result) => Next::Done(result),
                Event::Io(..) => Next::Done(Err(unexpected())),
            },
            Task::Save(t) => t.resume(cx, event),
            Task::Flush(t) => t.resume(cx, event),
            Task::Clear => match event {
                Event::Start => {
                    cx.store.clear();
                    if cx.settings.has_backend {
                        Next::Io(Io::Clear)
                    } else {
                        Next::Done(Ok(Out::Unit))
                    }
                }
                Event::Io(_, answer) => Next::Done(answer.map(|_| Out::Unit)),
                Event::Flight(_) => Next::Done(Err(unexpected())),
            },
            Task::Reread(t) => t.resume(cx, event),
            Task::Cred(need, info) => {
                let got = match event {
                    Event::Start => need.step(cx),
                    Event::Flight(result) => need.on_flight(cx, result),
                    Event::Io(..) => return Next::Done(Err(unexpected())),
                };
                match got {
                    Got::Ready(_) if *info => {
                        let (kind, id) = need.which().record();
                        let record = cx.store.record(kind, id, cx.now).map(|r| r.payload.clone());
                        Next::Done(Ok(Out::Info(record)))
                    }
                    Got::Ready(slot) => Next::Done(Ok(Out::Cred(slot))),
                    Got::Next(next) => next,
                }
            }
            Task::Refresh(t) => t.resume(cx, event),
            Task::Sign(t) => t.resume(cx, event),
            Task::Api(t) => t.resume(cx, event),
            Task::Exchange(t) => t.resume(cx, event),
            Task::Manual(need) => manual(need, cx, event),
            Task::Login(t) => t.resume(cx, event),
            Task::Verify(t) => t.resume(cx, event),
            Task::Revoke(t) => t.resume(cx, event),
            Task::List(t) => t.resume(cx, event),
        }
    }
}

fn unexpected() -> Error {
    Error::new(ErrorCode::BadInput, "a step arrived out of order")
}

pub(crate) struct LoadTask {
    kind: Kind,
    id: String,
    epoch: u32,
}

impl LoadTask {
    pub fn new(kind: Kind, id: &str) -> LoadTask {
        LoadTask {
            kind,
            id: id.to_owned(),
            epoch: 0,
        }
    }

    fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start => {
                self.epoch = cx.store.epoch();
                Next::Io(Io::Get {
                    key: self.kind.key(&self.id),
                })
            }
            Event::Io(_, Ok(raw)) => Next::Done(
                cx.store
                    .loaded(self.kind, &self.id, raw, self.epoch, cx.now)
                    .map(Out::Record),
            ),
            Event::Io(_, Err(e)) => Next::Done(Err(e)),
            Event::Flight(_) => Next::Done(Err(unexpected())),
        }
    }
}

/// Whether the global record may hold another process's refresh unseen.
fn global_due<P: Payload>(cx: &Cx<P>) -> bool {
    let recheck = cx.cfg.map_or(DEFAULT_RECHECK_MS, |c| c.recheck_ms);
    cx.store.due_for_recheck(Kind::Global, "", cx.now, recheck)
}

/// A credential record read again past the cache.
pub(crate) struct RereadTask {
    kind: Kind,
    id: String,
    epoch: u32,
}

impl RereadTask {
    pub fn new(kind: Kind, id: &str) -> RereadTask {
        RereadTask {
            kind,
            id: id.to_owned(),
            epoch: 0,
        }
    }

    fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start => {
                self.epoch = cx.store.epoch();
                Next::Io(Io::Get {
                    key: self.kind.key(&self.id),
                })
            }
            // A failed or unreadable read keeps what memory has: the
            // refresh that may follow reports the store's own error.
            Event::Io(_, answer) => {
                cx.store
                    .reread(self.kind, &self.id, answer, self.epoch, cx.now);
                Next::Done(Ok(Out::Unit))
            }
            Event::Flight(_) => Next::Done(Err(unexpected())),
        }
    }
}

pub(crate) struct SaveTask<P> {
    kind: Kind,
    id: String,
    info: String,
    made: Option<P>,
    merge: bool,
    flush: bool,
    stored: Option<P>,
}

impl<P: Payload> SaveTask<P> {
    fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start => {
                if self.merge && cx.settings.has_backend && !cx.store.is_known(self.kind, &self.id)
                {
                    let key = self.kind.key(&self.id);
                    return Next::Wait(
                        FlightKey::Load(key),
                        Task::Load(LoadTask::new(self.kind, &self.id)),
                    );
                }
                let base = cx.store.record(self.kind, &self.id, cx.now).cloned();
                self.apply(cx, base)
            }
            Event::Flight(Ok(Out::Record(base))) if self.stored.is_none() => self.apply(cx, base),
            Event::Flight(Ok(_)) => Next::Done(Ok(Out::Info(self.stored.take()))),
            Event::Flight(Err(e)) => Next::Done(Err(e)),
            Event::Io(..) => Next::Done(Err(unexpected())),
        }
    }

    fn apply(&mut self, cx: &mut Cx<P>, base: Option<Record<P>>) -> Next<P> {
        let info = std::mem::take(&mut self.info);
        let incoming = Incoming {
            info: &info,
            merge: self.merge,
            made: self.made.take(),
        };
        match cx
            .store
            .save_onto(self.kind, &self.id, base.as_ref(), incoming, cx.now)
        {
            Ok(stored) if self.flush && cx.settings.has_backend => {
                self.stored = Some(stored);
                Next::Wait(
                    FlightKey::Flush(cx.flush.started + 1),
                    Task::Flush(FlushTask::new(cx.flush.started + 1)),
                )
            }
            Ok(stored) => Next::Done(Ok(Out::Info(Some(stored)))),
            Err(e) => Next::Done(Err(e)),
        }
    }
}

pub(crate) struct FlushTask {
    gen: u32,
    keys: Vec<String>,
    left: usize,
    failures: Vec<Error>,
}

impl FlushTask {
    fn new(gen: u32) -> FlushTask {
        FlushTask {
            gen,
            keys: Vec::new(),
            left: 0,
            failures: Vec::new(),
        }
    }

    fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        match event {
            Event::Start if cx.flush.done + 1 < self.gen => {
                // The flush before this one is still writing: wait for it.
                Next::Wait(FlightKey::Flush(self.gen - 1), Task::Noop)
            }
            Event::Start | Event::Flight(_) => {
                cx.flush.started = self.gen;
                let batch = cx.store.flush_batch(cx.now);
                if batch.is_empty() {
                    return self.done(cx);
                }
                self.left = batch.len();
                let mut ios = Vec::with_capacity(batch.len());
                for w in batch {
                    self.keys.push(w.key.clone());
                    ios.push(match w.value {
                        Some(value) => Io::Set {
                            key: w.key,
                            value,
                            ttl_ms: w.ttl_ms,
                        },
                        None => Io::Delete { key: w.key },
                    });
                }
                Next::Many(ios)
            }
            Event::Io(i, answer) => {
                let ok = answer.is_ok();
                if let Err(e) = answer {
                    self.failures.push(e);
                }
                cx.store.write_done(&self.keys[i], ok, cx.now);
                self.left -= 1;
                if self.left > 0 {
                    Next::Pending
                } else {
                    self.done(cx)
                }
            }
        }
    }

    fn done<P: Payload>(&mut self, cx: &mut Cx<P>) -> Next<P> {
        cx.flush.done = cx.flush.done.max(self.gen);
        if self.failures.is_empty() {
            return Next::Done(Ok(Out::Unit));
        }
        let first = self.failures.swap_remove(0);
        let code = match first.code {
            ErrorCode::StoreCorrupt | ErrorCode::StoreUnavailable | ErrorCode::BadInput => {
                first.code
            }
            _ => ErrorCode::StoreUnavailable,
        };
        let mut e = Error::new(
            code,
            format!(
                "{} of {} writes failed (kept in memory, retried on the next flush): {}",
                self.failures.len() + 1,
                self.keys.len(),
                first.message
            ),
        );
        e.cause = first.cause;
        Next::Done(Err(e))
    }
}

pub(crate) struct SignTask {
    url: String,
    force: bool,
    need: Need,
    ticket: Option<Slot>,
    loaded: bool,
}

impl SignTask {
    fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        if self.ticket.is_none() {
            let got = match event {
                Event::Start => self.need.step(cx),
                Event::Flight(result) => self.need.on_flight(cx, result),
                Event::Io(..) => return Next::Done(Err(unexpected())),
            };
            return match got {
                Got::Ready(slot) => {
                    self.ticket = Some(slot);
                    self.cached_or_sign(cx)
                }
                Got::Next(next) => next,
            };
        }
        match event {
            Event::Flight(Err(e)) => Next::Done(Err(e)),
            _ => self.cached_or_sign(cx),
        }
    }

    fn cached_or_sign<P: Payload>(&mut self, cx: &mut Cx<P>) -> Next<P> {
        if !self.force {
            match cx.store.lookup(Kind::Signature, &self.url, cx.now) {
                Ok(Lookup::Hit(payload)) => {
                    if let Some(view) = cx.store.view(Kind::Signature, &self.url) {
                        return Next::Done(Ok(Out::Signature(view.clone())));
                    }
                    let cfg_app = cx.cfg.map(|c| c.app_id.clone()).unwrap_or_default();
                    if let Some(view) = view_of(&cfg_app, &payload.to_json(), &self.url) {
                        let view = P::from_json(&view);
                        cx.store.set_view(Kind::Signature, &self.url, view.clone());
                        return Next::Done(Ok(Out::Signature(view)));
                    }
                }
                Ok(Lookup::Load { key, .. }) if !self.loaded => {
                    self.loaded = true;
                    return Next::Wait(
                        FlightKey::Load(key),
                        Task::Load(LoadTask::new(Kind::Signature, &self.url)),
                    );
                }
                Err(e) => return Next::Done(Err(e)),
                _ => {}
            }
        }
        self.sign(cx)
    }

    fn sign<P: Payload>(&mut self, cx: &mut Cx<P>) -> Next<P> {
        let (Some(ticket), Some(cfg)) = (&self.ticket, cx.cfg) else {
            return Next::Done(Err(unexpected()));
        };
        let nonce = match cx.rng.alphanumeric(16) {
            Ok(n) => n,
            Err(e) => return Next::Done(Err(e)),
        };
        let now = cx.now;
        let timestamp = (now / 1000).to_string();
        let signature = sign_jsapi(&ticket.value, &nonce, &timestamp, &self.url);
        let info = object_text(&[
            ("jsapi_ticket", json_str(&ticket.value)),
            ("nonceStr", json_str(&nonce)),
            ("timestamp", json_str(&timestamp)),
            ("url", json_str(&self.url)),
            ("signature", json_str(&signature)),
            // Expires with its ticket, so the store never keeps it past use.
            ("expiresAt", ticket.refresh_at.to_string()),
            ("modifyDate", now.to_string()),
        ]);
        let record = match Record::from_info(Kind::Signature, &info, now) {
            Ok(r) => r,
            Err(e) => return Next::Done(Err(e)),
        };
        cx.store.put(Kind::Signature, &self.url, record, now);
        let view = P::from_json(&view_text(
            &cfg.app_id,
            &timestamp,
            &nonce,
            &signature,
            &self.url,
        ));
        cx.store.set_view(Kind::Signature, &self.url, view.clone());
        Next::Done(Ok(Out::Signature(view)))
    }
}

/// `{appId, timestamp, nonceStr, signature, url}`: what wx.config takes.
fn view_text(app_id: &str, timestamp: &str, nonce: &str, signature: &str, url: &str) -> String {
    object_text(&[
        ("appId", json_str(app_id)),
        ("timestamp", json_str(timestamp)),
        ("nonceStr", json_str(nonce)),
        ("signature", json_str(signature)),
        ("url", json_str(url)),
    ])
}

/// The view of a stored signature made elsewhere, if it has every field.
fn view_of(app_id: &str, info: &str, url: &str) -> Option<String> {
    let obj = RawObject::parse(info).ok()?;
    let timestamp = obj
        .get_str("timestamp")
        .or_else(|| obj.get_int("timestamp").map(|n| n.to_string()))?;
    let nonce = obj.get_str("nonceStr")?;
    let signature = obj.get_str("signature")?;
    Some(view_text(app_id, &timestamp, &nonce, &signature, url))
}

pub(crate) struct ApiTask {
    call: ApiCall,
    need: Need,
    token: Option<String>,
    attempt: u8,
}

impl ApiTask {
    fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let got = match event {
            Event::Start => self.need.step(cx),
            Event::Flight(result) => self.need.on_flight(cx, result),
            Event::Io(_, Err(e)) => return Next::Done(Err(e)),
            Event::Io(_, Ok(body)) => {
                let body = body.unwrap_or("");
                return match wechat::parse(body) {
                    Ok(_) => Next::Done(Ok(Out::Reply(body.to_owned()))),
                    // The token was refused: replace it (if the store still
                    // holds it) and try once more.
                    Err(e) if e.is_token_rejection() && self.attempt == 0 => {
                        self.attempt = 1;
                        self.need = Need::new(Which::Token, self.token.take());
                        self.resume(cx, Event::Start)
                    }
                    Err(e) => Next::Done(Err(e)),
                };
            }
        };
        match got {
            Got::Ready(slot) => {
                let call = self.call.with_token(&slot.value);
                self.token = Some(slot.value);
                Next::Io(Io::Call(call))
            }
            Got::Next(next) => next,
        }
    }
}

pub(crate) struct ExchangeTask<P> {
    code: String,
    /// OAuth: the key to store under (None: the openid); None: code2Session.
    oauth_key: Option<Option<String>>,
    /// The OAuth record being written through: its backend key and payload.
    writing: Option<(String, P)>,
}

impl<P: Payload> ExchangeTask<P> {
    fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
        let Some(cfg) = cx.cfg else {
            return Next::Done(Err(unexpected()));
        };
        let body = match event {
            Event::Start => {
                return Next::Io(Io::Call(match self.oauth_key {
                    Some(_) => wechat::oauth_exchange_call(cfg, &self.code),
                    None => wechat::code2session_call(cfg, &self.code),
                }))
            }
            Event::Io(_, answer) if self.writing.is_some() => {
                // A failed write keeps the record dirty: the next flush retries.
                let (key, stored) = self.writing.take().expect("checked");
                cx.store.write_done(&key, answer.is_ok(), cx.now);
                return Next::Done(Ok(Out::Info(Some(stored))));
            }
            Event::Io(_, Err(e)) => return Next::Done(Err(e)),
            Event::Io(_, Ok(body)) => body.unwrap_or(""),
            Event::Flight(_) => return Next::Done(Err(unexpected())),
        };
        let Some(key) = self.oauth_key.take() else {
            return Next::Done(wechat::mini_program_session(body).map(Out::Reply));
        };
        let (info, _) = match wechat::oauth_info(body, cfg.margin_ms, cx.now) {
            Ok(parsed) => parsed,
            Err(e) => return Next::Done(Err(e)),
        };
        let Some(key) = key.or_else(|| wechat::openid(&info)) else {
            return Next::Done(Err(bad_input(
                "the OAuth reply has no openid to store it under",
            )));
        };
        let record = match check_id(Kind::OAuth, &key)
            .and_then(|_| Record::from_info(Kind::OAuth, &info, cx.now))
        {
            Ok(r) => r,
            Err(e) => return Next::Done(Err(e)),
        };
        let stored = cx.store.put(Kind::OAuth, &key, record, cx.now);
        // Written through at once, so another process can refresh it.
        match cx.store.write_now(Kind::OAuth, &key, cx.now) {
            Some(w) => {
                let value = w.value.unwrap_or_default();
                self.writing = Some((w.key.clone(), stored));
                Next::Io(Io::Set {
                    key: w.key,
                    value,
                    ttl_ms: w.ttl_ms,
                })
            }
            None => Next::Done(Ok(Out::Info(Some(stored)))),
        }
    }
}

fn manual<P: Payload>(need: &mut Option<Need>, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
    let Some(cfg) = cx.cfg else {
        return Next::Done(Err(unexpected()));
    };
    let got = match (need.as_mut(), event) {
        (None, Event::Start) => {
            let window = cfg.manual_window_ms;
            let now = cx.now;
            cx.manual.retain(|t| now < t + window);
            if cx.manual.len() >= cfg.manual_limit {
                let wait_s = (cx.manual[0] + window - now).div_ceil(1000);
                return Next::Done(Err(Error::new(
                    ErrorCode::RateLimited,
                    format!(
                        "at most {} manual refreshes per {} min; the next is allowed in {wait_s} s",
                        cfg.manual_limit,
                        window / 60_000
                    ),
                )));
            }
            cx.manual.push(now);
            let n = need.insert(Need::forced(Which::Token));
            n.step(cx)
        }
        (Some(n), Event::Flight(result)) => n.on_flight(cx, result),
        _ => return Next::Done(Err(unexpected())),
    };
    match got {
        Got::Ready(_) if need.as_ref().is_some_and(|n| *n.which() == Which::Token) => {
            let n = need.insert(Need::forced(Which::Ticket));
            match n.step(cx) {
                Got::Ready(_) => Next::Done(Ok(Out::Unit)),
                Got::Next(next) => next,
            }
        }
        Got::Ready(_) => Next::Done(Ok(Out::Unit)),
        Got::Next(next) => next,
    }
}
