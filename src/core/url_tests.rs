use super::*;

fn scope(base: &str, origins: &[&str]) -> UrlScope {
    let origins: Vec<String> = origins.iter().map(|s| (*s).to_owned()).collect();
    UrlScope::new(base, &origins).unwrap()
}

fn refused(s: &UrlScope, reference: &str) -> String {
    let e = s.resolve(reference).expect_err(reference);
    assert_eq!(e.code, ErrorCode::BadConfig, "{reference}");
    e.message
}

#[test]
fn relative_references_stay_under_base_url() {
    let s = scope("https://api.example.com", &[]);
    for (r, want) in [
        ("/orders?page=1", "https://api.example.com/orders?page=1"),
        ("orders", "https://api.example.com/orders"),
        // The concatenation bugs: these are paths on the backend now.
        (".evil.test/x", "https://api.example.com/.evil.test/x"),
        ("@evil.test/x", "https://api.example.com/@evil.test/x"),
        (
            ":443@evil.test/x",
            "https://api.example.com/:443@evil.test/x",
        ),
        ("/x#frag", "https://api.example.com/x"),
        ("?q=1", "https://api.example.com/?q=1"),
        ("/a/../../../b", "https://api.example.com/b"),
        ("/é?q=é", "https://api.example.com/é?q=é"),
    ] {
        assert_eq!(s.resolve(r).unwrap(), want, "{r}");
    }
    assert_eq!(s.base_prefix(), "https://api.example.com");
}

#[test]
fn base_url_path_is_the_directory_every_relative_url_extends() {
    let s = scope("https://API.example.com:443/v1/", &[]);
    assert_eq!(s.base_prefix(), "https://api.example.com/v1");
    for (r, want) in [
        ("/orders", "https://api.example.com/v1/orders"),
        ("orders", "https://api.example.com/v1/orders"),
        ("?q", "https://api.example.com/v1?q"),
        ("../admin", "https://api.example.com/admin"),
    ] {
        assert_eq!(s.resolve(r).unwrap(), want, "{r}");
    }
}

/// RFC 3986 §5.4's examples for relative paths; baseUrl `http://a/b/c` is
/// the directory `/b/c/`, as the RFC's base `/b/c/d;p` is.
#[test]
fn rfc_3986_examples_for_relative_paths() {
    let s = scope("http://a/b/c", &[]);
    #[rustfmt::skip]
    let cases = [
        ("g", "/b/c/g"), ("./g", "/b/c/g"), ("g/", "/b/c/g/"), ("g?y", "/b/c/g?y"), ("g#s", "/b/c/g"),
        ("g?y#s", "/b/c/g?y"), (";x", "/b/c/;x"), ("g;x", "/b/c/g;x"), ("g;x?y#s", "/b/c/g;x?y"),
        (".", "/b/c/"), ("./", "/b/c/"), ("..", "/b/"), ("../", "/b/"), ("../g", "/b/g"), ("../..", "/"),
        ("../../", "/"), ("../../g", "/g"), ("../../../g", "/g"), ("../../../../g", "/g"), ("g.", "/b/c/g."),
        (".g", "/b/c/.g"), ("g..", "/b/c/g.."), ("..g", "/b/c/..g"), ("./../g", "/b/g"), ("./g/.", "/b/c/g/"),
        ("g/./h", "/b/c/g/h"), ("g/../h", "/b/c/h"), ("g;x=1/./y", "/b/c/g;x=1/y"), ("g;x=1/../y", "/b/c/y"),
        ("g?y/./x", "/b/c/g?y/./x"), ("g?y/../x", "/b/c/g?y/../x"), ("g#s/./x", "/b/c/g"), ("g#s/../x", "/b/c/g"),
    ];
    for (r, path) in cases {
        assert_eq!(s.resolve(r).unwrap(), format!("http://a{path}"), "{r}");
    }
}

#[test]
fn absolute_urls_go_only_to_allowed_origins() {
    let s = scope(
        "https://api.example.com/v1",
        &["https://cdn.example.com:8443", "http://127.0.0.1:8080"],
    );
    for (r, want) in [
        ("https://api.example.com/x", "https://api.example.com/x"),
        (
            "HTTPS://Api.Example.COM:443/x/./y?q#f",
            "https://api.example.com/x/y?q",
        ),
        ("https://api.example.com", "https://api.example.com/"),
        (
            "https://cdn.example.com:8443/a",
            "https://cdn.example.com:8443/a",
        ),
        ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080/a"),
        ("//api.example.com/y", "https://api.example.com/y"),
    ] {
        assert_eq!(s.resolve(r).unwrap(), want, "{r}");
    }
    for r in [
        "https://evil.test/x",
        "http://api.example.com/x",
        "https://api.example.com:8443/x",
        "https://cdn.example.com/x",
        "https://api.example.com.evil.test/x",
        "//evil.test/x",
        "http://127.0.0.1:8081/",
    ] {
        let m = refused(&s, r);
        assert!(
            m.contains("tokenOrigins") && m.contains("wx.request"),
            "{r}: {m}"
        );
    }
}

#[test]
fn urls_parsers_read_differently_are_refused() {
    let s = scope("https://api.example.com", &["https://evil.test"]);
    for r in [
        "https://evil.test\\@api.example.com/",
        "https://api.example.com\\@evil.test/",
        "https://user@api.example.com/",
        "https://api.example.com@evil.test/",
        "https://api%2eexample.com/",
        "https://аpi.example.com/",
        "https:///api.example.com/",
        "https:api.example.com/x",
        "https://api.example.com:+443/",
        "https://api.example.com:99999/",
        "https://api.example.com:4 43/",
        "https://[::1/",
        "https://[xyz]/",
        "https://[::1]x/",
        "/\\evil.test/x",
        "\\\\evil.test/x",
        "/x\r\nHost: evil.test",
        "/x\t",
        "javascript:alert(1)",
        "ftp://api.example.com/",
        "",
    ] {
        if r.is_empty() {
            // An empty reference is baseUrl itself.
            assert_eq!(s.resolve(r).unwrap(), "https://api.example.com/");
            continue;
        }
        refused(&s, r);
    }
    let long = format!("/{}", "a".repeat(MAX_URL_LEN));
    assert!(refused(&s, &long).contains("16 KiB"));
}

#[test]
fn messages_never_carry_the_query() {
    let s = scope("https://api.example.com", &[]);
    let m = refused(&s, "https://evil.test/x?secret=1");
    assert!(!m.contains("secret"), "{m}");
    let m = refused(&s, "https://us er@x/?secret=1");
    assert!(
        !m.contains("secret") && m.contains("https://us er@x/"),
        "{m}"
    );
}

#[test]
fn ipv6_and_ports_compare_by_origin() {
    let s = scope("http://[::1]:8080", &["https://[2001:db8::1]"]);
    assert_eq!(s.resolve("/a").unwrap(), "http://[::1]:8080/a");
    assert_eq!(
        s.resolve("https://[2001:DB8::1]:443/b").unwrap(),
        "https://[2001:db8::1]/b"
    );
    refused(&s, "http://[::2]:8080/a");
    let s = scope("http://h:80", &[]);
    assert_eq!(s.resolve("http://h/").unwrap(), "http://h/");
    assert_eq!(s.resolve("http://h:/x").unwrap(), "http://h/x");
}

#[test]
fn bad_base_urls_and_origins_are_bad_config() {
    for base in [
        "api.example.com",
        "https://",
        "https://a.test/x?q",
        "https://a.test/#f",
        "https://u@a.test",
        "ws://a.test",
        "/relative",
    ] {
        let e = UrlScope::new(base, &[]).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadConfig, "{base}");
        assert!(e.message.starts_with("baseUrl"), "{}", e.message);
    }
    for origin in [
        "https://a.test/",
        "https://a.test/x",
        "a.test",
        "https://a.test?x",
        "https://a.test#",
        "*",
    ] {
        let e = UrlScope::new("https://b.test", &[origin.to_owned()]).unwrap_err();
        assert!(
            e.message.starts_with("tokenOrigins"),
            "{origin}: {}",
            e.message
        );
    }
    let many = vec!["https://a.test".to_owned(); MAX_TOKEN_ORIGINS + 1];
    assert!(UrlScope::new("https://b.test", &many).is_err());
}

#[test]
fn without_base_url_only_allowed_absolute_urls_resolve() {
    let s = scope("", &["https://a.test"]);
    assert_eq!(s.base_prefix(), "");
    assert_eq!(s.resolve("https://a.test/x").unwrap(), "https://a.test/x");
    assert!(refused(&s, "/x").contains("needs baseUrl"));
    assert!(refused(&s, "//a.test/x").contains("needs baseUrl"));
}

#[test]
fn dot_segments_are_removed_as_rfc_3986_says() {
    for (input, want) in [
        ("/a/b/c/./../../g", "/a/g"),
        ("/mid/content=5/../6", "/mid/6"),
        ("", ""),
        ("/", "/"),
        ("/..", "/"),
        ("/../..", "/"),
        ("/a/..", "/"),
        ("/a/b/..", "/a/"),
        ("/a//../b", "/a/b"),
        ("/a/./b/.", "/a/b/"),
        ("/a//b/", "/a//b/"),
    ] {
        assert_eq!(remove_dot_segments(input), want, "{input}");
    }
}
