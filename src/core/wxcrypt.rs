//! The cryptography of the server half of the mini-program login: app
//! session tokens (random, stored only as a SHA-256 hash) and WeChat's
//! encrypted user data (AES-128-CBC with PKCS#7 under the session_key, the
//! plaintext carrying a watermark of the app it was meant for).

use crate::core::error::{Error, ErrorCode};
use crate::core::json_object::RawObject;
use aes::cipher::consts::U16;
use aes::cipher::inout::InOutBuf;
use aes::cipher::{BlockDecryptMut, KeyIvInit};
use sha2::{Digest, Sha256};

type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;

/// Encrypted data WeChat hands a mini-program is a few KB; this is generous.
pub const MAX_ENCRYPTED_LEN: usize = 256 * 1024;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// base64url without padding (what an app session token is).
pub fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(B64URL[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Each byte's value in the standard alphabet, or 0xFF: one load per
/// character (a search of the alphabet made decoding dominate decryption).
const SEXTETS: [u8; 256] = {
    let mut table = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        table[B64[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn sextet(c: u8) -> Option<u32> {
    match SEXTETS[c as usize] {
        0xFF => None,
        v => Some(u32::from(v)),
    }
}

/// Standard base64 with padding, strictly: no whitespace, no other
/// alphabet, no bits left over. Linear; None for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(b.len() / 4 * 3);
    for (i, quad) in b.chunks(4).enumerate() {
        let last = i == b.len() / 4 - 1;
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for (j, &c) in quad.iter().enumerate() {
            let v = if j >= 4 - pad { 0 } else { sextet(c)? };
            n |= v << (18 - 6 * j);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // Bits a shorter encoding would have left zero must be zero.
        if (pad == 1 && bytes[2] != 0) || (pad == 2 && bytes[1] != 0) {
            return None;
        }
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// The key an app session token is stored under: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        out.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    out
}

/// An app session token as this server issues it: 32 random bytes, base64url.
pub fn is_token_shaped(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

fn failed(why: &str) -> Error {
    Error::new(ErrorCode::DecryptFailed, why)
}

/// The PKCS#7 pad length of the last block, or 0 when the padding is
/// invalid, decided without branching on the plaintext bytes (so timing
/// says nothing about where a check failed).
fn pad_len(block: &[u8; 16]) -> usize {
    let n = block[15];
    let mut bad = u8::from(n == 0) | u8::from(n > 16);
    for (i, &b) in block.iter().enumerate() {
        // Byte i is padding when i >= 16 - n.
        let in_pad = u8::from(i as u8 >= 16u8.wrapping_sub(n));
        bad |= in_pad & u8::from(b != n);
    }
    if bad == 0 {
        n as usize
    } else {
        0
    }
}

/// WeChat's `encryptedData` decrypted with the user's `session_key` and
/// the `iv` that came with it; the plaintext must be a JSON object whose
/// `watermark.appid` is `app_id`. Returns it as JSON text. Every failure
/// is DECRYPT_FAILED, and a bad padding has the same message as bad JSON.
/// The time taken can still differ (UTF-8 and JSON are checked only after
/// a valid padding); a padding oracle here would only decrypt data under
/// the caller's own session_key, which WeChat rotates at every login.
pub fn decrypt_data(
    encrypted: &str,
    iv: &str,
    session_key: &str,
    app_id: &str,
) -> Result<String, Error> {
    if encrypted.len() > MAX_ENCRYPTED_LEN * 4 / 3 + 4 {
        return Err(failed("encryptedData is larger than 256 KiB"));
    }
    let key = base64_decode(session_key)
        .filter(|k| k.len() == 16)
        .ok_or_else(|| failed("the session_key is not 16 bytes of base64"))?;
    let iv = base64_decode(iv)
        .filter(|v| v.len() == 16)
        .ok_or_else(|| failed("iv is not 16 bytes of base64"))?;
    let mut data = base64_decode(encrypted)
        .filter(|d| !d.is_empty() && d.len() % 16 == 0)
        .ok_or_else(|| failed("encryptedData is not whole AES blocks of base64"))?;
    let mut cipher =
        Aes128CbcDec::new_from_slices(&key, &iv).map_err(|_| failed("bad key or iv"))?;
    // All blocks in one call: CBC decrypts them independently, and the
    // bit-sliced software AES (wasm has no AES instructions) does several
    // at a time. `data` is whole blocks (checked above): no tail.
    let (blocks, _) = InOutBuf::from(&mut data[..]).into_chunks::<U16>();
    cipher.decrypt_blocks_inout_mut(blocks);
    let last: [u8; 16] = data[data.len() - 16..].try_into().expect("one block");
    let pad = pad_len(&last);
    let plain = if pad == 0 {
        None
    } else {
        Some(&data[..data.len() - pad])
    };
    let obj = plain
        .and_then(|p| std::str::from_utf8(p).ok())
        .and_then(|text| RawObject::parse(text).ok().map(|o| (text, o)));
    let Some((text, obj)) = obj else {
        return Err(failed(
            "could not decrypt encryptedData with this session_key and iv",
        ));
    };
    let watermark = obj
        .get_raw("watermark")
        .and_then(|w| RawObject::parse(w).ok());
    let appid = watermark.and_then(|w| w.get_str("appid"));
    if appid.as_deref() != Some(app_id) {
        return Err(failed("the data's watermark names another app"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // WeChat's published example (open-ability/signature).
    const APP: &str = "wx4f4bc4dec97d474b";
    const KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
    const IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";
    const DATA: &str = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==";

    #[test]
    fn wechats_published_example_decrypts_to_its_user() {
        let text = decrypt_data(DATA, IV, KEY, APP).unwrap();
        let obj = RawObject::parse(&text).unwrap();
        assert_eq!(
            obj.get_str("openId").as_deref(),
            Some("oGZUI0egBJY1zhBYw2KhdUfwVJJE")
        );
        assert_eq!(obj.get_str("nickName").as_deref(), Some("Band"));
        assert_eq!(
            decrypt_data(DATA, IV, KEY, "wx_other").unwrap_err().code,
            ErrorCode::DecryptFailed
        );
    }

    #[test]
    fn anything_else_is_decrypt_failed() {
        let other_key = "AAAAAAAAAAAAAAAAAAAAAA==";
        let truncated = &DATA[..DATA.len() - 24];
        for (data, iv, key) in [
            (DATA, IV, other_key),
            (DATA, other_key, KEY),
            (truncated, IV, KEY),
            ("not base64!", IV, KEY),
            (DATA, "short", KEY),
            (DATA, IV, "c2hvcnQ="),
            ("", IV, KEY),
        ] {
            assert_eq!(
                decrypt_data(data, iv, key, APP).unwrap_err().code,
                ErrorCode::DecryptFailed
            );
        }
    }

    #[test]
    fn padding_is_checked_whole() {
        let mut block = [0u8; 16];
        block[15] = 3;
        block[14] = 3;
        block[13] = 3;
        assert_eq!(pad_len(&block), 3);
        block[13] = 2;
        assert_eq!(pad_len(&block), 0);
        assert_eq!(pad_len(&[16; 16]), 16);
        assert_eq!(pad_len(&[0; 16]), 0);
        assert_eq!(pad_len(&[17; 16]), 0);
    }

    #[test]
    fn base64_is_strict_and_round_trips() {
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(base64_decode("aGkh").unwrap(), b"hi!");
        for bad in ["", "aGk", "aG=k", "aGl=", "a===", "aGk =", "aGk\n", "aG+-"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        let token = base64url(&[7u8; 32]);
        assert!(is_token_shaped(&token));
        assert!(!is_token_shaped(&token[1..]));
        assert!(!is_token_shaped(&format!("{}=", &token[1..])));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
