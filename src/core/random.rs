//! A small hash-based DRBG in the spirit of NIST SP 800-90A Hash_DRBG.
//!
//! Why not call getrandom every time: a mini-program has no synchronous
//! entropy source (`wx.getRandomValues` is async), and getrandom's web backend
//! fails there. So the host seeds this generator once at start-up (from
//! `wx.getRandomValues`, or from getrandom where it works) and every random
//! byte wxsession needs comes from here, never from `Math.random`.

use crate::core::error::{Error, ErrorCode};
use sha1::{Digest, Sha1};

const MIN_SEED: usize = 16;

#[derive(Default)]
pub struct Drbg {
    key: Option<[u8; 20]>,
    counter: u64,
}

impl Drbg {
    /// Mixes `entropy` into the state; the first call must bring ≥16 bytes.
    pub fn reseed(&mut self, entropy: &[u8]) -> Result<(), Error> {
        if self.key.is_none() && entropy.len() < MIN_SEED {
            return Err(Error::new(
                ErrorCode::BadInput,
                "a first seed needs at least 16 bytes of entropy",
            ));
        }
        let mut h = Sha1::new();
        h.update(b"wxsession-seed");
        h.update(self.key.unwrap_or([0; 20]));
        h.update(entropy);
        self.key = Some(h.finalize().into());
        Ok(())
    }

    pub fn is_seeded(&self) -> bool {
        self.key.is_some()
    }

    pub fn fill(&mut self, out: &mut [u8]) -> Result<(), Error> {
        let key = self.key.ok_or_else(|| {
            Error::new(
                ErrorCode::RandomUnavailable,
                "no entropy source has seeded the generator",
            )
        })?;
        for chunk in out.chunks_mut(20) {
            self.counter += 1;
            let block: [u8; 20] = Sha1::new()
                .chain_update(key)
                .chain_update(self.counter.to_be_bytes())
                .finalize()
                .into();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
        // Ratchet the key so a state captured later cannot replay past output.
        self.counter += 1;
        self.key = Some(
            Sha1::new()
                .chain_update(b"ratchet")
                .chain_update(key)
                .chain_update(self.counter.to_be_bytes())
                .finalize()
                .into(),
        );
        Ok(())
    }

    /// `len` characters from `[A-Za-z0-9]`, unbiased (rejection sampling).
    pub fn alphanumeric(&mut self, len: usize) -> Result<String, Error> {
        const ALPHABET: &[u8; 62] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        if len == 0 || len > 1024 {
            return Err(Error::new(ErrorCode::BadInput, "length must be 1..=1024"));
        }
        let mut out = String::with_capacity(len);
        let mut buf = [0u8; 64];
        while out.len() < len {
            self.fill(&mut buf)?;
            // 248 = 4 * 62: bytes at or above it would favour the first letters.
            for &b in buf.iter().filter(|&&b| b < 248) {
                if out.len() == len {
                    break;
                }
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_run_unseeded() {
        let mut d = Drbg::default();
        assert_eq!(
            d.fill(&mut [0; 4]).unwrap_err().code,
            ErrorCode::RandomUnavailable
        );
        assert_eq!(d.reseed(&[1; 8]).unwrap_err().code, ErrorCode::BadInput);
    }

    #[test]
    fn output_never_repeats_and_depends_on_the_seed() {
        let (mut a, mut b) = (Drbg::default(), Drbg::default());
        a.reseed(&[1; 32]).unwrap();
        b.reseed(&[2; 32]).unwrap();
        let (mut x, mut y, mut z) = ([0u8; 45], [0u8; 45], [0u8; 45]);
        a.fill(&mut x).unwrap();
        a.fill(&mut y).unwrap();
        b.fill(&mut z).unwrap();
        assert_ne!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn alphanumeric_is_roughly_uniform() {
        let mut d = Drbg::default();
        d.reseed(&[7; 32]).unwrap();
        let s = d.alphanumeric(1024).unwrap();
        assert_eq!(s.len(), 1024);
        assert!(s.bytes().all(|c| c.is_ascii_alphanumeric()));
        let distinct: std::collections::BTreeSet<u8> = s.bytes().collect();
        assert!(distinct.len() > 55, "{} distinct", distinct.len());
        assert_eq!(d.alphanumeric(0).unwrap_err().code, ErrorCode::BadInput);
    }
}
