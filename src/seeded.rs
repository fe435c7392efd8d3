//! Test randomness that repeats. Secrets in the doctor tests are built at run time
//! (so no key-shaped literal sits in the repository), but a test whose input
//! changes on every run fails at random: CI drew `…3Dummy7…` once in 40 runs and
//! missed a key. Each test thread draws from its own generator, seeded from the
//! test's name and `CLAWVAULT_TEST_SEED` (default 0), so a run is the same on every
//! machine and in any test order.
//!
//! Exploring other draws is a loop over seeds:
//! `for s in $(seq 1 200); do CLAWVAULT_TEST_SEED=$s cargo test --test doctor_hosts -q || echo $s; done`;
//! a failing seed reproduces exactly. Unit tests use it as `crate::seeded`, the
//! integration tests through `#[path]`, so there is one copy.
#![allow(dead_code)]

use std::cell::RefCell;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn seed() -> u64 {
    let base: u64 = std::env::var("CLAWVAULT_TEST_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    // FNV-1a over the thread (test) name, so tests do not share a stream.
    let name = std::thread::current().name().unwrap_or("").to_owned();
    name.bytes().fold(0xcbf2_9ce4_8422_2325 ^ base, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

thread_local! {
    static RNG: RefCell<StdRng> = RefCell::new(StdRng::seed_from_u64(seed()));
}

/// `n` characters drawn from `alpha`.
pub fn r(alpha: &[u8], n: usize) -> String {
    RNG.with(|g| {
        let mut g = g.borrow_mut();
        (0..n)
            .map(|_| alpha[g.gen_range(0..alpha.len())] as char)
            .collect()
    })
}

/// An `n`-digit decimal number with no leading zero.
pub fn digits(n: usize) -> String {
    RNG.with(|g| {
        let mut g = g.borrow_mut();
        let mut s = g.gen_range(1..10).to_string();
        s.extend((1..n).map(|_| char::from(b'0' + g.gen_range(0..10u8))));
        s
    })
}
