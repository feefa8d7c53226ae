//! WeChat's sha1 signatures: JS-SDK `wx.config`, mini-program `rawData`
//! and the push-message check. Verification never panics and compares in
//! constant time, so a forged signature learns nothing from timing.

use sha1::{Digest, Sha1};

pub fn sha1_hex(parts: &[&str]) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// The page URL as signed: everything before the first `#`.
pub fn signed_url(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}

/// `sha1("jsapi_ticket=…&noncestr=…&timestamp=…&url=…")`: keys in ASCII
/// order, values raw (not URL-encoded), the URL without its fragment.
pub fn sign_jsapi(jsapi_ticket: &str, nonce_str: &str, timestamp: &str, url: &str) -> String {
    sha1_hex(&[
        "jsapi_ticket=",
        jsapi_ticket,
        "&noncestr=",
        nonce_str,
        "&timestamp=",
        timestamp,
        "&url=",
        signed_url(url),
    ])
}

/// `wx.getUserInfo`'s check: `sha1(rawData + session_key)`. Without a key
/// the "signature" is a plain sha1 anyone can compute: never valid.
pub fn verify_raw_data(raw_data: &str, signature: &str, session_key: &str) -> bool {
    !session_key.is_empty() && ct_eq_hex(&sha1_hex(&[raw_data, session_key]), signature)
}

/// The server-configuration / push check: `sha1(sort(token, timestamp, nonce))`.
/// An empty token is no secret: never valid.
pub fn verify_push_signature(token: &str, timestamp: &str, nonce: &str, signature: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    let mut parts = [token, timestamp, nonce];
    parts.sort_unstable();
    ct_eq_hex(&sha1_hex(&parts), signature)
}

/// Equal hex digests, case-insensitively, in time independent of where
/// they differ. A signature of the wrong length is simply unequal.
fn ct_eq_hex(expected: &str, given: &str) -> bool {
    if expected.len() != given.len() {
        return false;
    }
    let diff = expected
        .bytes()
        .zip(given.bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b.to_ascii_lowercase()));
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_wechats_official_jssdk_example() {
        let sig = sign_jsapi(
            "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            "Wm3WZYTPz0wzccnW",
            "1414587457",
            "http://mp.weixin.qq.com?params=value",
        );
        assert_eq!(sig, "0f9de62fce790f9a083d5c99e95740ceb90c27ed");
        let with_fragment = sign_jsapi(
            "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
            "Wm3WZYTPz0wzccnW",
            "1414587457",
            "http://mp.weixin.qq.com?params=value#/route?x=1",
        );
        assert_eq!(with_fragment, sig);
    }

    #[test]
    fn verifies_raw_data_and_push_signatures() {
        let sig = sha1_hex(&["{\"nickName\":\"Band\"}", "HyVFkGl5F5OQWJZZaNzBBg=="]);
        assert!(verify_raw_data(
            "{\"nickName\":\"Band\"}",
            &sig,
            "HyVFkGl5F5OQWJZZaNzBBg=="
        ));
        assert!(verify_raw_data(
            "{\"nickName\":\"Band\"}",
            &sig.to_uppercase(),
            "HyVFkGl5F5OQWJZZaNzBBg=="
        ));
        assert!(!verify_raw_data(
            "{\"nickName\":\"Bond\"}",
            &sig,
            "HyVFkGl5F5OQWJZZaNzBBg=="
        ));
        let push = sha1_hex(&["1409304348", "mytoken", "xxxxxx"]);
        assert!(verify_push_signature(
            "mytoken",
            "1409304348",
            "xxxxxx",
            &push
        ));
        assert!(!verify_push_signature(
            "other",
            "1409304348",
            "xxxxxx",
            &push
        ));
        for malformed in ["", "zz", "0f9d", &"é".repeat(20)] {
            assert!(!verify_push_signature(
                "mytoken",
                "1409304348",
                "xxxxxx",
                malformed
            ));
        }
    }

    #[test]
    fn an_empty_key_or_token_never_verifies() {
        let data = "{\"nickName\":\"Band\"}";
        assert!(!verify_raw_data(data, &sha1_hex(&[data]), ""));
        assert!(!verify_raw_data("", &sha1_hex(&[]), ""));
        let push = sha1_hex(&["", "1409304348", "xxxxxx"]);
        assert!(!verify_push_signature("", "1409304348", "xxxxxx", &push));
        assert!(!verify_push_signature("", "", "", &sha1_hex(&[])));
    }

    #[test]
    fn sha1_of_the_empty_string_is_the_standard_one() {
        assert_eq!(sha1_hex(&[]), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
