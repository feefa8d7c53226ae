//! "I need a usable credential": from memory when it is known, usable and
//! recently checked; after one re-read of the shared record when the check
//! is due (another process may have refreshed it); else from a refresh
//! flight that every caller in this process shares.

use super::refresh::RefreshTask;
use super::tasks::{RereadTask, Task};
use super::{Cx, FlightKey, Next};
use crate::core::error::{Error, ErrorCode};
use crate::core::server::io::Out;
use crate::core::store::meta::Slot;
use crate::core::store::{Kind, Payload, Record};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Which {
    Token,
    Ticket,
    /// A user's OAuth access_token, under the key it is stored with.
    OAuth(String),
}

impl Which {
    /// The record holding it.
    pub fn record(&self) -> (Kind, &str) {
        match self {
            Which::OAuth(key) => (Kind::OAuth, key.as_str()),
            _ => (Kind::Global, ""),
        }
    }

    pub fn slot<'a, P>(&self, record: &'a Record<P>) -> Option<&'a Slot> {
        let creds = record.meta.creds()?;
        match self {
            Which::Ticket => creds.ticket.as_ref(),
            _ => creds.token.as_ref(),
        }
    }

    /// The flight (and lock) name of its refresh.
    pub fn name(&self) -> String {
        match self {
            Which::Token => "token".into(),
            Which::Ticket => "ticket".into(),
            Which::OAuth(key) => format!("oauth:{key}"),
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Which::Token => "access_token",
            Which::Ticket => "jsapi_ticket",
            Which::OAuth(_) => "OAuth access_token",
        }
    }
}

pub(crate) enum Got<P> {
    Ready(Slot),
    Next(Next<P>),
}

#[derive(Debug)]
pub(crate) struct Need {
    which: Which,
    /// A value known to be bad: anything valid but this is accepted.
    stale: Option<String>,
    /// Replace whatever is current (decided after the re-read).
    force: bool,
    reread: bool,
    refreshes: u8,
    publishing: bool,
}

impl Need {
    pub fn new(which: Which, stale: Option<String>) -> Need {
        Need {
            which,
            stale,
            force: false,
            reread: false,
            refreshes: 0,
            publishing: false,
        }
    }

    pub fn forced(which: Which) -> Need {
        Need {
            force: true,
            ..Need::new(which, None)
        }
    }

    pub fn which(&self) -> &Which {
        &self.which
    }

    pub fn step<P: Payload>(&mut self, cx: &mut Cx<P>) -> Got<P> {
        let Some(cfg) = cx.cfg else {
            return Got::Next(Next::Done(Err(Error::new(
                ErrorCode::BadConfig,
                "no Wechat is attached to this store",
            ))));
        };
        let (kind, id) = self.which.record();
        if !self.reread && cx.store.due_for_recheck(kind, id, cx.now, cfg.recheck_ms) {
            self.reread = true;
            if cx.store.is_unsent(kind, id) {
                // Ours was never written: the refresh flight re-reads under
                // the lock and writes it if no one has written since.
                let task = Task::Refresh(Box::new(RefreshTask::new(
                    self.which.clone(),
                    None,
                    cfg,
                    cx,
                )));
                self.publishing = true;
                return Got::Next(Next::Wait(FlightKey::Refresh(self.which.name()), task));
            }
            let task = Task::Reread(RereadTask::new(kind, id));
            return Got::Next(Next::Wait(FlightKey::Reread(kind.key(id)), task));
        }
        self.reread = true;
        let now = cx.now;
        let current = cx
            .store
            .record(kind, id, now)
            .and_then(|r| self.which.slot(r))
            .filter(|s| s.usable(now))
            .cloned();
        if self.force {
            self.force = false;
            if self.stale.is_none() {
                self.stale = current.as_ref().map(|s| s.value.clone());
            }
        }
        if let Some(slot) = current.filter(|s| Some(&s.value) != self.stale.as_ref()) {
            if let Which::OAuth(_) = self.which {
                cx.store.touch_user(kind, id);
            }
            return Got::Ready(slot);
        }
        if self.refreshes >= 2 {
            return Got::Next(Next::Done(Err(Error::new(
                ErrorCode::Timeout,
                format!(
                    "the {} was replaced twice while this call waited",
                    self.which.describe()
                ),
            ))));
        }
        self.refreshes += 1;
        let task = Task::Refresh(Box::new(RefreshTask::new(
            self.which.clone(),
            self.stale.clone(),
            cfg,
            cx,
        )));
        Got::Next(Next::Wait(FlightKey::Refresh(self.which.name()), task))
    }

    /// The re-read or refresh this waited for has finished.
    pub fn on_flight<P: Payload>(
        &mut self,
        cx: &mut Cx<P>,
        result: Result<Out<P>, Error>,
    ) -> Got<P> {
        let publishing = std::mem::replace(&mut self.publishing, false);
        match result {
            // Publishing ours failed (store down, lock busy): memory still
            // holds a valid credential, as after a failed re-read.
            Err(_) if publishing => {
                let (kind, id) = self.which.record();
                cx.store.mark_checked(kind, id, cx.now);
                self.step(cx)
            }
            Err(e) => Got::Next(Next::Done(Err(e))),
            Ok(Out::Cred(slot)) if Some(&slot.value) != self.stale.as_ref() => Got::Ready(slot),
            // A re-read, or a shared refresh that settled on the value we
            // know is bad: look again.
            Ok(_) => self.step(cx),
        }
    }
}
