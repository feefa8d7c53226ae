//! SipHash-2-4 with a 128-bit output (Aumasson & Bernstein), the digest the
//! store's map keys its entries by. Keyed with host entropy per store, so
//! no caller can choose URLs that collide: at 128 bits, two keys of one
//! store share a digest with odds of about n²/2¹²⁹ (10⁻²⁵ at ten million
//! keys), and a memory-only store can forget the key text itself.

/// A key's identity in one store.
pub type Digest = (u64, u64);

#[derive(Clone, Copy)]
struct State([u64; 4]);

impl State {
    fn round(&mut self) {
        let v = &mut self.0;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn absorb(&mut self, word: u64) {
        self.0[3] ^= word;
        self.round();
        self.round();
        self.0[0] ^= word;
    }

    fn squeeze(&mut self, mark: u64) -> u64 {
        self.0[2] ^= mark;
        for _ in 0..4 {
            self.round();
        }
        self.0[0] ^ self.0[1] ^ self.0[2] ^ self.0[3]
    }
}

/// The digest of the bytes of `parts`, one after another (a kind's prefix
/// and an id hash as the key they make, without building that string).
pub fn digest(key: [u64; 2], parts: &[&[u8]]) -> Digest {
    let mut s = State([
        key[0] ^ 0x736f_6d65_7073_6575,
        key[1] ^ 0x646f_7261_6e64_6f6d ^ 0xee,
        key[0] ^ 0x6c79_6765_6e65_7261,
        key[1] ^ 0x7465_6462_7974_6573,
    ]);
    let mut word = [0u8; 8];
    let mut filled = 0;
    let mut total: u64 = 0;
    for part in parts {
        total = total.wrapping_add(part.len() as u64);
        for &b in *part {
            word[filled] = b;
            filled += 1;
            if filled == 8 {
                s.absorb(u64::from_le_bytes(word));
                filled = 0;
            }
        }
    }
    word[filled..].fill(0);
    word[7] = total as u8;
    s.absorb(u64::from_le_bytes(word));
    let low = s.squeeze(0xee);
    s.0[1] ^= 0xdd;
    let high = s.squeeze(0);
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u64; 2] = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];

    fn bytes(d: Digest) -> Vec<u8> {
        [d.0.to_le_bytes(), d.1.to_le_bytes()].concat()
    }

    #[test]
    fn matches_the_reference_vectors() {
        // vectors_sip128 of the reference implementation: key 00..0f,
        // message 00..(n-1).
        let msg: Vec<u8> = (0..16).collect();
        assert_eq!(
            bytes(digest(KEY, &[&msg[..0]])),
            [
                0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55,
                0x02, 0x93
            ]
        );
        assert_eq!(
            bytes(digest(KEY, &[&msg[..1]])),
            [
                0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22,
                0xfc, 0x45
            ]
        );
        assert_eq!(
            bytes(digest(KEY, &[&msg[..2]])),
            [
                0x81, 0x77, 0x22, 0x8d, 0xa4, 0xa4, 0x5d, 0xc7, 0xfc, 0xa3, 0x8b, 0xde, 0xf6, 0x0a,
                0xff, 0xe4
            ]
        );
    }

    #[test]
    fn parts_hash_as_their_concatenation_and_the_key_matters() {
        let whole = digest(KEY, &[b"sig:https://a.test/?id=0000001"]);
        assert_eq!(
            digest(KEY, &[b"sig:", b"https://a.test/?id=0000001"]),
            whole
        );
        assert_eq!(
            digest(KEY, &[b"sig:https://a.test/", b"", b"?id=0000001"]),
            whole
        );
        assert_ne!(digest(KEY, &[b"sig:https://a.test/?id=0000002"]), whole);
        assert_ne!(digest([1, 2], &[b"sig:https://a.test/?id=0000001"]), whole);
        // Length is part of the input: a trailing zero byte is another key.
        assert_ne!(digest(KEY, &[b"a"]), digest(KEY, &[b"a\0"]));
    }
}
