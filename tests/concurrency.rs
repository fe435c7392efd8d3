//! 8 clawvault processes x 200 mutations (paste, logout, order set) on one agent's
//! auth-profiles.json, a ninth process imitating a running OpenClaw gateway (this
//! test binary re-invoked as `gateway_process`) that rewrites `usageStats` and stamps
//! per-profile unknown fields under OpenClaw's own `<file>.lock` protocol, and an
//! observer that parses the file continuously. Afterwards every mutation is present,
//! every unknown field intact (top level, per profile, nested), no lock file left
//! behind, and the file was valid JSON at every observed moment.
// Unix only: file modes and flock against the real binary.
#![cfg(unix)]

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

/// The gateway's per-profile stamp for write `n`: an unknown field holding nested
/// objects and arrays, which every clawvault mutation must carry through.
fn stamp(n: u64) -> Value {
    json!({"n": n, "nested": {"deep": [n, {"k": "v", "z": null}], "ok": true}})
}

/// One gateway write, exactly as OpenClaw does it: O_EXCL lock with pid/createdAt,
/// read-modify-write, atomic rename, unlock. Bumps `usageStats` and stamps one
/// profile (chosen round-robin) with an unknown field; returns the stamped id.
fn gateway_bump(path: &std::path::Path, n: u64) -> Option<String> {
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
    let ids: Vec<String> = v["profiles"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let stamped = if ids.is_empty() {
        None
    } else {
        let id = ids[(n as usize * 7) % ids.len()].clone();
        v["profiles"][&id]["gatewaySeen"] = stamp(n);
        Some(id)
    };
    let tmp = path.with_extension(format!("json.gw-{n}"));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
    std::fs::remove_file(&lock).unwrap();
    stamped
}

const GW_ENV: &str = "CLAWVAULT_TEST_GATEWAY_DIR";

/// Not a test: the gateway process. `eight_writers_and_a_gateway_lose_nothing`
/// re-runs this binary with `gateway_process --exact --ignored` and GW_ENV set to
/// a directory holding `profiles` (the path to write) and, when it is time to
/// stop, `stop`. It writes until then and leaves `result.json`: the number of
/// writes and the last stamp it put on each profile.
#[test]
#[ignore = "helper process for eight_writers_and_a_gateway_lose_nothing"]
fn gateway_process() {
    let Some(dir) = std::env::var_os(GW_ENV).map(std::path::PathBuf::from) else {
        return;
    };
    let path = std::path::PathBuf::from(std::fs::read_to_string(dir.join("profiles")).unwrap());
    let mut n = 0u64;
    let mut stamps: BTreeMap<String, Value> = BTreeMap::new();
    while !dir.join("stop").exists() {
        n += 1;
        if let Some(id) = gateway_bump(&path, n) {
            stamps.insert(id, stamp(n));
        }
        std::thread::sleep(Duration::from_millis(3));
    }
    let tmp = dir.join("result.tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec(&json!({"writes": n, "stamps": stamps})).unwrap(),
    )
    .unwrap();
    std::fs::rename(&tmp, dir.join("result.json")).unwrap();
}

/// The gateway child, killed if the test fails before stopping it.
struct Gateway(Option<std::process::Child>);

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A pre-planted profile with unknown fields, nested objects and arrays included.
fn keeper(i: usize) -> Value {
    json!({
        "type": "api_key",
        "provider": format!("w{i}"),
        "keyRef": {"source": "exec", "provider": "clawvault", "id": format!("main/w{i}:keep")},
        "futureProfile": {"nested": {"list": [1, {"deep": "x", "i": i}], "flag": false}},
        "label": format!("keeper {i}")
    })
}

#[test]
fn eight_writers_and_a_gateway_lose_nothing() {
    let h = Arc::new(Home::new());
    let pw = h.init_age();
    std::fs::create_dir_all(h.profiles().parent().unwrap()).unwrap();
    // One keeper profile per worker's provider, never mutated by id, carrying
    // unknown fields at every level OpenClaw might add them.
    let mut profiles = serde_json::Map::new();
    let mut usage = serde_json::Map::new();
    usage.insert("gateway:probe".into(), json!({"count": 0}));
    for i in 0..WORKERS {
        let id = format!("w{i}:keep");
        profiles.insert(id.clone(), keeper(i));
        usage.insert(
            id,
            json!({"lastUsed": 1, "futureStat": {"seen": [i, {"x": i}]}}),
        );
    }
    let initial = json!({"version":1,"futureTop":{"keep":[1,2,3],"nested":{"a":{"b":[{"c":null}]}}},
        "profiles":profiles,"usageStats":usage});
    std::fs::write(h.profiles(), serde_json::to_vec_pretty(&initial).unwrap()).unwrap();
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
    // The gateway: this test binary again, as a separate process.
    let gw_dir = h.tmp.path().join("gateway");
    std::fs::create_dir(&gw_dir).unwrap();
    std::fs::write(gw_dir.join("profiles"), h.profiles().to_str().unwrap()).unwrap();
    let mut gateway = Gateway(Some(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "gateway_process",
                "--exact",
                "--ignored",
                "--test-threads=1",
            ])
            .env(GW_ENV, &gw_dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let gw_pid = gateway.0.as_ref().unwrap().id();
    // Workers start once the gateway has written at least once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.read_profiles()["usageStats"]["gateway:probe"]["count"] == json!(0) {
        assert!(Instant::now() < deadline, "the gateway process never wrote");
        std::thread::sleep(Duration::from_millis(5));
    }
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
    std::fs::write(gw_dir.join("stop"), b"").unwrap();
    let st = gateway.0.take().unwrap().wait().unwrap();
    assert!(st.success(), "the gateway process failed: {st}");
    stop.store(true, Ordering::Relaxed);
    observer.join().unwrap();
    let gw: Value =
        serde_json::from_slice(&std::fs::read(gw_dir.join("result.json")).unwrap()).unwrap();
    let gateway_writes = gw["writes"].as_u64().unwrap();
    assert_ne!(gw_pid, std::process::id());

    let doc = h.read_profiles();
    assert_eq!(doc["futureTop"], initial["futureTop"]);
    // Keepers: every unknown field intact, bar the gateway's own stamp.
    for i in 0..WORKERS {
        let id = format!("w{i}:keep");
        let mut p = doc["profiles"][&id].clone();
        if let Some(o) = p.as_object_mut() {
            o.remove("gatewaySeen");
        }
        assert_eq!(p, keeper(i), "{id}");
        assert_eq!(doc["usageStats"][&id], initial["usageStats"][&id], "{id}");
    }
    // Every stamp the gateway left on a profile still there survived.
    let mut stamps_checked = 0;
    for (id, want) in gw["stamps"].as_object().unwrap() {
        if let Some(p) = doc["profiles"].get(id) {
            assert_eq!(
                &p["gatewaySeen"], want,
                "{id}: the gateway's unknown field was lost"
            );
            stamps_checked += 1;
        }
    }
    assert!(stamps_checked > 0, "no stamped profile to check");
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
    let total: usize = results.iter().map(|r| r.1.len()).sum::<usize>() + WORKERS;
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
        "{} mutations by {WORKERS} processes, {gateway_writes} gateway writes by a separate process (pid {gw_pid}), {stamps_checked} per-profile gateway stamps intact, {} observations",
        WORKERS * MUTATIONS,
        observed.load(Ordering::Relaxed)
    );
}
