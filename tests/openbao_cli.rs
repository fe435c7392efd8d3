//! The OpenBao backend end to end through the real `clawvault` binary against a real
//! `bao server -dev` on loopback: `init --backend openbao`, `models auth paste-api-key`,
//! `resolve` run the way OpenClaw runs it, `logout` (soft delete) and `logout --purge`,
//! and the token file's permissions. Only 127.0.0.1 is ever contacted.
// Unix only: the real OpenBao dev server (Linux binary) and file modes.
#![cfg(unix)]

#[path = "common/openbao.rs"]
mod bao;
mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bao::DevServer;
use base64::Engine;
use common::Home;
use serde_json::{json, Value};

const PASSPHRASE: &str = "correct horse battery";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn unb64(s: &str) -> String {
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .unwrap(),
    )
    .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A secret that cannot collide with anything else in the tree.
fn secret(tag: &str) -> String {
    format!("sk-e2e-{tag}-{}", common::random_suffix())
}

fn write_private(p: &Path, contents: &str, mode: u32) -> PathBuf {
    std::fs::write(p, contents).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    p.to_path_buf()
}

/// The policy from docs/openbao-policy.hcl for this mount and prefix.
fn docs_policy(prefix: &str) -> String {
    include_str!("../docs/openbao-policy.hcl")
        .replace("MOUNT", "secret")
        .replace("PREFIX", prefix)
}

/// `clawvault init --backend openbao ADDR --token-file F --passphrase-file P EXTRA...`
/// with small KDF parameters. The token only ever travels in the file.
fn init(h: &Home, addr: &str, token_file: &Path, extra: &[&str]) -> Output {
    let pw = h.pw_file("pw", PASSPHRASE);
    let mut c = h.cmd();
    c.args([
        "init",
        "--backend",
        "openbao",
        "--force-weak",
        "--kdf-memory-mib",
        "1",
        "--kdf-iterations",
        "1",
        "--addr",
        addr,
    ])
    .arg("--token-file")
    .arg(token_file)
    .arg("--passphrase-file")
    .arg(&pw)
    .args(extra);
    c.output().unwrap()
}

/// The failure shape promised by the README: exit 1, exactly one
/// `clawvault: error:` line (optionally `clawvault: hint:` lines), nothing else.
/// Returns the error line.
fn one_line_error(what: &str, o: &Output, secrets: &[&str]) -> String {
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{what}: expected exit 1; stderr: {err}"
    );
    assert!(o.stdout.is_empty(), "{what}: stdout: {}", text(&o.stdout));
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("clawvault: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "{what}: one error line expected: {err}");
    for l in err.lines() {
        assert!(
            l.starts_with("clawvault: error: ") || l.starts_with("clawvault: hint: "),
            "{what}: unexpected stderr line {l:?} in {err}"
        );
    }
    for s in secrets {
        assert!(!err.contains(s), "{what}: stderr leaks a secret: {err}");
    }
    errors[0].to_string()
}

fn assert_no_vault(h: &Home, what: &str) {
    assert!(
        !h.vault().join("vault.json").exists(),
        "{what}: a failed init left {} behind",
        h.vault().join("vault.json").display()
    );
    assert!(
        !h.vault().exists(),
        "{what}: a failed init created {}",
        h.vault().display()
    );
}

/// Run `clawvault resolve` exactly as OpenClaw's exec provider does: no shell, the
/// binary's directory as cwd, an empty environment (no HOME, no PATH, no token
/// variables), `--state-dir` and `--vault` as arguments, the request on stdin, a 5 s
/// limit. stdout and stderr go to files in `scratch`, never under the state dir.
fn resolve_bare(h: &Home, scratch: &Path, ids: &[&str]) -> (Output, Duration) {
    let bin = assert_cmd::cargo::cargo_bin("clawvault");
    let n = common::random_suffix();
    let out_p = scratch.join(format!("resolve-{n}.out"));
    let err_p = scratch.join(format!("resolve-{n}.err"));
    let req = json!({"protocolVersion": 1, "provider": "clawvault", "ids": ids});
    let t0 = Instant::now();
    let mut child = Command::new(&bin)
        .arg("resolve")
        .arg("--state-dir")
        .arg(h.state())
        .arg("--vault")
        .arg(h.vault())
        .env_clear()
        .current_dir(bin.parent().unwrap())
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out_p).unwrap())
        .stderr(std::fs::File::create(&err_p).unwrap())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(req.to_string().as_bytes()).unwrap();
    }
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t0.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "resolve hung for 20 s; stderr: {}",
                std::fs::read_to_string(&err_p).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let took = t0.elapsed();
    let o = Output {
        status,
        stdout: std::fs::read(&out_p).unwrap(),
        stderr: std::fs::read(&err_p).unwrap(),
    };
    std::fs::remove_file(&out_p).unwrap();
    std::fs::remove_file(&err_p).unwrap();
    (o, took)
}

/// A successful resolve's JSON answer; its stderr must not hold any secret.
fn resolve_ok(h: &Home, scratch: &Path, ids: &[&str], secrets: &[&str]) -> Value {
    let (o, took) = resolve_bare(h, scratch, ids);
    let err = text(&o.stderr);
    assert!(
        o.status.success(),
        "resolve of {} ids failed: {err}",
        ids.len()
    );
    // Speed is measured by bench/, not asserted here; resolve_bare bounds a hang.
    let _ = took;
    for s in secrets {
        assert!(!err.contains(s), "resolve's stderr leaks a secret: {err}");
    }
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("resolve's stdout is not JSON ({e}): {}", text(&o.stdout)));
    assert_eq!(v["protocolVersion"], 1, "{v}");
    v
}

/// Fail if any file below `dir` contains any of `needles`.
fn assert_nowhere(dir: &Path, needles: &[&str], what: &str) {
    let files = common::files(dir);
    assert!(!files.is_empty(), "nothing under {}", dir.display());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let hay = text(&bytes);
        for n in needles {
            assert!(
                !hay.contains(n),
                "{what} found in plaintext in {}",
                f.display()
            );
            assert!(
                !hay.contains(&b64(n)),
                "{what} found base64-encoded in {}",
                f.display()
            );
        }
    }
}

/// KV v2 read of `<prefix>/<id>` (optionally one version): the decoded value, or
/// the HTTP status when there is none.
fn server_value(
    s: &DevServer,
    prefix: &str,
    id: &str,
    version: Option<u32>,
) -> Result<String, u16> {
    let mut path = format!("secret/data/{prefix}/{id}");
    if let Some(v) = version {
        path.push_str(&format!("?version={v}"));
    }
    let (st, v) = s.api("GET", &path, None);
    match v["data"]["data"]["value_b64"].as_str() {
        Some(b) if st == 200 => Ok(unb64(b)),
        _ => Err(st),
    }
}

/// KV v2 metadata of `<prefix>/<id>`, or `None` on 404.
fn server_metadata(s: &DevServer, prefix: &str, id: &str) -> Option<Value> {
    let (st, v) = s.api("GET", &format!("secret/metadata/{prefix}/{id}"), None);
    match st {
        200 => Some(v["data"].clone()),
        404 => None,
        other => panic!("metadata of {id}: {other} {v}"),
    }
}

fn paste_api_key(h: &Home, provider: &str, profile_id: &str, value: &str) -> Output {
    h.cmd()
        .args([
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            provider,
            "--profile-id",
            profile_id,
        ])
        .write_stdin(format!("{value}\n"))
        .output()
        .unwrap()
}

// ---------------------------------------------------------------------------

#[test]
fn init_checks_the_server_first_and_leaves_no_vault_when_it_fails() {
    let Some(s) =
        DevServer::start("init_checks_the_server_first_and_leaves_no_vault_when_it_fails")
    else {
        return;
    };
    let h = Home::new();
    let keys = tempfile::tempdir().unwrap();
    let root_file = write_private(
        &keys.path().join("token"),
        &format!("{}\n", s.root_token),
        0o600,
    );
    let root = s.root_token.as_str();

    // There is no way to give the token in argv.
    let o = h
        .cmd()
        .args([
            "init",
            "--backend",
            "openbao",
            "--addr",
            &s.addr,
            "--token",
            root,
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "usage error: {}", text(&o.stderr));
    assert_no_vault(&h, "--token in argv");

    // A closed port: the error names the server; nothing is written.
    let closed = format!("http://127.0.0.1:{}", bao::free_port());
    let t0 = Instant::now();
    let o = init(&h, &closed, &root_file, &[]);
    let line = one_line_error("closed port", &o, &[root]);
    assert!(line.contains(&closed), "{line}");
    assert!(line.contains("connection refused"), "{line}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    assert_no_vault(&h, "closed port");

    // A token the server does not know: named by where it came from, never shown.
    let bogus = format!("s.bogus{}", common::random_suffix());
    let bad_file = write_private(&keys.path().join("bad-token"), &bogus, 0o600);
    let o = init(&h, &s.addr, &bad_file, &[]);
    let line = one_line_error("bad token", &o, &[root, &bogus]);
    assert!(line.contains(&s.addr), "{line}");
    assert!(
        line.contains(&bad_file.display().to_string()) && line.contains("refused"),
        "{line}"
    );
    assert_no_vault(&h, "bad token");

    // A token file others can read is refused before it is used.
    let loose = write_private(&keys.path().join("loose-token"), root, 0o644);
    let o = init(&h, &s.addr, &loose, &[]);
    let line = one_line_error("token file 0644", &o, &[root]);
    assert!(
        line.contains(&loose.display().to_string())
            && line.contains("mode 644")
            && line.contains("chmod 600"),
        "{line}"
    );
    assert_no_vault(&h, "token file 0644");

    // So is a symlink to a private one.
    let link = keys.path().join("link-token");
    std::os::unix::fs::symlink(&root_file, &link).unwrap();
    let o = init(&h, &s.addr, &link, &[]);
    let line = one_line_error("token file symlink", &o, &[root]);
    assert!(line.contains("symlink"), "{line}");
    assert_no_vault(&h, "token file symlink");

    // No KV engine at --mount.
    let o = init(&h, &s.addr, &root_file, &["--mount", "nope"]);
    let line = one_line_error("missing mount", &o, &[root]);
    assert!(line.contains(&s.addr) && line.contains("nope/"), "{line}");
    assert_no_vault(&h, "missing mount");

    // Plain HTTP off loopback is refused before any connection (TEST-NET address).
    let o = init(&h, "http://192.0.2.1:8200", &root_file, &[]);
    let line = one_line_error("plain http off loopback", &o, &[root]);
    assert!(line.contains("192.0.2.1"), "{line}");
    assert_no_vault(&h, "plain http off loopback");

    // Now the real thing: the backend, the server and the chosen prefix are printed.
    let o = init(&h, &s.addr, &root_file, &[]);
    let out = text(&o.stdout);
    let err = text(&o.stderr);
    assert!(o.status.success(), "init failed: {err}");
    assert!(!out.contains(root) && !err.contains(root));
    let id = h.vault_id();
    assert!(out.contains("openbao backend"), "{out}");
    assert!(out.contains(&s.addr), "{out}");
    assert!(
        out.contains(&format!("secret/data/clawvault/{id}")),
        "{out}"
    );
    assert!(out.contains("token file"), "{out}");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(h.vault().join("vault.json")).unwrap()).unwrap();
    assert_eq!(manifest["backend"]["kind"], "openbao", "{manifest}");
    assert_eq!(manifest["backend"]["addr"], s.addr.as_str(), "{manifest}");
    assert_nowhere(&h.state(), &[root], "the token");
    common::assert_private_tree(&h.vault());
    // The probe cleaned up after itself: nothing under the prefix on the server.
    let (st, v) = s.api(
        "GET",
        &format!("secret/metadata/clawvault/{id}?list=true"),
        None,
    );
    assert_eq!(st, 404, "init left entries on the server: {v}");

    // A second init refuses to replace the vault.
    let before = std::fs::read(h.vault().join("vault.json")).unwrap();
    let o = init(&h, &s.addr, &root_file, &[]);
    let line = one_line_error("second init", &o, &[root]);
    assert!(line.contains("already"), "{line}");
    assert_eq!(std::fs::read(h.vault().join("vault.json")).unwrap(), before);
}

#[test]
fn pasted_keys_live_in_openbao_and_resolve_serves_them_like_openclaw() {
    let Some(s) =
        DevServer::start("pasted_keys_live_in_openbao_and_resolve_serves_them_like_openclaw")
    else {
        return;
    };
    let h = Home::new();
    let scratch = tempfile::tempdir().unwrap();
    // Least privilege: a child token with exactly the documented policy.
    let prefix = format!("clawvault/e2e-{}", common::random_suffix());
    s.policy("clawvault-e2e", &docs_policy(&prefix));
    let token = s.create_token(json!({"policies": ["clawvault-e2e"], "ttl": "1h"}));
    let token_file = write_private(&scratch.path().join("token"), &token, 0o600);
    let o = init(&h, &s.addr, &token_file, &["--prefix", &prefix]);
    assert!(o.status.success(), "init: {}", text(&o.stderr));
    assert!(text(&o.stdout).contains(&format!("secret/data/{prefix}")));

    // Three keys pasted through the CLI, the secret on stdin.
    let pasted = [
        ("openai", "openai:default", secret("openai")),
        ("anthropic", "anthropic:work", secret("anthropic")),
        ("openrouter", "openrouter:default", secret("openrouter")),
    ];
    for (provider, pid, value) in &pasted {
        let o = paste_api_key(&h, provider, pid, value);
        let err = text(&o.stderr);
        assert!(o.status.success(), "paste {pid}: {err}");
        assert!(err.contains("openbao"), "{err}");
        assert!(!err.contains(value.as_str()) && !text(&o.stdout).contains(value.as_str()));
        assert!(!err.contains(&token));
    }

    // On the server, where docs/openbao.md says, as {"value_b64": ...}.
    for (_, pid, value) in &pasted {
        assert_eq!(
            server_value(&s, &prefix, &format!("main/{pid}"), None).as_deref(),
            Ok(value.as_str()),
            "{pid}"
        );
    }
    // The documented `bao kv get` recipe reads it back too.
    let o = s.bao(&[
        "kv",
        "get",
        "-mount=secret",
        "-field=value_b64",
        &format!("{prefix}/main/openai:default"),
    ]);
    assert!(o.status.success(), "bao kv get: {}", text(&o.stderr));
    assert_eq!(unb64(&text(&o.stdout)), pasted[0].2);

    // auth-profiles.json holds only references.
    let doc = h.read_profiles();
    for (provider, pid, _) in &pasted {
        let p = &doc["profiles"][pid];
        assert_eq!(
            *p,
            json!({
                "type": "api_key",
                "provider": provider,
                "keyRef": {"source": "exec", "provider": "clawvault", "id": format!("main/{pid}")}
            }),
            "{doc}"
        );
    }
    let values: Vec<&str> = pasted.iter().map(|(_, _, v)| v.as_str()).collect();
    let mut never = values.clone();
    never.push(&token);
    assert_nowhere(h.tmp.path(), &never, "a secret or the token");

    // `models auth list` reports the storage without reading a secret.
    let o = h
        .cmd()
        .args(["models", "auth", "list", "--json"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("openbao"), "{out}");
    for v in &values {
        assert!(!out.contains(v));
    }

    // Thirteen more entries written straight to the server in the documented format,
    // so a batch of 16 ids reads what other tools wrote.
    let mut all: Vec<(String, String)> = pasted
        .iter()
        .map(|(_, pid, v)| (format!("main/{pid}"), v.clone()))
        .collect();
    for i in 0..13 {
        let id = format!("main/bulk{i:02}:default");
        let v = secret(&format!("bulk{i}"));
        s.ok(
            "POST",
            &format!("secret/data/{prefix}/{id}"),
            Some(json!({"data": {"value_b64": b64(&v)}})),
        );
        all.push((id, v));
    }
    let all_values: Vec<&str> = all.iter().map(|(_, v)| v.as_str()).collect();

    // One id.
    let v = resolve_ok(&h, scratch.path(), &["main/openai:default"], &all_values);
    assert_eq!(
        v,
        json!({"protocolVersion": 1, "values": {"main/openai:default": pasted[0].2}, "errors": {}})
    );

    // Sixteen ids.
    let ids: Vec<&str> = all.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), 16);
    let v = resolve_ok(&h, scratch.path(), &ids, &all_values);
    let want: serde_json::Map<String, Value> = all
        .iter()
        .map(|(id, val)| (id.clone(), Value::from(val.as_str())))
        .collect();
    assert_eq!(v["values"], Value::Object(want), "{v}");
    assert_eq!(v["errors"], json!({}), "{v}");

    // An unknown id is NOT_FOUND, the others in the batch are still served.
    let v = resolve_ok(
        &h,
        scratch.path(),
        &["main/nobody:default", "main/anthropic:work"],
        &all_values,
    );
    assert_eq!(
        v,
        json!({
            "protocolVersion": 1,
            "values": {"main/anthropic:work": pasted[1].2},
            "errors": {"main/nobody:default": {"code": "NOT_FOUND"}}
        })
    );

    // After all that, still no plaintext or token under the state dir.
    assert_nowhere(h.tmp.path(), &never, "a secret or the token");
}

#[test]
fn logout_soft_deletes_purge_destroys_and_a_loose_token_file_is_refused() {
    let Some(s) =
        DevServer::start("logout_soft_deletes_purge_destroys_and_a_loose_token_file_is_refused")
    else {
        return;
    };
    let h = Home::new();
    let scratch = tempfile::tempdir().unwrap();
    let token_file = write_private(&scratch.path().join("token"), &s.root_token, 0o600);
    let o = init(&h, &s.addr, &token_file, &[]);
    assert!(o.status.success(), "init: {}", text(&o.stderr));
    let prefix = format!("clawvault/{}", h.vault_id());

    // Two versions of each of two profiles.
    let keep = "main/openai:default";
    let gone = "main/anthropic:default";
    let (k1, k2, g1, g2) = (secret("k1"), secret("k2"), secret("g1"), secret("g2"));
    for (provider, pid, v) in [
        ("openai", "openai:default", &k1),
        ("openai", "openai:default", &k2),
        ("anthropic", "anthropic:default", &g1),
        ("anthropic", "anthropic:default", &g2),
    ] {
        let o = paste_api_key(&h, provider, pid, v);
        assert!(o.status.success(), "paste {pid}: {}", text(&o.stderr));
    }
    for (id, cur) in [(keep, &k2), (gone, &g2)] {
        let m = server_metadata(&s, &prefix, id).expect("metadata");
        assert_eq!(m["current_version"], 2, "{id}: {m}");
        assert_eq!(
            server_value(&s, &prefix, id, None).as_deref(),
            Ok(cur.as_str())
        );
    }
    let all = [k1.as_str(), k2.as_str(), g1.as_str(), g2.as_str()];

    // logout without --yes and without a terminal changes nothing.
    let o = h
        .cmd()
        .args(["models", "auth", "logout", "openai:default"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("--yes"), "{}", text(&o.stderr));
    assert_eq!(
        server_value(&s, &prefix, keep, None).as_deref(),
        Ok(k2.as_str())
    );

    // A plain logout: the profile goes, the latest version is soft-deleted, the
    // history stays recoverable on the server.
    let o = h
        .cmd()
        .args(["models", "auth", "logout", "openai:default", "--yes"])
        .output()
        .unwrap();
    assert!(o.status.success(), "logout: {}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("and its secret"),
        "{}",
        text(&o.stderr)
    );
    assert!(h.read_profiles()["profiles"]
        .get("openai:default")
        .is_none());
    assert_eq!(server_value(&s, &prefix, keep, None), Err(404));
    let m = server_metadata(&s, &prefix, keep).expect("a soft delete keeps the metadata");
    assert_eq!(m["current_version"], 2, "{m}");
    assert!(
        !m["versions"]["2"]["deletion_time"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{m}"
    );
    assert_eq!(m["versions"]["2"]["destroyed"], false, "{m}");
    assert_eq!(
        server_value(&s, &prefix, keep, Some(1)).as_deref(),
        Ok(k1.as_str())
    );
    let v = resolve_ok(&h, scratch.path(), &[keep, gone], &all);
    assert_eq!(v["errors"], json!({keep: {"code": "NOT_FOUND"}}), "{v}");
    assert_eq!(v["values"], json!({gone: g2}), "{v}");
    // `bao kv undelete` brings the latest version back.
    let o = s.bao(&[
        "kv",
        "undelete",
        "-mount=secret",
        "-versions=2",
        &format!("{prefix}/{keep}"),
    ]);
    assert!(o.status.success(), "bao kv undelete: {}", text(&o.stderr));
    assert_eq!(
        server_value(&s, &prefix, keep, None).as_deref(),
        Ok(k2.as_str())
    );

    // logout --purge: the metadata and every version are gone.
    let o = h
        .cmd()
        .args([
            "models",
            "auth",
            "logout",
            "anthropic:default",
            "--purge",
            "--yes",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "logout --purge: {}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("and its secret"),
        "{}",
        text(&o.stderr)
    );
    assert!(h.read_profiles()["profiles"]
        .get("anthropic:default")
        .is_none());
    assert_eq!(server_metadata(&s, &prefix, gone), None);
    assert_eq!(server_value(&s, &prefix, gone, Some(1)), Err(404));
    assert_eq!(server_value(&s, &prefix, gone, Some(2)), Err(404));
    // The undeleted entry, whose profile is already gone, can be purged too.
    let purge_openai = || {
        h.cmd()
            .args([
                "models",
                "auth",
                "logout",
                "openai:default",
                "--purge",
                "--yes",
            ])
            .output()
            .unwrap()
    };
    let o = purge_openai();
    assert!(
        o.status.success(),
        "logout --purge (no profile): {}",
        text(&o.stderr)
    );
    assert_eq!(server_metadata(&s, &prefix, keep), None);
    // Nothing left to log out.
    let o = purge_openai();
    one_line_error("logout of a missing profile", &o, &all);

    // The token file is checked at every use, not only at init: loosened to 0644,
    // resolve fails the batch with a clear error and never sends the token.
    let o = paste_api_key(&h, "openai", "openai:default", &k1);
    assert!(o.status.success(), "paste: {}", text(&o.stderr));
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (o, _) = resolve_bare(&h, scratch.path(), &[keep]);
    let line = one_line_error("resolve with a 0644 token file", &o, &[&s.root_token, &k1]);
    assert!(
        line.contains(&token_file.display().to_string())
            && line.contains("mode 644")
            && line.contains("chmod 600"),
        "{line}"
    );
    let o = paste_api_key(&h, "openai", "openai:default", &k2);
    let line = one_line_error("paste with a 0644 token file", &o, &[&s.root_token, &k2]);
    assert!(line.contains("chmod 600"), "{line}");
    assert_eq!(
        server_value(&s, &prefix, keep, None).as_deref(),
        Ok(k1.as_str())
    );
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let v = resolve_ok(&h, scratch.path(), &[keep], &all);
    assert_eq!(v["values"], json!({keep: k1}), "{v}");
}

#[test]
fn token_kept_in_the_os_keychain_serves_paste_and_resolve() {
    let Some(s) = DevServer::start("token_kept_in_the_os_keychain_serves_paste_and_resolve") else {
        return;
    };
    if !common::secret_service_usable() {
        return;
    }
    let h = Home::new();
    let scratch = tempfile::tempdir().unwrap();
    let prefix = format!("clawvault/kc-{}", common::random_suffix());
    s.policy("clawvault-kc", &docs_policy(&prefix));
    let token = s.create_token(json!({"policies": ["clawvault-kc"], "ttl": "1h"}));
    let pw = h.pw_file("pw", PASSPHRASE);
    let mut c = h.cmd();
    common::pass_dbus(&mut c);
    let o = c
        .args([
            "init",
            "--backend",
            "openbao",
            "--force-weak",
            "--kdf-memory-mib",
            "1",
            "--kdf-iterations",
            "1",
            "--addr",
            &s.addr,
            "--prefix",
            &prefix,
            "--token-keychain",
            "--passphrase-file",
        ])
        .arg(&pw)
        .write_stdin(format!("{token}\n"))
        .output()
        .unwrap();
    assert!(o.status.success(), "init: {}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("OS keychain item"),
        "{}",
        text(&o.stdout)
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(h.vault().join("vault.json")).unwrap()).unwrap();
    assert!(
        manifest.to_string().contains("clawvault-openbao-token:"),
        "{manifest}"
    );
    // The keychain holds the token; no file does.
    let svc = clawvault::backend::openbao::token_keychain_service(&h.vault_id());
    let held = clawvault::backend::openbao::keychain_token_get(&svc).unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(held.expose_secret(), token);
    assert_nowhere(h.tmp.path(), &[&token], "after init --token-keychain");

    let value = secret("kc");
    let mut c = h.cmd();
    common::pass_dbus(&mut c);
    let o = c
        .args([
            "models",
            "auth",
            "paste-api-key",
            "--provider",
            "openai",
            "--profile-id",
            "openai:default",
        ])
        .write_stdin(format!("{value}\n"))
        .output()
        .unwrap();
    assert!(o.status.success(), "paste: {}", text(&o.stderr));
    assert_eq!(
        server_value(&s, &prefix, "main/openai:default", None),
        Ok(value.clone())
    );

    // Without the session bus the token cannot be read: a clear error, no fallback.
    let (o, _) = resolve_bare(&h, scratch.path(), &["main/openai:default"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("keychain"), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains(&token) && !text(&o.stdout).contains(&value));

    // With it (OpenClaw's passEnv), resolve reads the token from the keychain.
    let mut c = h.cmd();
    common::pass_dbus(&mut c);
    let o = c
        .arg("resolve")
        .write_stdin(
            json!({"protocolVersion": 1, "provider": "clawvault", "ids": ["main/openai:default"]})
                .to_string(),
        )
        .output()
        .unwrap();
    assert!(o.status.success(), "resolve: {}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["values"]["main/openai:default"], value.as_str());
    assert!(!text(&o.stderr).contains(&token));
    clawvault::backend::openbao::keychain_token_delete(&svc).unwrap();
}
