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

/// The digest of `bytes`, a word at a time.
pub fn digest(key: [u64; 2], bytes: &[u8]) -> Digest {
    let mut s = State([
        key[0] ^ 0x736f_6d65_7073_6575,
        key[1] ^ 0x646f_7261_6e64_6f6d ^ 0xee,
        key[0] ^ 0x6c79_6765_6e65_7261,
        key[1] ^ 0x7465_6462_7974_6573,
    ]);
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        s.absorb(u64::from_le_bytes(w.try_into().expect("8 bytes")));
    }
    // The last word: the tail bytes, and the length's low byte on top.
    let tail = words.remainder();
    let mut word = [0u8; 8];
    word[..tail.len()].copy_from_slice(tail);
    word[7] = bytes.len() as u8;
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
            bytes(digest(KEY, &msg[..0])),
            [
                0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55,
                0x02, 0x93
            ]
        );
        assert_eq!(
            bytes(digest(KEY, &msg[..1])),
            [
                0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22,
                0xfc, 0x45
            ]
        );
        assert_eq!(
            bytes(digest(KEY, &msg[..2])),
            [
                0x81, 0x77, 0x22, 0x8d, 0xa4, 0xa4, 0x5d, 0xc7, 0xfc, 0xa3, 0x8b, 0xde, 0xf6, 0x0a,
                0xff, 0xe4
            ]
        );
    }

    #[test]
    fn matches_the_reference_vectors_across_whole_words() {
        // The same table at lengths that end on, before and past a word.
        let msg: Vec<u8> = (0..64).collect();
        let rows: [(usize, [u8; 16]); 4] = [
            (
                8,
                [
                    0x3b, 0x62, 0xa9, 0xba, 0x62, 0x58, 0xf5, 0x61, 0x0f, 0x83, 0xe2, 0x64, 0xf3,
                    0x14, 0x97, 0xb4,
                ],
            ),
            (
                15,
                [
                    0x54, 0x93, 0xe9, 0x99, 0x33, 0xb0, 0xa8, 0x11, 0x7e, 0x08, 0xec, 0x0f, 0x97,
                    0xcf, 0xc3, 0xd9,
                ],
            ),
            (
                16,
                [
                    0x6e, 0xe2, 0xa4, 0xca, 0x67, 0xb0, 0x54, 0xbb, 0xfd, 0x33, 0x15, 0xbf, 0x85,
                    0x23, 0x05, 0x77,
                ],
            ),
            (
                63,
                [
                    0x51, 0x50, 0xd1, 0x77, 0x2f, 0x50, 0x83, 0x4a, 0x50, 0x3e, 0x06, 0x9a, 0x97,
                    0x3f, 0xbd, 0x7c,
                ],
            ),
        ];
        for (n, want) in rows {
            assert_eq!(bytes(digest(KEY, &msg[..n])), want, "length {n}");
        }
    }

    #[test]
    fn every_length_and_the_key_matter() {
        // Lengths across word boundaries: distinct inputs, distinct digests.
        let msg: Vec<u8> = (0..40).collect();
        let all: Vec<Digest> = (0..=40).map(|n| digest(KEY, &msg[..n])).collect();
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| b != a), "length {i}");
        }
        assert_ne!(
            digest([1, 2], b"sig:https://a.test/"),
            digest(KEY, b"sig:https://a.test/")
        );
        // Length is part of the input: a trailing zero byte is another key.
        assert_ne!(digest(KEY, b"a"), digest(KEY, b"a\0"));
    }
}
