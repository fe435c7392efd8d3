//! The floor for `bench/resolve_bench.py`: a minimal program that answers an exec
//! provider request from memory (no vault, no crypto). Whatever clawvault adds on
//! top of this is its own cost.
use std::io::{Read, Write};

fn main() {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).unwrap();
    let req: serde_json::Value = serde_json::from_slice(&input).unwrap();
    let mut values = serde_json::Map::new();
    for id in req["ids"].as_array().unwrap() {
        let id = id.as_str().unwrap();
        values.insert(
            id.to_string(),
            serde_json::Value::String(format!("value-of-{id}")),
        );
    }
    let resp = serde_json::json!({"protocolVersion": 1, "values": values, "errors": {}});
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &resp).unwrap();
    out.write_all(b"\n").unwrap();
}
