//! What the decoder fuzz tests share: a seeded generator, mutation of
//! valid inputs, and a clock for the linearity checks. Included by path
//! from each fuzz test file.
#![allow(dead_code)] // each file uses its own part of it

use std::time::{Duration, Instant};

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

pub fn iterations() -> usize {
    std::env::var("WXSESSION_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

/// Pieces that break decoders: JSON syntax, escapes, surrogates, URL
/// delimiters, non-ASCII, controls.
pub const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e3",
    "1.5",
    "9223372036854775808",
    "\\u0000",
    "\\ud800",
    "\\u00e9",
    "€",
    "é",
    "😀",
    "%2e",
    ".",
    "..",
    "/",
    "//",
    "@",
    "?",
    "#",
    ":8080",
    ":99999",
    "[::1]",
    "http://",
    "HTTPS://",
    "javascript:",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\u{7f}",
    "\u{0}",
    "a",
    "Z",
    "~",
];

/// One to four random edits of `base`, on char boundaries.
pub fn mutate(r: &mut Rng, base: &str) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for _ in 0..1 + r.below(4) {
        let at = r.below(s.len() + 1);
        match r.below(5) {
            0 if !s.is_empty() => {
                let end = (at + 1 + r.below(8)).min(s.len());
                s.drain(at.min(end)..end);
            }
            1 if !s.is_empty() => {
                let i = at.min(s.len() - 1);
                s[i] = r.pick(TOKENS).chars().next().unwrap_or('x');
            }
            2 if !s.is_empty() => {
                let from = r.below(s.len());
                let piece: Vec<char> = s[from..(from + 1 + r.below(12)).min(s.len())].to_vec();
                s.splice(at..at, piece);
            }
            _ => {
                let t: Vec<char> = r.pick(TOKENS).chars().collect();
                s.splice(at..at, t);
            }
        }
    }
    s.into_iter().collect()
}

/// `n` mutants of inputs picked from `corpus`, from `seed`.
pub fn mutants<'a>(
    seed: u64,
    corpus: &'a [&'a str],
    n: usize,
) -> impl Iterator<Item = String> + 'a {
    let mut r = Rng::new(seed);
    (0..n).map(move |_| {
        let base = r.pick(corpus);
        mutate(&mut r, base)
    })
}

/// Runs `f` and fails if it takes longer than `limit` (a debug build;
/// a quadratic decoder takes seconds on these inputs, a linear one
/// milliseconds).
pub fn within<T>(limit: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let t0 = Instant::now();
    let out = f();
    let took = t0.elapsed();
    assert!(took < limit, "{what}: {took:?}, limit {limit:?}");
    out
}
