//! Tasks that call WeChat or sign with its credentials: JS-SDK signatures,
//! API calls with the access_token, OAuth and jscode2session exchanges, and
//! manual refreshes.

use super::io::{ApiCall, Io, Out};
use super::need::{Got, Need, Which};
use super::tasks::{bad_input, unexpected, LoadTask, Task};
use super::wechat;
use super::{Cx, Event, FlightKey, Next};
use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::RawObject;
use crate::core::signature::sign_jsapi;
use crate::core::store::meta::Slot;
use crate::core::store::record::{check_id, json_str, object_text};
use crate::core::store::{Kind, Lookup, Payload, Record};

pub(crate) struct SignTask {
    pub(super) url: String,
    pub(super) force: bool,
    pub(super) need: Need,
    pub(super) ticket: Option<Slot>,
    pub(super) loaded: bool,
}

impl SignTask {
    pub(crate) fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
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
pub(crate) fn view_text(
    app_id: &str,
    timestamp: &str,
    nonce: &str,
    signature: &str,
    url: &str,
) -> String {
    object_text(&[
        ("appId", json_str(app_id)),
        ("timestamp", json_str(timestamp)),
        ("nonceStr", json_str(nonce)),
        ("signature", json_str(signature)),
        ("url", json_str(url)),
    ])
}

/// The view of a stored signature made elsewhere, if it has every field.
pub(crate) fn view_of(app_id: &str, info: &str, url: &str) -> Option<String> {
    let obj = RawObject::parse(info).ok()?;
    let timestamp = obj
        .get_str("timestamp")
        .or_else(|| obj.get_int("timestamp").map(|n| n.to_string()))?;
    let nonce = obj.get_str("nonceStr")?;
    let signature = obj.get_str("signature")?;
    Some(view_text(app_id, &timestamp, &nonce, &signature, url))
}

pub(crate) struct ApiTask {
    pub(super) call: ApiCall,
    pub(super) need: Need,
    pub(super) token: Option<String>,
    pub(super) attempt: u8,
}

impl ApiTask {
    pub(crate) fn resume<P: Payload>(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
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
    pub(super) code: String,
    /// OAuth: the key to store under (None: the openid); None: code2Session.
    pub(super) oauth_key: Option<Option<String>>,
    /// The OAuth record being written through: its backend key and payload.
    pub(super) writing: Option<(String, P)>,
}

impl<P: Payload> ExchangeTask<P> {
    pub(crate) fn resume(&mut self, cx: &mut Cx<P>, event: Event<P>) -> Next<P> {
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

pub(crate) fn manual<P: Payload>(
    need: &mut Option<Need>,
    cx: &mut Cx<P>,
    event: Event<P>,
) -> Next<P> {
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
