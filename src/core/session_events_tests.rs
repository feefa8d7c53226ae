//! Uploads, downloads, abort and the `onEvent` reports: the session machine
//! decides all of it, so it is tested here on a virtual clock.

use super::*;
use crate::core::config::SessionConfig;
use crate::core::events::Event;

const T0: u64 = 1_700_000_000_000;

fn reporting(check: &str) -> SessionConfig {
    SessionConfig {
        check_session: CheckSessionPolicy::parse(check).unwrap(),
        report_events: true,
        ..SessionConfig::default()
    }
}

fn with_token(config: SessionConfig) -> Session {
    let stored = TokenRecord {
        token: "old".into(),
        issued_at: T0 - 1000,
        expires_at: None,
    }
    .to_json();
    Session::new(config, Some(&stored), T0)
}

fn reports(effects: &[Effect]) -> Vec<Event> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Report(r) => Some(*r),
            _ => None,
        })
        .collect()
}

fn only_login(effects: &[Effect]) -> u32 {
    let logins: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Login { login } => Some(*login),
            _ => None,
        })
        .collect();
    assert_eq!(logins.len(), 1, "{effects:?}");
    logins[0]
}

fn attempt(kind: EventKind, req: ReqId, status: Option<u16>, error: Option<ErrorCode>) -> Event {
    Event {
        kind,
        req,
        status,
        error,
        attempt: 1,
        duration_ms: 0,
    }
}

fn ok(token: &str) -> LoginOutcome<'_> {
    LoginOutcome::Exchanged {
        token: Some(token),
        expires_in: None,
    }
}

#[test]
fn an_uploads_401_joins_the_one_shared_relogin_and_is_replayed_once() {
    let mut s = with_token(reporting("never"));
    let up = s.transfer(Transfer::Upload, T0);
    let down = s.transfer(Transfer::Download, T0);
    let req = s.request(T0);
    s.take_effects();
    // An upload answers 401 with a string body: the host reports the status.
    s.response(up, 401, T0 + 40);
    let fx = s.take_effects();
    let login = only_login(&fx);
    assert_eq!(
        reports(&fx),
        [Event {
            duration_ms: 40,
            ..attempt(
                EventKind::Upload,
                up,
                Some(401),
                Some(ErrorCode::Unauthorized)
            )
        }]
    );
    // The download and the request, 401 too, join that login.
    s.response(down, 401, T0 + 50);
    s.response(req, 401, T0 + 50);
    let fx = s.take_effects();
    assert!(!fx.iter().any(|e| matches!(e, Effect::Login { .. })));
    let kinds: Vec<_> = reports(&fx).iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [EventKind::Download, EventKind::Request]);
    s.login_done(login, ok("new"), T0 + 100);
    let fx = s.take_effects();
    assert_eq!(
        reports(&fx),
        [Event {
            duration_ms: 60,
            ..attempt(EventKind::Relogin, 0, None, None)
        }]
    );
    let sent: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Send { req, generation } => Some((*req, *generation)),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [(up, 2), (down, 2), (req, 2)]);
    // The replay's answer: attempt 2, and a 2xx settles the upload.
    s.response(up, 201, T0 + 130);
    let fx = s.take_effects();
    assert_eq!(
        reports(&fx),
        [Event {
            attempt: 2,
            duration_ms: 30,
            ..attempt(EventKind::Upload, up, Some(201), None)
        }]
    );
    assert!(fx.contains(&Effect::Resolve { req: up }));
    // Still 401 after the re-login: UNAUTHORIZED, never a second login.
    s.response(down, 401, T0 + 140);
    let fx = s.take_effects();
    assert!(fx.contains(&Effect::Reject {
        req: down,
        code: ErrorCode::Unauthorized,
        login: false
    }));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Login { .. })));
}

#[test]
fn abort_while_waiting_for_the_login_rejects_at_once_and_the_login_goes_on() {
    let mut s = Session::new(reporting("never"), None, T0);
    let up = s.transfer(Transfer::Upload, T0);
    let other = s.request(T0);
    let login = only_login(&s.take_effects());
    assert!(s.abort(up, T0 + 5));
    // Never sent: rejected, and nothing to report for an attempt.
    assert_eq!(
        s.take_effects(),
        [Effect::Reject {
            req: up,
            code: ErrorCode::Aborted,
            login: false
        }]
    );
    assert!(!s.abort(up, T0 + 6), "settled once");
    s.login_done(login, ok("t"), T0 + 10);
    let fx = s.take_effects();
    assert!(fx.contains(&Effect::Send {
        req: other,
        generation: 1
    }));
    assert!(!fx
        .iter()
        .any(|e| matches!(e, Effect::Send { req, .. } if *req == up)));
}

#[test]
fn abort_in_flight_reports_the_attempt_and_ignores_its_late_answer() {
    let mut s = with_token(reporting("never"));
    let down = s.transfer(Transfer::Download, T0);
    assert_eq!(
        s.take_effects(),
        [Effect::Send {
            req: down,
            generation: 1
        }]
    );
    assert!(s.abort(down, T0 + 25));
    assert_eq!(
        s.take_effects(),
        [
            Effect::Report(Event {
                duration_ms: 25,
                ..attempt(EventKind::Download, down, None, Some(ErrorCode::Aborted))
            }),
            Effect::Reject {
                req: down,
                code: ErrorCode::Aborted,
                login: false
            }
        ]
    );
    // The host's task may still call back: ignored.
    s.response(down, 200, T0 + 30);
    s.request_failed(down, ErrorCode::Network, T0 + 30);
    assert!(s.take_effects().is_empty());
}

#[test]
fn nothing_is_reported_without_report_events() {
    let mut s = Session::new(SessionConfig::default(), None, T0);
    let a = s.transfer(Transfer::Upload, T0);
    let login = only_login(&s.take_effects());
    s.login_done(login, ok("t"), T0);
    s.response(a, 500, T0);
    assert!(reports(&s.take_effects()).is_empty());
}

#[test]
fn attempts_name_their_failure_and_never_a_token() {
    let mut s = with_token(reporting("never"));
    let (a, b, c) = (s.request(T0), s.request(T0), s.request(T0));
    s.take_effects();
    s.response(a, 500, T0 + 1);
    s.request_failed(b, ErrorCode::Timeout, T0 + 2);
    s.request_failed(c, ErrorCode::Network, T0 + 3);
    let got: Vec<_> = reports(&s.take_effects())
        .iter()
        .map(|r| (r.req, r.status, r.error, r.duration_ms))
        .collect();
    assert_eq!(
        got,
        [
            (a, Some(500), Some(ErrorCode::HttpError), 1),
            (b, None, Some(ErrorCode::Timeout), 2),
            (c, None, Some(ErrorCode::Network), 3),
        ]
    );
}

#[test]
fn logins_count_their_attempts_and_say_why_they_ran() {
    let mut s = Session::new(reporting("never"), None, T0);
    s.request(T0);
    let login = only_login(&s.take_effects());
    let failed = LoginOutcome::Failed(Error::new(ErrorCode::ExchangeFailed, "503"));
    s.login_done(login, failed, T0 + 200);
    assert_eq!(
        reports(&s.take_effects()),
        [Event {
            duration_ms: 200,
            ..attempt(EventKind::Login, 0, None, Some(ErrorCode::ExchangeFailed))
        }]
    );
    // The next login is the second attempt; its success resets the count.
    s.login(false, T0 + 300);
    let login = only_login(&s.take_effects());
    s.login_done(login, ok("t1"), T0 + 350);
    let r = reports(&s.take_effects());
    assert_eq!(
        (r[0].kind, r[0].attempt, r[0].error),
        (EventKind::Login, 2, None)
    );
    // A forced login replaces a good token: a login, not a re-login.
    s.login(true, T0 + 400);
    let login = only_login(&s.take_effects());
    s.login_done(login, ok("t2"), T0 + 410);
    let r = reports(&s.take_effects());
    assert_eq!((r[0].kind, r[0].attempt), (EventKind::Login, 1));
}

#[test]
fn a_failed_check_is_reported_and_its_login_is_a_relogin() {
    let mut s = with_token(reporting("once"));
    s.request(T0);
    let check = match s.take_effects()[0] {
        Effect::CheckSession { check } => check,
        ref e => panic!("{e:?}"),
    };
    s.check_session_done(check, false, T0 + 15);
    let fx = s.take_effects();
    assert_eq!(
        reports(&fx),
        [Event {
            duration_ms: 15,
            ..attempt(
                EventKind::CheckSession,
                0,
                None,
                Some(ErrorCode::SessionExpired)
            )
        }]
    );
    s.login_done(only_login(&fx), ok("t"), T0 + 20);
    let r = reports(&s.take_effects());
    assert_eq!((r[0].kind, r[0].duration_ms), (EventKind::Relogin, 5));
    // Logged out: the next login has no token to replace.
    s.logout();
    s.request(T0 + 30);
    let login = only_login(&s.take_effects());
    s.login_done(login, ok("t2"), T0 + 31);
    assert_eq!(reports(&s.take_effects())[0].kind, EventKind::Login);
}
