//! Behaviour tests for the session machine, one per rule of the contract,
//! then a randomised interleaving test on a virtual clock.

use super::*;
use crate::core::config::SessionConfig;

const T0: u64 = 1_700_000_000_000;

fn cfg(check: &str) -> SessionConfig {
    SessionConfig {
        check_session: CheckSessionPolicy::parse(check).unwrap(),
        ..SessionConfig::default()
    }
}

fn stored(token: &str, expires_at: Option<u64>) -> String {
    TokenRecord {
        token: token.into(),
        issued_at: T0 - 1000,
        expires_at,
    }
    .to_json()
}

fn logins(effects: &[Effect]) -> Vec<u32> {
    effects
        .iter()
        .filter_map(|e| {
            if let Effect::Login { login } = e {
                Some(*login)
            } else {
                None
            }
        })
        .collect()
}

fn sends(effects: &[Effect]) -> Vec<(ReqId, u32)> {
    effects
        .iter()
        .filter_map(|e| {
            if let Effect::Send { req, generation } = e {
                Some((*req, *generation))
            } else {
                None
            }
        })
        .collect()
}

fn ok_login(token: &str) -> LoginOutcome<'_> {
    LoginOutcome::Exchanged {
        token: Some(token),
        expires_in: Some(7200.0),
    }
}

#[test]
fn cold_burst_shares_one_login_and_every_request_carries_the_new_token() {
    let mut s = Session::new(cfg("once"), None, T0);
    let ids: Vec<_> = (0..50).map(|_| s.request(T0)).collect();
    let fx = s.take_effects();
    assert_eq!(logins(&fx).len(), 1);
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(e, Effect::State(SessionState::LoggingIn)))
            .count(),
        1
    );
    s.login_done(logins(&fx)[0], ok_login("tok"), T0 + 5);
    let fx = s.take_effects();
    assert_eq!(fx[0], Effect::Persist);
    assert_eq!(sends(&fx).iter().map(|s| s.0).collect::<Vec<_>>(), ids);
    assert!(sends(&fx).iter().all(|&(_, g)| g == s.generation()));
    assert_eq!(s.token(), Some("tok"));
    assert_eq!(s.state(), SessionState::Authenticated);
    assert!(s.persisted_value().unwrap().contains("\"token\":\"tok\""));
}

#[test]
fn a_failed_login_rejects_every_waiter_and_the_next_call_starts_afresh() {
    for code in [
        ErrorCode::LoginFailed,
        ErrorCode::ExchangeFailed,
        ErrorCode::Timeout,
    ] {
        let mut s = Session::new(cfg("once"), None, T0);
        let a = s.request(T0);
        let b = s.login(false, T0);
        let login = logins(&s.take_effects())[0];
        s.login_done(
            login,
            LoginOutcome::Failed(crate::core::Error::new(code, "boom")),
            T0,
        );
        let fx = s.take_effects();
        assert!(fx.contains(&Effect::Reject {
            req: a,
            code,
            login: true
        }));
        assert!(fx.contains(&Effect::Reject {
            req: b,
            code,
            login: true
        }));
        assert_eq!(s.pending_count(), 0);
        assert_eq!(s.last_login_error().unwrap().message, "boom");
        assert_eq!(s.state(), SessionState::Anonymous);
        s.request(T0);
        let again = logins(&s.take_effects());
        assert_eq!(again.len(), 1);
        assert_ne!(again[0], login);
        // A late report for the failed attempt cannot settle the new one.
        s.login_done(login, ok_login("late"), T0);
        assert!(s.take_effects().is_empty());
    }
}

#[test]
fn an_exchange_body_without_a_token_is_exchange_failed() {
    let mut s = Session::new(cfg("never"), None, T0);
    let a = s.request(T0);
    let login = logins(&s.take_effects())[0];
    s.login_done(
        login,
        LoginOutcome::Exchanged {
            token: None,
            expires_in: None,
        },
        T0,
    );
    assert!(s.take_effects().contains(&Effect::Reject {
        req: a,
        code: ErrorCode::ExchangeFailed,
        login: true,
    }));
}

#[test]
fn warm_start_with_a_valid_stored_token_needs_no_login() {
    let mut s = Session::new(cfg("never"), Some(&stored("old", Some(T0 + 3_600_000))), T0);
    assert_eq!(s.state(), SessionState::Authenticated);
    let a = s.request(T0);
    assert_eq!(
        s.take_effects(),
        vec![Effect::Send {
            req: a,
            generation: 1
        }]
    );
    assert_eq!(s.token(), Some("old"));
}

#[test]
fn an_expiring_token_is_renewed_before_use() {
    let mut s = Session::new(cfg("never"), Some(&stored("old", Some(T0 + 3_600_000))), T0);
    // Inside the 60 s margin: renewed before sending, not after a 401.
    s.request(T0 + 3_600_000 - 59_000);
    let fx = s.take_effects();
    assert_eq!(logins(&fx).len(), 1);
    assert!(sends(&fx).is_empty());
}

#[test]
fn stored_junk_means_anonymous() {
    for junk in ["", "{oops", "{\"foreign\":true}", "\"just a string\""] {
        let s = Session::new(cfg("once"), Some(junk), T0);
        assert_eq!(s.state(), SessionState::Anonymous, "{junk}");
    }
    let expired = Session::new(cfg("once"), Some(&stored("old", Some(T0 - 1))), T0);
    assert_eq!(expired.state(), SessionState::Anonymous);
}

#[test]
fn a_401_storm_shares_one_relogin_including_late_arrivals() {
    let mut s = Session::new(cfg("never"), Some(&stored("old", None)), T0);
    let ids: Vec<_> = (0..3).map(|_| s.request(T0)).collect();
    s.take_effects();
    s.response(ids[0], 401, T0);
    let fx = s.take_effects();
    assert_eq!(logins(&fx).len(), 1);
    assert!(fx.contains(&Effect::ClearStorage));
    // Arrives while the re-login runs: joins it.
    s.response(ids[1], 401, T0);
    assert!(logins(&s.take_effects()).is_empty());
    s.login_done(logins(&fx)[0], ok_login("new"), T0);
    let fx = s.take_effects();
    assert_eq!(sends(&fx), vec![(ids[0], 2), (ids[1], 2)]);
    // Arrives after the re-login finished, sent with the old token: replayed
    // with the new one, and the new token is kept.
    s.response(ids[2], 401, T0);
    assert_eq!(
        s.take_effects(),
        vec![Effect::Send {
            req: ids[2],
            generation: 2
        }]
    );
    assert_eq!(s.token(), Some("new"));
    // Still rejected after the replay: UNAUTHORIZED, no further login.
    s.response(ids[0], 401, T0);
    let fx = s.take_effects();
    assert!(fx.contains(&Effect::Reject {
        req: ids[0],
        code: ErrorCode::Unauthorized,
        login: false,
    }));
    assert!(logins(&fx).is_empty());
}

#[test]
fn max_relogin_zero_never_logs_in_again_for_a_request() {
    let config = SessionConfig {
        max_relogin: 0,
        check_session: CheckSessionPolicy::Never,
        ..SessionConfig::default()
    };
    let mut s = Session::new(config, Some(&stored("old", None)), T0);
    let a = s.request(T0);
    s.take_effects();
    s.response(a, 401, T0);
    let fx = s.take_effects();
    assert!(fx.contains(&Effect::Reject {
        req: a,
        code: ErrorCode::Unauthorized,
        login: false,
    }));
    assert!(logins(&fx).is_empty());
}

#[test]
fn other_statuses_are_http_errors_and_2xx_resolves() {
    let mut s = Session::new(cfg("never"), Some(&stored("t", None)), T0);
    let (a, b) = (s.request(T0), s.request(T0));
    s.take_effects();
    s.response(a, 500, T0);
    s.response(b, 204, T0);
    assert_eq!(
        s.take_effects(),
        vec![
            Effect::Reject {
                req: a,
                code: ErrorCode::HttpError,
                login: false,
            },
            Effect::Resolve { req: b }
        ]
    );
}

#[test]
fn check_session_once_runs_once_per_lifecycle_and_is_shared() {
    let mut s = Session::new(cfg("once"), Some(&stored("t", None)), T0);
    let (a, b) = (s.request(T0), s.request(T0));
    let fx = s.take_effects();
    assert_eq!(fx, vec![Effect::CheckSession { check: 1 }]);
    s.check_session_done(1, true, T0);
    assert_eq!(sends(&s.take_effects()), vec![(a, 1), (b, 1)]);
    let c = s.request(T0);
    assert_eq!(
        s.take_effects(),
        vec![Effect::Send {
            req: c,
            generation: 1
        }]
    );
}

#[test]
fn check_session_always_checks_every_request_and_never_never_does() {
    let mut s = Session::new(cfg("always"), Some(&stored("t", None)), T0);
    for i in 1..=3 {
        s.request(T0);
        assert_eq!(s.take_effects(), vec![Effect::CheckSession { check: i }]);
        s.check_session_done(i, true, T0);
        assert_eq!(sends(&s.take_effects()).len(), 1);
    }
    let mut s = Session::new(cfg("never"), Some(&stored("t", None)), T0);
    s.request(T0);
    assert!(matches!(s.take_effects()[..], [Effect::Send { .. }]));
}

#[test]
fn a_failed_check_session_forces_a_relogin() {
    let mut s = Session::new(cfg("once"), Some(&stored("t", None)), T0);
    let a = s.request(T0);
    s.take_effects();
    s.check_session_done(1, false, T0);
    let fx = s.take_effects();
    let login = logins(&fx)[0];
    s.login_done(login, ok_login("fresh"), T0);
    assert_eq!(sends(&s.take_effects()), vec![(a, 2)]);
    // A fresh login counts as checked.
    let b = s.request(T0);
    assert_eq!(
        s.take_effects(),
        vec![Effect::Send {
            req: b,
            generation: 2
        }]
    );
}

/// The id of the one wx.checkSession `fx` asks for, and nothing else.
fn only_check(fx: Vec<Effect>) -> u32 {
    match fx[..] {
        [Effect::CheckSession { check }] => check,
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn a_check_that_began_before_a_forced_login_does_not_drop_its_token() {
    let mut s = Session::new(cfg("once"), Some(&stored("old", None)), T0);
    let a = s.request(T0);
    let check = only_check(s.take_effects());
    let forced = s.login(true, T0);
    let login = logins(&s.take_effects())[0];
    s.login_done(login, ok_login("fresh"), T0 + 1);
    let fx = s.take_effects();
    assert!(fx.contains(&Effect::Resolve { req: forced }));
    // The check fails after the login it predates: the fresh token stays,
    // no second wx.login, and its waiter is sent with the fresh token.
    s.check_session_done(check, false, T0 + 2);
    let fx = s.take_effects();
    assert!(logins(&fx).is_empty(), "{fx:?}");
    assert_eq!(sends(&fx), vec![(a, s.generation())]);
    assert_eq!(s.token(), Some("fresh"));
    assert!(!fx.contains(&Effect::ClearStorage));
}

#[test]
fn a_check_that_outlives_a_login_in_flight_leaves_the_decision_to_that_login() {
    let mut s = Session::new(cfg("always"), Some(&stored("old", None)), T0);
    let a = s.request(T0);
    let check = only_check(s.take_effects());
    s.login(true, T0);
    let login = logins(&s.take_effects())[0];
    // The check succeeds while the forced login still runs: a's wait goes
    // on with the login, and nothing is sent with the token it replaces.
    s.check_session_done(check, true, T0 + 1);
    let fx = s.take_effects();
    assert!(sends(&fx).is_empty() && logins(&fx).is_empty(), "{fx:?}");
    s.login_done(login, ok_login("fresh"), T0 + 2);
    assert_eq!(sends(&s.take_effects()), vec![(a, s.generation())]);
    // A check that began after the login still counts.
    let b = s.request(T0 + 3);
    let check = only_check(s.take_effects());
    s.check_session_done(check, false, T0 + 4);
    let fx = s.take_effects();
    assert_eq!(logins(&fx).len(), 1, "{fx:?}");
    assert!(sends(&fx).iter().all(|&(r, _)| r != b));
}

#[test]
fn a_fresh_login_needs_no_check_session() {
    let mut s = Session::new(cfg("once"), None, T0);
    s.request(T0);
    let login = logins(&s.take_effects())[0];
    s.login_done(login, ok_login("t"), T0);
    s.take_effects();
    s.request(T0);
    assert!(matches!(s.take_effects()[..], [Effect::Send { .. }]));
}

#[test]
fn logout_clears_and_the_next_request_logs_in() {
    let mut s = Session::new(cfg("never"), Some(&stored("t", None)), T0);
    s.logout();
    assert_eq!(
        s.take_effects(),
        vec![Effect::ClearStorage, Effect::State(SessionState::Anonymous)]
    );
    s.request(T0);
    assert_eq!(logins(&s.take_effects()).len(), 1);
}

#[test]
fn logout_during_login_discards_that_token_and_waiters_log_in_again() {
    let mut s = Session::new(cfg("never"), None, T0);
    let a = s.request(T0);
    let first = logins(&s.take_effects())[0];
    s.logout();
    s.take_effects();
    s.login_done(first, ok_login("belongs-to-nobody"), T0);
    let fx = s.take_effects();
    assert_eq!(s.token(), None);
    let second = logins(&fx)[0];
    s.login_done(second, ok_login("mine"), T0);
    assert_eq!(sends(&s.take_effects()), vec![(a, 1)]);
    assert_eq!(s.token(), Some("mine"));
}

#[test]
fn forced_login_replaces_a_valid_token() {
    let mut s = Session::new(cfg("never"), Some(&stored("t", None)), T0);
    let l = s.login(true, T0);
    let login = logins(&s.take_effects())[0];
    s.login_done(login, ok_login("t2"), T0);
    assert!(s.take_effects().contains(&Effect::Resolve { req: l }));
    assert_eq!(s.token(), Some("t2"));
}

#[test]
fn network_failures_settle_the_request() {
    let mut s = Session::new(cfg("never"), Some(&stored("t", None)), T0);
    let a = s.request(T0);
    s.take_effects();
    s.request_failed(a, ErrorCode::Network, T0);
    assert_eq!(
        s.take_effects(),
        vec![Effect::Reject {
            req: a,
            code: ErrorCode::Network,
            login: false,
        }]
    );
    // Unknown and settled ids are ignored rather than double-settled.
    s.response(a, 200, T0);
    s.request_failed(999, ErrorCode::Timeout, T0);
    assert!(s.take_effects().is_empty());
}
