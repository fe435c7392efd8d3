//! Benchmark of batch reads from OpenBao (`bench/openbao.sh` runs it):
//! `cargo test --test openbao_bench -- --ignored --nocapture`.
//!
//! With `CLAWVAULT_BENCH_ADDR` and `CLAWVAULT_BENCH_TOKEN_FILE` it uses that server
//! (the script's), else it starts a dev server itself. It writes 512 secrets under
//! `clawvault/bench` and reports the median time to read 1, 16 and 512 of them with
//! `get_many`, cold (a new backend each run, as a fresh `clawvault resolve` process
//! has: token lookup and new connections included) and warm (one backend).
// Unix only: the real OpenBao dev server (Linux binary).
#![cfg(unix)]

#[path = "common/openbao.rs"]
mod bao;

use std::time::{Duration, Instant};

use clawvault::backend::openbao::{OpenBaoAuth, OpenBaoBackend, OpenBaoConfig, Tuning};
use clawvault::backend::{Backend, EntryName};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn bench_get_many() {
    let server;
    let (addr, token_file) = match (
        std::env::var("CLAWVAULT_BENCH_ADDR"),
        std::env::var("CLAWVAULT_BENCH_TOKEN_FILE"),
    ) {
        (Ok(a), Ok(f)) => (a, f.into()),
        _ => {
            let Some(s) = bao::DevServer::start("bench_get_many") else {
                return;
            };
            let f = s.private_file("bench-token", &s.root_token);
            let a = s.addr.clone();
            server = s;
            let _ = &server;
            (a, f)
        }
    };
    let concurrency: usize = std::env::var("CLAWVAULT_BENCH_CONCURRENCY")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(Tuning::default().concurrency);
    let cfg = OpenBaoConfig {
        addr,
        mount: "secret".into(),
        prefix: "clawvault/bench".into(),
        auth: OpenBaoAuth::Token {
            token_file: Some(token_file),
            token_keychain: None,
        },
        ca_file: None,
        allow_insecure_http: false,
        namespace: None,
        links: Default::default(),
    };
    let tuning = Tuning {
        concurrency,
        ..Tuning::default()
    };
    let make = || OpenBaoBackend::with_tuning(&cfg, tuning.clone()).unwrap();
    let names: Vec<EntryName> = (0..512)
        .map(|i| EntryName::new(&format!("main/p{i}:default")).unwrap())
        .collect();
    let b = make();
    if std::env::var_os("CLAWVAULT_BENCH_SKIP_WRITE").is_none() {
        for (i, n) in names.iter().enumerate() {
            b.set(n, format!("sk-bench-{i:04}-{}", "x".repeat(80)).as_bytes())
                .unwrap();
        }
    }
    println!("openbao get_many, concurrency {concurrency}");
    for (count, runs) in [(1usize, 31usize), (16, 31), (512, 15)] {
        let batch = &names[..count];
        let mut cold = Vec::new();
        for _ in 0..runs {
            let t0 = Instant::now();
            let fresh = make();
            let got = fresh.get_many(batch);
            cold.push(t0.elapsed());
            assert!(got.iter().all(|r| matches!(r, Ok(Some(_)))));
        }
        let mut warm = Vec::new();
        for _ in 0..runs {
            let t0 = Instant::now();
            let got = b.get_many(batch);
            warm.push(t0.elapsed());
            assert!(got.iter().all(|r| matches!(r, Ok(Some(_)))));
        }
        println!(
            "BENCH get_many ids={count:<4} runs={runs:<3} median cold {:>10}   warm {:>10}",
            ms(median(cold)),
            ms(median(warm))
        );
    }
}
