//! Store logic on a virtual clock: reads, writes, expiry, flushes, bounds.

use super::*;

type Core = StoreCore<String>;
type R = Record<String>;

const KEY: [u64; 2] = [0x5eed, 0xf00d];

fn core(max_signatures: usize) -> Core {
    StoreCore::new(
        StoreConfig {
            max_signatures,
            ..StoreConfig::default()
        },
        true,
        KEY,
        0,
    )
}

fn enc(kind: Kind, info: &str) -> String {
    R::from_info(kind, info, 0).unwrap().encode()
}

/// Saves `https://a.test/{i}` for each i, at time 0.
fn save_signatures(s: &mut Core, range: std::ops::Range<u32>) {
    for i in range {
        s.save(
            Kind::Signature,
            &format!("https://a.test/{i}"),
            r#"{"signature":"s"}"#,
            false,
            0,
        )
        .unwrap();
    }
}

fn hit(l: Lookup<String>) -> String {
    match l {
        Lookup::Hit(info) => info,
        other => panic!("expected a hit, got {other:?}"),
    }
}

fn load_key(l: Lookup<String>) -> (String, u32) {
    match l {
        Lookup::Load { key, epoch } => (key, epoch),
        other => panic!("expected a load, got {other:?}"),
    }
}

fn flush_all(s: &mut Core, now: u64) {
    for w in s.flush_batch(now) {
        s.write_done(&w.key, true, now);
    }
}

#[test]
fn a_miss_asks_the_backend_once_then_serves_memory() {
    let mut s = core(10);
    let (key, epoch) = load_key(s.lookup(Kind::Global, "", 0).unwrap());
    assert_eq!(key, "global");
    let got = s
        .loaded(
            Kind::Global,
            "",
            Some(&enc(Kind::Global, r#"{"accessToken":"a"}"#)),
            epoch,
            0,
        )
        .unwrap();
    assert_eq!(got.unwrap().payload, r#"{"accessToken":"a"}"#);
    assert_eq!(
        hit(s.lookup(Kind::Global, "", 1).unwrap()),
        r#"{"accessToken":"a"}"#
    );
    // A signature the backend does not have is remembered as absent for a
    // moment (a burst of first requests); other kinds are asked again, since
    // another process may have saved them.
    assert_eq!(s.loaded(Kind::Signature, "u1", None, 0, 0).unwrap(), None);
    assert_eq!(
        s.lookup(Kind::Signature, "u1", 999).unwrap(),
        Lookup::Absent
    );
    assert_eq!(
        load_key(s.lookup(Kind::Signature, "u1", 1_000).unwrap()).0,
        "sig:u1"
    );
    assert_eq!(s.loaded(Kind::OAuth, "u1", None, 0, 0).unwrap(), None);
    assert_eq!(
        load_key(s.lookup(Kind::OAuth, "u1", 0).unwrap()).0,
        "oauth:u1"
    );
    assert_eq!(s.dirty_count(), 0);
}

#[test]
fn a_memory_only_store_never_asks_for_loads() {
    let mut s: Core = StoreCore::new(StoreConfig::default(), false, KEY, 0);
    assert_eq!(
        s.lookup(Kind::Signature, "https://a.test/", 0).unwrap(),
        Lookup::Absent
    );
    assert_eq!(
        s.save(Kind::Global, "", r#"{"x":1}"#, true, 0).unwrap(),
        Lookup::Hit(r#"{"x":1,"count":1}"#.into())
    );
    assert_eq!(
        hit(s.lookup(Kind::Global, "", 0).unwrap()),
        r#"{"x":1,"count":1}"#
    );
    assert!(!s.due_for_recheck(Kind::Global, "", u64::MAX, 1));
}

#[test]
fn writes_are_dirty_until_flushed_and_flush_writes_only_dirty_entries() {
    let mut s = core(10);
    s.save(
        Kind::Signature,
        "https://a.test/",
        r#"{"signature":"s1","expires_in":7200}"#,
        false,
        1_000,
    )
    .unwrap();
    s.save(Kind::OAuth, "k", r#"{"access_token":"o"}"#, false, 1_000)
        .unwrap();
    let batch = s.flush_batch(2_000);
    assert_eq!(batch.len(), 2);
    let sig = batch
        .iter()
        .find(|w| w.key == "sig:https://a.test/")
        .unwrap();
    assert_eq!(sig.ttl_ms, 7_199_000);
    assert_eq!(
        R::decode(Kind::Signature, sig.value.as_deref().unwrap())
            .unwrap()
            .expiry(),
        Some(7_201_000)
    );
    for w in &batch {
        s.write_done(&w.key, true, 2_000);
    }
    assert_eq!(s.dirty_count(), 0);
    assert!(s.flush_batch(3_000).is_empty());
}

#[test]
fn a_failed_write_is_retried_by_the_next_flush() {
    let mut s = core(10);
    s.save(Kind::Global, "", r#"{"accessToken":"a"}"#, false, 0)
        .unwrap();
    let batch = s.flush_batch(0);
    s.write_done(&batch[0].key, false, 0);
    assert_eq!(s.dirty_count(), 1);
    assert_eq!(s.flush_batch(1).len(), 1);
}

#[test]
fn a_change_during_a_write_is_written_again() {
    let mut s = core(10);
    s.save(Kind::Global, "", r#"{"accessToken":"a"}"#, false, 0)
        .unwrap();
    let batch = s.flush_batch(0);
    s.save(Kind::Global, "", r#"{"accessToken":"b"}"#, true, 1)
        .unwrap();
    s.write_done(&batch[0].key, true, 1);
    let again = s.flush_batch(2);
    assert_eq!(again.len(), 1);
    assert!(again[0].value.as_deref().unwrap().contains("\"b\""));
}

#[test]
fn an_update_of_an_unread_key_loads_it_first_and_merges() {
    let mut s = core(10);
    let (_, epoch) = load_key(
        s.save(Kind::Global, "", r#"{"jsapiTicket":"t2"}"#, true, 0)
            .unwrap(),
    );
    s.loaded(
        Kind::Global,
        "",
        Some(&enc(
            Kind::Global,
            r#"{"accessToken":"a","jsapiTicket":"t1"}"#,
        )),
        epoch,
        0,
    )
    .unwrap();
    assert_eq!(
        hit(s
            .save(Kind::Global, "", r#"{"jsapiTicket":"t2"}"#, true, 0)
            .unwrap()),
        r#"{"accessToken":"a","jsapiTicket":"t2","count":1}"#
    );
    // wechat-jssdk's update counter goes up by one per update.
    s.save(Kind::Global, "", r#"{"jsapiTicket":"t3"}"#, true, 0)
        .unwrap();
    assert_eq!(
        hit(s.lookup(Kind::Global, "", 0).unwrap()),
        r#"{"accessToken":"a","jsapiTicket":"t3","count":2}"#
    );
}

#[test]
fn an_update_lands_even_when_a_full_cache_evicted_what_it_loaded() {
    // Every other signature is unwritten, so the one just loaded is the only
    // clean entry: the update merges onto what was loaded, never retries.
    let mut s = core(3);
    save_signatures(&mut s, 0..5);
    let (_, epoch) = load_key(
        s.save(Kind::Signature, "https://b.test/", r#"{"b":2}"#, true, 0)
            .unwrap(),
    );
    let base = s
        .loaded(
            Kind::Signature,
            "https://b.test/",
            Some(&enc(Kind::Signature, r#"{"a":1}"#)),
            epoch,
            0,
        )
        .unwrap();
    save_signatures(&mut s, 5..8);
    let merged = s
        .save_onto(
            Kind::Signature,
            "https://b.test/",
            base.as_ref(),
            Incoming {
                info: r#"{"b":2}"#,
                merge: true,
                made: None,
            },
            0,
        )
        .unwrap();
    assert_eq!(merged, r#"{"a":1,"b":2}"#);
    assert!(s
        .flush_batch(1)
        .iter()
        .any(|w| w.key == "sig:https://b.test/"));
}

#[test]
fn a_stale_backend_row_never_overwrites_a_write_made_while_it_was_read() {
    let mut s = core(10);
    let (_, epoch) = load_key(s.lookup(Kind::OAuth, "u", 0).unwrap());
    s.save(Kind::OAuth, "u", r#"{"access_token":"new"}"#, false, 1)
        .unwrap();
    let got = s
        .loaded(
            Kind::OAuth,
            "u",
            Some(&enc(Kind::OAuth, r#"{"access_token":"old"}"#)),
            epoch,
            2,
        )
        .unwrap();
    assert_eq!(got.unwrap().payload, r#"{"access_token":"new"}"#);
    assert!(hit(s.lookup(Kind::OAuth, "u", 3).unwrap()).contains("new"));
    // The same for a credential re-read.
    let epoch = s.epoch();
    s.save(Kind::Global, "", r#"{"accessToken":"mine"}"#, false, 4)
        .unwrap();
    let outcome = s.reread(
        Kind::Global,
        "",
        Ok(Some(&enc(Kind::Global, r#"{"accessToken":"theirs"}"#))),
        epoch,
        5,
    );
    assert_eq!(outcome, Reread::Kept);
    assert!(hit(s.lookup(Kind::Global, "", 6).unwrap()).contains("mine"));
}

#[test]
fn a_reread_keeps_memory_until_the_backend_answers() {
    let mut s = core(10);
    let (_, epoch) = load_key(s.lookup(Kind::Global, "", 0).unwrap());
    s.loaded(
        Kind::Global,
        "",
        Some(&enc(Kind::Global, r#"{"accessToken":"A","expiresAt":100}"#)),
        epoch,
        0,
    )
    .unwrap();
    assert!(s.due_for_recheck(Kind::Global, "", 60, 50));
    // The backend is down: memory stays, and is not asked again at once.
    let e = Error::new(ErrorCode::StoreUnavailable, "down");
    assert_eq!(
        s.reread(Kind::Global, "", Err(e), s.epoch(), 60),
        Reread::Kept
    );
    assert!(s.record(Kind::Global, "", 61).is_some());
    assert!(!s.due_for_recheck(Kind::Global, "", 61, 50));
    // Restarted empty: the live copy here keeps serving.
    assert_eq!(
        s.reread(Kind::Global, "", Ok(None), s.epoch(), 62),
        Reread::Adopted
    );
    assert!(s.record(Kind::Global, "", 62).is_some());
    // Garbage there: reported, memory kept.
    assert_eq!(
        s.reread(Kind::Global, "", Ok(Some("garbage")), s.epoch(), 63),
        Reread::Corrupt
    );
    assert!(s.record(Kind::Global, "", 63).is_some());
    // Another process wrote a newer record: adopted.
    let newer = enc(
        Kind::Global,
        r#"{"accessToken":"B","expiresAt":200,"modifyDate":70}"#,
    );
    assert_eq!(
        s.reread(Kind::Global, "", Ok(Some(&newer)), s.epoch(), 70),
        Reread::Adopted
    );
    assert!(s
        .record(Kind::Global, "", 71)
        .unwrap()
        .payload
        .contains("\"B\""));
    assert_eq!(
        s.dirty_count(),
        0,
        "a re-read never deletes from the backend"
    );
}

#[test]
fn expired_entries_are_not_served_and_are_purged_on_flush() {
    let mut s = core(10);
    s.save(
        Kind::Signature,
        "k",
        r#"{"signature":"o","expires_in":10}"#,
        false,
        0,
    )
    .unwrap();
    assert!(matches!(
        s.lookup(Kind::Signature, "k", 9_999).unwrap(),
        Lookup::Hit(_)
    ));
    flush_all(&mut s, 9_999);
    assert_eq!(
        s.lookup(Kind::Signature, "k", 10_000).unwrap(),
        Lookup::Absent
    );
    let purge = s.flush_batch(10_001);
    assert_eq!(
        purge,
        vec![Write {
            key: "sig:k".into(),
            value: None,
            ttl_ms: 0
        }]
    );
    s.write_done("sig:k", true, 10_001);
    // Gone from memory entirely: the next read asks the backend again.
    assert_eq!(
        load_key(s.lookup(Kind::Signature, "k", 10_002).unwrap()).0,
        "sig:k"
    );
    // An expired record coming from the backend is not served either.
    let old = R::from_info(Kind::Signature, r#"{"expiresAt":5}"#, 0)
        .unwrap()
        .encode();
    assert_eq!(
        s.loaded(Kind::Signature, "k", Some(&old), 0, 10).unwrap(),
        None
    );
}

#[test]
fn a_signature_is_served_only_while_its_ticket_is_current() {
    let mut s = core(10);
    s.save(
        Kind::Global,
        "",
        r#"{"accessToken":"a","jsapiTicket":"t1"}"#,
        false,
        0,
    )
    .unwrap();
    s.save(
        Kind::Signature,
        "https://a.test/",
        r#"{"jsapi_ticket":"t1","signature":"s"}"#,
        false,
        0,
    )
    .unwrap();
    assert!(matches!(
        s.lookup(Kind::Signature, "https://a.test/", 0).unwrap(),
        Lookup::Hit(_)
    ));
    s.save(Kind::Global, "", r#"{"jsapiTicket":"t2"}"#, true, 1)
        .unwrap();
    assert_eq!(
        s.lookup(Kind::Signature, "https://a.test/", 1).unwrap(),
        Lookup::Absent
    );
    // ... and the stale one is deleted from the backend too.
    assert!(s
        .flush_batch(2)
        .iter()
        .any(|w| w.key == "sig:https://a.test/" && w.value.is_none()));
    // A stale signature arriving from the backend is refused as well.
    let stale = enc(Kind::Signature, r#"{"jsapi_ticket":"t1","signature":"s"}"#);
    assert_eq!(
        s.loaded(
            Kind::Signature,
            "https://b.test/",
            Some(&stale),
            s.epoch(),
            3
        )
        .unwrap(),
        None
    );
}

#[test]
fn signatures_are_bounded_by_lru_but_dirty_ones_are_never_dropped() {
    let mut s = core(3);
    save_signatures(&mut s, 0..5);
    // All five are unwritten: none may be dropped yet.
    assert_eq!(s.signature_count(), 5);
    flush_all(&mut s, 1);
    assert_eq!(s.signature_count(), 3);
    // The oldest went; the most recent stayed.
    assert_eq!(
        load_key(s.lookup(Kind::Signature, "https://a.test/0", 2).unwrap()).0,
        "sig:https://a.test/0"
    );
    assert!(matches!(
        s.lookup(Kind::Signature, "https://a.test/4", 2).unwrap(),
        Lookup::Hit(_)
    ));
    // Reading keeps an entry alive: touch 2, add one more, 3 is evicted.
    s.lookup(Kind::Signature, "https://a.test/2", 3).unwrap();
    s.save(
        Kind::Signature,
        "https://a.test/9",
        r#"{"signature":"s"}"#,
        false,
        3,
    )
    .unwrap();
    flush_all(&mut s, 4);
    assert!(matches!(
        s.lookup(Kind::Signature, "https://a.test/2", 5).unwrap(),
        Lookup::Hit(_)
    ));
    assert_eq!(
        load_key(s.lookup(Kind::Signature, "https://a.test/3", 5).unwrap()).0,
        "sig:https://a.test/3"
    );
}

#[test]
fn misses_do_not_grow_memory_without_bound() {
    let mut s = core(3);
    for i in 0..100 {
        s.loaded(Kind::Signature, &format!("https://a.test/{i}"), None, 0, 0)
            .unwrap();
    }
    assert!(s.signature_count() <= 4, "{}", s.signature_count());
    // OAuth and MP misses (keys from requests) leave nothing behind at all.
    for i in 0..1000 {
        for kind in [Kind::OAuth, Kind::MpSession] {
            let id = format!("user{i}");
            load_key(s.lookup(kind, &id, 0).unwrap());
            assert_eq!(s.loaded(kind, &id, None, 0, 0).unwrap(), None);
            s.reread(kind, &id, Ok(None), s.epoch(), 0);
        }
    }
    assert_eq!(
        s.entries.iter().count(),
        s.signature_count(),
        "no entry per miss"
    );
}

#[test]
fn users_read_from_the_backend_are_bounded_like_signatures() {
    let mut s = core(10);
    for i in 0..500 {
        let id = format!("user{i}");
        let raw = enc(Kind::OAuth, r#"{"access_token":"a","expires_in":7200}"#);
        assert!(s
            .loaded(Kind::OAuth, &id, Some(&raw), 0, 0)
            .unwrap()
            .is_some());
        let raw = enc(Kind::MpSession, r#"{"openid":"o","session_key":"k"}"#);
        assert!(s
            .loaded(Kind::MpSession, &id, Some(&raw), 0, 0)
            .unwrap()
            .is_some());
    }
    assert!(s.users <= 10, "{}", s.users);
    // The one just read is served from memory; the evicted are read again.
    assert!(matches!(
        s.lookup(Kind::MpSession, "user499", 1).unwrap(),
        Lookup::Hit(_)
    ));
    load_key(s.lookup(Kind::OAuth, "user0", 1).unwrap());
    // Without a backend they are the data: never evicted.
    let mut m: Core = StoreCore::new(
        StoreConfig {
            max_signatures: 10,
            ..StoreConfig::default()
        },
        false,
        KEY,
        0,
    );
    for i in 0..50 {
        m.save(
            Kind::OAuth,
            &format!("user{i}"),
            r#"{"access_token":"a"}"#,
            false,
            0,
        )
        .unwrap();
    }
    assert_eq!(m.users, 50);
    assert!(matches!(
        m.lookup(Kind::OAuth, "user0", 1).unwrap(),
        Lookup::Hit(_)
    ));
}

#[test]
fn flushes_are_scheduled_every_interval_unless_disabled() {
    let mut s: Core = StoreCore::new(
        StoreConfig {
            interval_ms: 1_000,
            ..StoreConfig::default()
        },
        true,
        KEY,
        500,
    );
    assert_eq!(s.next_flush_at(), Some(1_500));
    s.flush_batch(1_700);
    assert_eq!(s.next_flush_at(), Some(2_700));
    let quiet: Core = StoreCore::new(
        StoreConfig {
            no_interval: true,
            ..StoreConfig::default()
        },
        true,
        KEY,
        0,
    );
    assert_eq!(quiet.next_flush_at(), None);
    s.destroy();
    assert_eq!(s.next_flush_at(), None);
}

#[test]
fn a_destroyed_store_refuses_everything_with_store_destroyed() {
    let mut s = core(3);
    s.destroy();
    assert_eq!(
        s.lookup(Kind::Global, "", 0).unwrap_err().code,
        ErrorCode::StoreDestroyed
    );
    assert_eq!(
        s.save(Kind::Global, "", "{}", false, 0).unwrap_err().code,
        ErrorCode::StoreDestroyed
    );
}

#[test]
fn bad_input_is_refused_before_anything_changes() {
    let mut s = core(3);
    assert_eq!(
        s.save(Kind::Signature, "", "{}", false, 0)
            .unwrap_err()
            .code,
        ErrorCode::BadInput
    );
    assert_eq!(
        s.save(Kind::Global, "", "[1]", false, 0).unwrap_err().code,
        ErrorCode::BadInput
    );
    assert_eq!(
        s.save(Kind::Global, "", r#"{"expires_in":-1}"#, false, 0)
            .unwrap_err()
            .code,
        ErrorCode::BadInput
    );
    assert_eq!(
        s.loaded(Kind::Global, "", Some("garbage"), 0, 0)
            .unwrap_err()
            .code,
        ErrorCode::StoreCorrupt
    );
    assert_eq!(s.dirty_count(), 0);
}

#[test]
fn a_memory_only_store_is_bounded_too() {
    let mut s: Core = StoreCore::new(
        StoreConfig {
            max_signatures: 10,
            ..StoreConfig::default()
        },
        false,
        KEY,
        0,
    );
    save_signatures(&mut s, 0..1000);
    assert!(s.signature_count() <= 10);
    assert_eq!(s.dirty_count(), 0);
    assert!(matches!(
        s.lookup(Kind::Signature, "https://a.test/999", 0).unwrap(),
        Lookup::Hit(_)
    ));
}

#[test]
fn saves_past_the_bound_with_nothing_clean_do_not_rescan() {
    let mut s = core(10);
    save_signatures(&mut s, 0..20);
    assert!(!s.may_evict, "one scan found nothing clean");
    assert_eq!(s.signature_count(), 20);
    flush_all(&mut s, 1);
    assert!(s.signature_count() <= 10);
}

#[test]
fn clear_keeps_app_sessions() {
    let mut s: Core = StoreCore::new(StoreConfig::default(), false, KEY, 0);
    save_signatures(&mut s, 0..3);
    let session = R::from_info(Kind::AppSession, r#"{"openid":"o"}"#, 0).unwrap();
    s.put(Kind::AppSession, "h1", session, 0);
    let index = R::from_info(Kind::SessionIndex, r#"{"openid":"o","sessions":{}}"#, 0).unwrap();
    s.put(Kind::SessionIndex, "o", index, 0);
    s.save(Kind::OAuth, "u", r#"{"access_token":"a"}"#, false, 0)
        .unwrap();
    s.clear();
    assert_eq!((s.signature_count(), s.users), (0, 0));
    assert!(s.record(Kind::AppSession, "h1", 0).is_some());
    assert!(s.record(Kind::SessionIndex, "o", 0).is_some());
    assert!(matches!(
        s.lookup(Kind::OAuth, "u", 0).unwrap(),
        Lookup::Absent
    ));
}

#[test]
fn clear_forgets_everything_here() {
    let mut s = core(10);
    save_signatures(&mut s, 0..3);
    s.save(Kind::Card, "", r#"{"ticket":"c"}"#, false, 0)
        .unwrap();
    s.clear();
    assert_eq!((s.signature_count(), s.dirty_count()), (0, 0));
    assert_eq!(load_key(s.lookup(Kind::Card, "", 0).unwrap()).0, "card");
}

#[test]
fn a_remembered_handle_answers_like_a_lookup_until_the_entry_changes() {
    let mut s = core(10);
    s.save(
        Kind::Global,
        "",
        r#"{"accessToken":"a","jsapi_ticket":"t1"}"#,
        false,
        0,
    )
    .unwrap();
    let sig = r#"{"jsapi_ticket":"t1","signature":"s","expires_in":10}"#;
    s.save(Kind::Signature, "https://a.test/", sig, false, 0)
        .unwrap();
    let h = s.signature_handle("https://a.test/").unwrap();
    assert!(s.signature_live(h, 1));
    // Expired: not live (the lookup by key then purges it).
    assert!(!s.signature_live(h, 10_000));
    // Saved again: the handle named the old value.
    s.save(Kind::Signature, "https://a.test/", sig, false, 1)
        .unwrap();
    assert!(!s.signature_live(h, 2));
    let h = s.signature_handle("https://a.test/").unwrap();
    assert!(s.signature_live(h, 2));
    // A new ticket makes the signature stale.
    s.save(Kind::Global, "", r#"{"jsapi_ticket":"t2"}"#, true, 2)
        .unwrap();
    assert!(!s.signature_live(h, 3));
    assert_eq!(
        s.lookup(Kind::Signature, "https://a.test/", 3).unwrap(),
        Lookup::Absent
    );
    for w in s.flush_batch(4) {
        s.write_done(&w.key, true, 4);
    }
    // Its slot reused by another key: the old handle still misses.
    s.save(
        Kind::Signature,
        "https://b.test/",
        r#"{"jsapi_ticket":"t2","signature":"b"}"#,
        false,
        5,
    )
    .unwrap();
    assert!(!s.signature_live(h, 6));
    assert!(s.signature_live(s.signature_handle("https://b.test/").unwrap(), 6));
    s.destroy();
    assert!(!s.signature_live(h, 7));
}

#[test]
fn the_users_bound_keeps_the_user_read_most_recently() {
    let mut s = core(10);
    let raw = enc(Kind::MpSession, r#"{"openid":"o","session_key":"k"}"#);
    s.loaded(Kind::MpSession, "hot", Some(&raw), 0, 0).unwrap();
    for i in 0..9 {
        s.loaded(Kind::MpSession, &format!("cold{i}"), Some(&raw), 0, 0)
            .unwrap();
        // The hot user is read between every other load.
        assert!(matches!(
            s.lookup(Kind::MpSession, "hot", 1).unwrap(),
            Lookup::Hit(_)
        ));
    }
    s.loaded(Kind::MpSession, "new", Some(&raw), 0, 0).unwrap();
    assert!(matches!(
        s.lookup(Kind::MpSession, "hot", 2).unwrap(),
        Lookup::Hit(_)
    ));
    assert!(!matches!(
        s.lookup(Kind::MpSession, "cold0", 2).unwrap(),
        Lookup::Hit(_)
    ));
}

/// A credential put under a refresh's lock whose write fails for the whole
/// lease: `base_info` is what the backend held when it was built.
fn make_unsent(s: &mut Core, kind: Kind, id: &str, base_info: &str, info: &str, now: u64) {
    s.loaded(kind, id, Some(&enc(kind, base_info)), s.epoch(), now)
        .unwrap();
    let base = fingerprint(s.record(kind, id, now));
    s.put_held(kind, id, R::from_info(kind, info, now).unwrap(), now);
    let w = s.write_now(kind, id, now).unwrap();
    s.held_write_done(&w.key, false, now);
    s.unsent(&w.key, base);
    assert!(s.is_unsent(kind, id));
}

#[test]
fn an_unsent_credential_is_kept_only_while_the_backend_holds_what_it_was_built_on() {
    let global_base = r#"{"accessToken":"BASE","accessTokenExpiresAt":7200000,"expiresAt":7200000,"modifyDate":50,"count":7}"#;
    let ours = r#"{"accessToken":"OURS","accessTokenExpiresAt":7200000,"expiresAt":7200000,"modifyDate":100,"count":8}"#;
    let oauth_base = r#"{"access_token":"BASE","refresh_token":"R0","openid":"o","accessTokenExpiresAt":7200000,"modifyDate":50}"#;
    let oauth_ours = r#"{"access_token":"OURS","refresh_token":"R1","openid":"o","accessTokenExpiresAt":7200000,"modifyDate":100}"#;
    for (kind, id, base, ours, theirs) in [
        // A wechat-jssdk process writing from its own older copy (a lower
        // count), or a save without a count.
        (
            Kind::Global,
            "",
            global_base,
            ours,
            r#"{"accessToken":"THEIRS","accessTokenExpiresAt":7200000,"expiresAt":7200000,"modifyDate":5000,"count":4}"#,
        ),
        (
            Kind::Global,
            "",
            global_base,
            ours,
            r#"{"accessToken":"THEIRS","accessTokenExpiresAt":7200000,"expiresAt":7200000,"modifyDate":5000}"#,
        ),
        // OAuth records keep no count: a user re-authorised elsewhere.
        (
            Kind::OAuth,
            "u",
            oauth_base,
            oauth_ours,
            r#"{"access_token":"THEIRS","refresh_token":"R2","openid":"o","accessTokenExpiresAt":7200000,"modifyDate":5000}"#,
        ),
    ] {
        let mut s = core(10);
        make_unsent(&mut s, kind, id, base, ours, 100);
        // Nobody wrote: ours stays.
        let same = s.reread(kind, id, Ok(Some(&enc(kind, base))), s.epoch(), 200);
        assert_eq!(same, Reread::Kept, "{theirs}");
        assert!(s.is_unsent(kind, id));
        // Someone wrote, whatever their count or clock: theirs is adopted.
        let out = s.reread(kind, id, Ok(Some(&enc(kind, theirs))), s.epoch(), 300);
        assert_eq!(out, Reread::Adopted, "{theirs}");
        assert!(!s.is_unsent(kind, id));
    }
}

#[test]
fn a_credential_put_while_a_flush_writes_its_key_is_never_sent_by_a_later_flush() {
    let mut s = core(10);
    // updateGlobalToken made the record dirty; its flush is being written.
    s.save(Kind::Global, "", r#"{"note":"x"}"#, false, 0)
        .unwrap();
    assert_eq!(s.flush_batch(0).len(), 1);
    // A refresh under the lock stores its fresh token now.
    let fresh = R::from_info(
        Kind::Global,
        r#"{"accessToken":"FRESH","accessTokenExpiresAt":7200000,"expiresAt":7200000,"count":1}"#,
        1,
    )
    .unwrap();
    s.put_held(Kind::Global, "", fresh, 1);
    assert!(
        s.write_now(Kind::Global, "", 1).is_none(),
        "wait for the flush's write"
    );
    // The flush's write fails; no later flush sends the fresh token, and
    // the refresh can now write it under its lock.
    s.write_done("global", false, 2);
    assert!(s.flush_batch(3).is_empty());
    let w = s
        .write_now(Kind::Global, "", 3)
        .expect("the refresh's write");
    assert!(w.value.unwrap().contains("FRESH"));
}

#[test]
fn an_oauth_user_read_by_the_credential_path_keeps_its_place_in_the_lru() {
    let mut s = core(10);
    let raw = enc(
        Kind::OAuth,
        r#"{"access_token":"a","refresh_token":"r","openid":"o","accessTokenExpiresAt":9000000}"#,
    );
    s.loaded(Kind::OAuth, "hot", Some(&raw), 0, 0).unwrap();
    for i in 0..9 {
        s.loaded(Kind::OAuth, &format!("cold{i}"), Some(&raw), 0, 0)
            .unwrap();
        // What Wechat's OAuth calls do for the user on every request.
        s.touch_user(Kind::OAuth, "hot");
    }
    s.loaded(Kind::OAuth, "new", Some(&raw), 0, 0).unwrap();
    assert!(s.is_known(Kind::OAuth, "hot"));
}
