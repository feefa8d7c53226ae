//! Store logic on a virtual clock: reads, writes, expiry, flushes, bounds.

use super::*;

fn core(max_signatures: usize) -> StoreCore {
    StoreCore::new(
        StoreConfig {
            max_signatures,
            ..StoreConfig::default()
        },
        true,
        0,
    )
}

/// Saves `https://a.test/{i}` for each i, at time 0.
fn save_signatures(s: &mut StoreCore, range: std::ops::Range<u32>) {
    for i in range {
        let url = format!("https://a.test/{i}");
        s.save(Kind::Signature, &url, r#"{"signature":"s"}"#, false, 0)
            .unwrap();
    }
}

fn hit(l: Lookup) -> String {
    match l {
        Lookup::Hit(info) => info,
        other => panic!("expected a hit, got {other:?}"),
    }
}

#[test]
fn a_miss_asks_the_backend_once_then_serves_memory() {
    let mut s = core(10);
    assert_eq!(
        s.lookup(Kind::Global, "", 0).unwrap(),
        Lookup::Load("global".into())
    );
    let stored = Record::from_info(r#"{"accessToken":"a"}"#, 0)
        .unwrap()
        .encode();
    assert_eq!(
        s.loaded(Kind::Global, "", Some(&stored), 0)
            .unwrap()
            .as_deref(),
        Some(r#"{"accessToken":"a"}"#)
    );
    assert_eq!(
        hit(s.lookup(Kind::Global, "", 1).unwrap()),
        r#"{"accessToken":"a"}"#
    );
    // A key the backend does not have is remembered as absent, not re-read.
    assert_eq!(s.loaded(Kind::OAuth, "u1", None, 0).unwrap(), None);
    assert_eq!(s.lookup(Kind::OAuth, "u1", 0).unwrap(), Lookup::Absent);
    assert_eq!(s.dirty_count(), 0);
}

#[test]
fn a_memory_only_store_never_asks_for_loads() {
    let mut s = StoreCore::new(StoreConfig::default(), false, 0);
    assert_eq!(
        s.lookup(Kind::Signature, "https://a.test/", 0).unwrap(),
        Lookup::Absent
    );
    assert_eq!(
        s.save(Kind::Global, "", r#"{"x":1}"#, true, 0).unwrap(),
        Lookup::Hit(r#"{"x":1}"#.into())
    );
    assert_eq!(hit(s.lookup(Kind::Global, "", 0).unwrap()), r#"{"x":1}"#);
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
        Record::decode(sig.value.as_deref().unwrap())
            .unwrap()
            .expires_at,
        Some(7_201_000)
    );
    for w in &batch {
        s.write_done(&w.key, true);
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
    s.write_done(&batch[0].key, false);
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
    s.write_done(&batch[0].key, true);
    let again = s.flush_batch(2);
    assert_eq!(again.len(), 1);
    assert!(again[0].value.as_deref().unwrap().contains("\"b\""));
}

#[test]
fn an_update_of_an_unread_key_loads_it_first_and_merges() {
    let mut s = core(10);
    assert_eq!(
        s.save(Kind::Global, "", r#"{"jsapiTicket":"t2"}"#, true, 0)
            .unwrap(),
        Lookup::Load("global".into())
    );
    let stored = Record::from_info(r#"{"accessToken":"a","jsapiTicket":"t1"}"#, 0)
        .unwrap()
        .encode();
    s.loaded(Kind::Global, "", Some(&stored), 0).unwrap();
    assert_eq!(
        s.save(Kind::Global, "", r#"{"jsapiTicket":"t2"}"#, true, 0)
            .unwrap(),
        Lookup::Hit(r#"{"accessToken":"a","jsapiTicket":"t2"}"#.into())
    );
    assert_eq!(
        hit(s.lookup(Kind::Global, "", 0).unwrap()),
        r#"{"accessToken":"a","jsapiTicket":"t2"}"#
    );
}

#[test]
fn expired_entries_are_not_served_and_are_purged_on_flush() {
    let mut s = core(10);
    s.save(
        Kind::OAuth,
        "k",
        r#"{"access_token":"o","expires_in":10}"#,
        false,
        0,
    )
    .unwrap();
    assert!(matches!(
        s.lookup(Kind::OAuth, "k", 9_999).unwrap(),
        Lookup::Hit(_)
    ));
    let batch = s.flush_batch(9_999);
    s.write_done(&batch[0].key, true);
    assert_eq!(s.lookup(Kind::OAuth, "k", 10_000).unwrap(), Lookup::Absent);
    let purge = s.flush_batch(10_001);
    assert_eq!(
        purge,
        vec![Write {
            key: "oauth:k".into(),
            value: None,
            ttl_ms: 0
        }]
    );
    s.write_done("oauth:k", true);
    // Gone from memory entirely: the next read asks the backend again.
    assert_eq!(
        s.lookup(Kind::OAuth, "k", 10_002).unwrap(),
        Lookup::Load("oauth:k".into())
    );
    // An expired record coming from the backend is not served either.
    let old = Record::from_info(r#"{"expiresAt":5}"#, 0).unwrap().encode();
    assert_eq!(s.loaded(Kind::OAuth, "k", Some(&old), 10).unwrap(), None);
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
    let stale = Record::from_info(r#"{"jsapi_ticket":"t1","signature":"s"}"#, 0)
        .unwrap()
        .encode();
    assert_eq!(
        s.loaded(Kind::Signature, "https://b.test/", Some(&stale), 3)
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
    for w in s.flush_batch(1) {
        s.write_done(&w.key, true);
    }
    assert_eq!(s.signature_count(), 3);
    // The oldest went; the most recent stayed.
    assert_eq!(
        s.lookup(Kind::Signature, "https://a.test/0", 2).unwrap(),
        Lookup::Load("sig:https://a.test/0".into())
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
    for w in s.flush_batch(4) {
        s.write_done(&w.key, true);
    }
    assert!(matches!(
        s.lookup(Kind::Signature, "https://a.test/2", 5).unwrap(),
        Lookup::Hit(_)
    ));
    assert_eq!(
        s.lookup(Kind::Signature, "https://a.test/3", 5).unwrap(),
        Lookup::Load("sig:https://a.test/3".into())
    );
}

#[test]
fn misses_do_not_grow_memory_without_bound() {
    let mut s = core(3);
    for i in 0..100 {
        s.loaded(Kind::Signature, &format!("https://a.test/{i}"), None, 0)
            .unwrap();
    }
    assert!(s.signature_count() <= 3);
}

#[test]
fn flushes_are_scheduled_every_interval_unless_disabled() {
    let mut s = StoreCore::new(
        StoreConfig {
            interval_ms: 1_000,
            ..StoreConfig::default()
        },
        true,
        500,
    );
    assert_eq!(s.next_flush_at(), Some(1_500));
    s.flush_batch(1_700);
    assert_eq!(s.next_flush_at(), Some(2_700));
    let quiet = StoreCore::new(
        StoreConfig {
            no_interval: true,
            ..StoreConfig::default()
        },
        true,
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
        s.loaded(Kind::Global, "", Some("garbage"), 0)
            .unwrap_err()
            .code,
        ErrorCode::StoreCorrupt
    );
    assert_eq!(s.dirty_count(), 0);
}

#[test]
fn a_memory_only_store_is_bounded_too() {
    let mut s = StoreCore::new(
        StoreConfig {
            max_signatures: 10,
            ..StoreConfig::default()
        },
        false,
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
    for w in s.flush_batch(1) {
        s.write_done(&w.key, true);
    }
    assert!(s.signature_count() <= 10);
}

#[test]
fn reload_reads_the_backend_again_unless_memory_holds_unwritten_changes() {
    let mut core = StoreCore::new(StoreConfig::default(), true, 0);
    let Lookup::Load(key) = core.lookup(Kind::Global, "", 0).unwrap() else {
        panic!()
    };
    core.loaded(
        Kind::Global,
        "",
        Some(
            &Record::from_info(r#"{"accessToken":"A","expiresAt":100}"#, 0)
                .unwrap()
                .encode(),
        ),
        0,
    )
    .unwrap();
    assert!(matches!(
        core.lookup(Kind::Global, "", 1).unwrap(),
        Lookup::Hit(_)
    ));
    assert_eq!(core.reload(Kind::Global, "", 1).unwrap(), Lookup::Load(key));
    assert_eq!(
        core.dirty_count(),
        0,
        "a reload never deletes from the backend"
    );
    core.loaded(Kind::Global, "", None, 1).unwrap();
    core.save(
        Kind::Global,
        "",
        r#"{"accessToken":"B","expiresAt":100}"#,
        false,
        2,
    )
    .unwrap();
    let Lookup::Hit(info) = core.reload(Kind::Global, "", 2).unwrap() else {
        panic!("dirty stays")
    };
    assert!(info.contains("\"B\""));
    let mut memory = StoreCore::new(StoreConfig::default(), false, 0);
    assert_eq!(memory.reload(Kind::Global, "", 0).unwrap(), Lookup::Absent);
}
