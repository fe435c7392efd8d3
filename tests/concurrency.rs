//! 8 clawvault processes x 200 mutations (paste, logout, order set) on one agent's
//! auth-profiles.json, a ninth writer imitating a running OpenClaw gateway that
//! rewrites `usageStats` under OpenClaw's own `<file>.lock` protocol, and an observer
//! that parses the file continuously. Afterwards every mutation is present, every
//! unknown field intact, no lock file left behind, and the file was valid JSON at
//! every observed moment.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::Home;
use serde_json::{json, Value};

const WORKERS: usize = 8;
const MUTATIONS: usize = 200;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// One gateway write, exactly as OpenClaw does it: O_EXCL lock with pid/createdAt,
/// read-modify-write, atomic rename, unlock.
fn gateway_bump(path: &std::path::Path, n: u64) {
    let lock = path.with_extension("json.lock");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&lock)
        {
            Ok(mut f) => {
                write!(
                    f,
                    "{{\"pid\":{},\"createdAt\":{}}}",
                    std::process::id(),
                    now_ms()
                )
                .unwrap();
                break;
            }
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => panic!("gateway could not take the lock: {e}"),
        }
    }
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["usageStats"]["gateway:probe"] = json!({"lastUsed": now_ms(), "count": n});
    let tmp = path.with_extension(format!("json.gw-{n}"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
    std::fs::remove_file(&lock).unwrap();
}

#[test]
fn eight_writers_and_a_gateway_lose_nothing() {
    let h = Arc::new(Home::new());
    let pw = h.init_age();
    std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
    std::fs::write(
        h.profiles(),
        serde_json::to_vec_pretty(
            &json!({"version":1,"futureTop":{"keep":[1,2,3]},"profiles":{},
            "usageStats":{"gateway:probe":{"count":0}}}),
        )
        .unwrap(),
    )
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let observed = Arc::new(AtomicU64::new(0));
    let observer = {
        let (h, stop, observed) = (h.clone(), stop.clone(), observed.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let bytes = std::fs::read(h.profiles()).unwrap();
                serde_json::from_slice::<Value>(&bytes)
                    .unwrap_or_else(|e| panic!("torn or invalid file observed: {e}"));
                observed.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let gateway = {
        let (h, stop) = (h.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                gateway_bump(&h.profiles(), n);
                std::thread::sleep(Duration::from_millis(3));
            }
            n
        })
    };
    // Each worker owns provider w<i>: paste p<j>, every 5th step log out p<j-1>,
    // every 7th step set the order. The expected end state is computed alongside.
    let workers: Vec<_> = (0..WORKERS)
        .map(|i| {
            let h = h.clone();
            std::thread::spawn(move || {
                let provider = format!("w{i}");
                let mut live: BTreeSet<String> = BTreeSet::new();
                let mut order: Option<Vec<String>> = None;
                let mut step = 0;
                while step < MUTATIONS {
                    let id = format!("{provider}:p{step}");
                    let mut c = h.cmd();
                    c.args([
                        "models",
                        "auth",
                        "paste-api-key",
                        "--provider",
                        &provider,
                        "--profile-id",
                        &id,
                    ])
                    .write_stdin(format!("sk-{id}-secret"));
                    c.assert().success();
                    live.insert(id.clone());
                    step += 1;
                    if step % 5 == 0 && step < MUTATIONS {
                        let victim = format!("{provider}:p{}", step - 1);
                        h.cmd()
                            .args(["models", "auth", "logout", &victim, "--yes"])
                            .assert()
                            .success();
                        live.remove(&victim);
                        if let Some(o) = order.as_mut() {
                            o.retain(|x| x != &victim);
                        }
                        step += 1;
                    }
                    if step % 7 == 0 && step < MUTATIONS {
                        let ids: Vec<String> = live.iter().rev().take(3).cloned().collect();
                        let mut c = h.cmd();
                        c.args(["models", "auth", "order", "set", "--provider", &provider])
                            .args(&ids);
                        c.assert().success();
                        order = Some(ids);
                        step += 1;
                    }
                }
                (provider, live, order)
            })
        })
        .collect();
    let results: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    let gateway_writes = gateway.join().unwrap();
    observer.join().unwrap();

    let doc = h.read_profiles();
    assert_eq!(doc["futureTop"], json!({"keep":[1,2,3]}));
    assert_eq!(
        doc["usageStats"]["gateway:probe"]["count"],
        json!(gateway_writes),
        "a gateway write was lost"
    );
    let mut expected_ids = BTreeMap::new();
    for (provider, live, order) in &results {
        for id in live {
            let p = &doc["profiles"][id];
            assert_eq!(p["keyRef"]["id"], format!("main/{id}"), "{id} missing");
            expected_ids.insert(format!("main/{id}"), format!("sk-{id}-secret"));
        }
        match order {
            Some(o) => assert_eq!(doc["order"][provider], json!(o), "{provider}"),
            None => assert!(doc["order"].get(provider).is_none()),
        }
    }
    let total: usize = results.iter().map(|r| r.1.len()).sum();
    assert_eq!(doc["profiles"].as_object().unwrap().len(), total);
    let dir = h.profiles().parent().unwrap().to_path_buf();
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "auth-profiles.json")
        .collect();
    assert!(stray.is_empty(), "left behind: {stray:?}");
    // Every secret resolves to what was pasted.
    let ids: Vec<&String> = expected_ids.keys().collect();
    let out = h
        .cmd()
        .arg("resolve")
        .arg("--passphrase-file")
        .arg(&pw)
        .write_stdin(json!({"protocolVersion":1,"ids":ids}).to_string())
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for (id, want) in &expected_ids {
        assert_eq!(v["values"][id], json!(want), "{id}");
    }
    eprintln!(
        "{} mutations by {WORKERS} processes, {gateway_writes} gateway writes, {} observations",
        WORKERS * MUTATIONS,
        observed.load(Ordering::Relaxed)
    );
}
