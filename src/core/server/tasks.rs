//! The operations as tasks: which task runs each caller operation, and the
//! dispatch. Store tasks are in `store_tasks.rs`, WeChat calls and signing in
//! `wechat_tasks.rs`, refreshes in `refresh.rs`, "a usable credential" in `need.rs`.

use super::io::{Io, Out};
use super::need::{Got, Need, Which};
use super::refresh::RefreshTask;
use super::sessions::{ListTask, LoginTask, RevokeTask, VerifyTask};
pub(crate) use super::store_tasks::{global_due, FlushTask, LoadTask, RereadTask, SaveTask};
pub(crate) use super::wechat_tasks::{manual, ApiTask, ExchangeTask, SignTask};
use super::{Cx, Event, FlightKey, Next, Op};
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::RawObject;
use crate::core::signature::signed_url;
use crate::core::store::record::{check_id, parse_info};
use crate::core::store::{Kind, Lookup, Payload};

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

pub(super) fn bad_input(m: &str) -> Error {
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
                    if matches!(kind, Kind::Signature | Kind::Global)
                        && !*reread
                        && global_due(cx) =>
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

pub(super) fn unexpected() -> Error {
    Error::new(ErrorCode::BadInput, "a step arrived out of order")
}
