//! The reports for `onEvent`: what each attempt, login and check did. A
//! child of the session module, so it reads the machine's private state.

use super::{find, Effect, Session};
use crate::core::effects::ReqId;
use crate::core::error::ErrorCode;
use crate::core::events::{Event, EventKind};

impl Session {
    /// Queues the report of `req`'s attempt in flight, if it has one;
    /// returns whether `req` is pending at all.
    pub(super) fn report_attempt(
        &mut self,
        req: ReqId,
        status: Option<u16>,
        error: Option<ErrorCode>,
        now: u64,
    ) -> bool {
        let Some(p) = find(&mut self.pending, req) else {
            return false;
        };
        if let (true, Some(sent)) = (self.config.report_events, p.sent_at.take()) {
            let event = Event {
                kind: p.kind.into(),
                req,
                status,
                error,
                attempt: p.replays + 1,
                duration_ms: now.saturating_sub(sent),
            };
            self.effects.push_back(Effect::Report(event));
        }
        true
    }

    pub(super) fn report_login(&mut self, error: Option<ErrorCode>, now: u64) {
        let attempt = self.login_failures.saturating_add(1);
        self.login_failures = if error.is_some() { attempt } else { 0 };
        self.report(self.login_kind, error, attempt, self.login_started, now);
    }

    pub(super) fn report_check(&mut self, ok: bool, now: u64) {
        let error = (!ok).then_some(ErrorCode::SessionExpired);
        self.report(EventKind::CheckSession, error, 1, self.check_started, now);
    }

    fn report(
        &mut self,
        kind: EventKind,
        error: Option<ErrorCode>,
        attempt: u32,
        from: u64,
        now: u64,
    ) {
        if self.config.report_events {
            self.effects.push_back(Effect::Report(Event {
                kind,
                req: 0,
                status: None,
                error,
                attempt,
                duration_ms: now.saturating_sub(from),
            }));
        }
    }
}
