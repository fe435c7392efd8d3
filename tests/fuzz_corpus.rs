//! Replays every file of `fuzz/corpus/<target>/` (seeds plus whatever `cargo fuzz`
//! found and was kept) through the same entry points the fuzz targets call.

#[test]
fn replay_fuzz_corpus() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut total = 0;
    for (name, f) in clawvault::fuzzing::TARGETS {
        let dir = root.join(name);
        let mut n = 0;
        for e in std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("no corpus for {name}"))
            .flatten()
        {
            let data = std::fs::read(e.path()).unwrap();
            f(&data);
            n += 1;
        }
        assert!(n > 0, "empty corpus for {name}");
        total += n;
    }
    eprintln!("replayed {total} corpus inputs");
}
