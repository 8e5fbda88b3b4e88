//! Parameter store and checkpoints: bit-exact round trips, atomic writes, selective loading for
//! transfer of the first k layers, and the errors a wrong checkpoint gives. No ONNX Runtime needed.

use embedlab::runtime::{
    LoadOptions, Metadata, OptState, ParamStore, RuntimeError, checkpoint_params, load_checkpoint,
    load_params_into, load_params_mapped, name_has_prefix, save_checkpoint,
};

/// An encoder-like store: `depth` layers of q weight + bias, plus an embedding and a head.
fn encoder(depth: usize, seed: u32) -> ParamStore {
    let mut s = ParamStore::new();
    let mut x = seed;
    let mut next = move || {
        x = x.wrapping_mul(1664525).wrapping_add(1013904223);
        f32::from_bits((x >> 9) | 0x3f00_0000) - 0.75
    };
    let emb: Vec<f32> = (0..10 * 4).map(|_| next()).collect();
    s.insert("embeddings.word", &[10, 4], &emb).unwrap();
    for l in 0..depth {
        let w: Vec<f32> = (0..16).map(|_| next()).collect();
        s.insert(format!("encoder.layer{l}.attn.q.weight"), &[4, 4], &w)
            .unwrap();
        s.insert(
            format!("encoder.layer{l}.attn.q.bias"),
            &[4],
            &[next(), next(), next(), next()],
        )
        .unwrap();
    }
    s.insert(
        "head.weight",
        &[4, 3],
        &(0..12).map(|_| next()).collect::<Vec<_>>(),
    )
    .unwrap();
    s
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn round_trip_is_bit_exact_with_optimizer_state_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    let mut params = encoder(2, 7);
    // Values whose bits a lossy path would change.
    params.get_mut("head.weight").unwrap()[..4].copy_from_slice(&[
        -0.0,
        f32::MIN_POSITIVE / 3.0,
        f32::from_bits(0x7fc0_1234),
        f32::MAX,
    ]);
    let mut opt = OptState::adamw(&params);
    opt.step = 42;
    opt.slot_mut("m")
        .unwrap()
        .as_mut_slice()
        .iter_mut()
        .enumerate()
        .for_each(|(i, x)| *x = i as f32 * 0.5);
    opt.slot_mut("v")
        .unwrap()
        .as_mut_slice()
        .iter_mut()
        .enumerate()
        .for_each(|(i, x)| *x = 1.0 / (i as f32 + 1.0));
    let mut meta = Metadata::new();
    meta.insert("step".into(), 42.into());
    meta.insert(
        "rng".into(),
        serde_json::json!([1u64, 2u64, 18446744073709551615u64]),
    );

    save_checkpoint(&path, &params, Some(&opt), &meta).unwrap();
    assert_eq!(
        files_in(dir.path()),
        ["ckpt.safetensors"],
        "no temporary file left behind"
    );

    let ck = load_checkpoint(&path).unwrap();
    assert_eq!(ck.params.checksum(), params.checksum());
    let names: Vec<_> = ck.params.names().collect();
    assert_eq!(
        names,
        params.names().collect::<Vec<_>>(),
        "store order is kept"
    );
    let bits = |s: &ParamStore| s.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&ck.params), bits(&params));
    let opt2 = ck.opt.unwrap();
    assert_eq!(opt2.step, 42);
    assert_eq!(opt2.slot_names().collect::<Vec<_>>(), ["m", "v"]);
    assert_eq!(
        opt2.slot("m").unwrap().checksum(),
        opt.slot("m").unwrap().checksum()
    );
    assert_eq!(
        opt2.slot("v").unwrap().checksum(),
        opt.slot("v").unwrap().checksum()
    );
    assert_eq!(ck.meta, meta);

    let listed = checkpoint_params(&path).unwrap();
    assert_eq!(listed[0], ("embeddings.word".to_string(), vec![10, 4]));
    assert_eq!(listed.len(), params.len());

    // Without optimizer state.
    save_checkpoint(&path, &params, None, &Metadata::new()).unwrap();
    let ck = load_checkpoint(&path).unwrap();
    assert!(ck.opt.is_none());
    assert_eq!(ck.params.checksum(), params.checksum());
}

#[test]
fn full_load_into_a_store_checks_names_and_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.safetensors");
    let src = encoder(2, 1);
    save_checkpoint(&path, &src, None, &Metadata::new()).unwrap();

    let mut dst = encoder(2, 99);
    assert_ne!(dst.checksum(), src.checksum());
    let report = load_params_into(&path, &mut dst, &LoadOptions::default()).unwrap();
    assert_eq!(report.loaded.len(), src.len());
    assert_eq!(dst.checksum(), src.checksum());

    // A deeper model lacks layer 2 in the file; a shallower one has no place for layer 1.
    let mut deeper = encoder(3, 5);
    let e = load_params_into(&path, &mut deeper, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'encoder.layer2.attn.q.weight' is missing")
            && e.contains("'encoder.layer2.attn.q.bias' is missing"),
        "{e}"
    );
    assert!(e.contains("a.safetensors"), "{e}");
    let mut shallower = encoder(1, 5);
    let before = shallower.checksum();
    let e = load_params_into(&path, &mut shallower, &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no parameter for") && e.contains("encoder.layer1.attn.q.weight"),
        "{e}"
    );
    assert_eq!(
        shallower.checksum(),
        before,
        "a failed load changes nothing"
    );
    let report = load_params_into(
        &path,
        &mut shallower,
        &LoadOptions {
            allow_unused: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        report.unused,
        ["encoder.layer1.attn.q.weight", "encoder.layer1.attn.q.bias"]
    );

    // A shape mismatch names the tensor and both shapes.
    let mut wide = ParamStore::new();
    wide.insert("embeddings.word", &[10, 8], &[0.0; 80])
        .unwrap();
    let e = load_params_into(
        &path,
        &mut wide,
        &LoadOptions {
            allow_unused: true,
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("'embeddings.word'") && e.contains("[10, 4]") && e.contains("[10, 8]"),
        "{e}"
    );
}

#[test]
fn load_subset_transfers_the_first_k_layers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pretrained.safetensors");
    let pretrained = encoder(3, 11);
    save_checkpoint(&path, &pretrained, None, &Metadata::new()).unwrap();

    // Downstream model: same encoder, but a different head; transfer embeddings + first 2 layers.
    let mut downstream = encoder(3, 12);
    let fresh = downstream.clone();
    let opts = LoadOptions {
        prefixes: vec![
            "embeddings".into(),
            "encoder.layer0".into(),
            "encoder.layer1.".into(),
        ],
        allow_unused: false,
    };
    let report = load_params_into(&path, &mut downstream, &opts).unwrap();
    assert_eq!(report.loaded.len(), 5);
    for p in downstream.iter() {
        let transferred = opts.prefixes.iter().any(|pre| name_has_prefix(p.name, pre));
        let expect = if transferred {
            pretrained.get(p.name)
        } else {
            fresh.get(p.name)
        };
        assert_eq!(Some(p.data), expect, "{}", p.name);
    }

    // Prefixes follow the dotted hierarchy: layer1 does not select layer10.
    assert!(name_has_prefix("encoder.layer1.attn", "encoder.layer1"));
    assert!(!name_has_prefix("encoder.layer10.attn", "encoder.layer1"));
    // A prefix that selects nothing is an error (a typo would silently transfer nothing).
    let e = load_params_into(
        &path,
        &mut downstream,
        &LoadOptions {
            prefixes: vec!["encoder.layr0".into()],
            allow_unused: false,
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("'encoder.layr0' selects no parameter"), "{e}");
}

#[test]
fn atomic_write_leaves_no_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ckpt.safetensors");
    let params = encoder(1, 3);
    save_checkpoint(&path, &params, None, &Metadata::new()).unwrap();
    let original = std::fs::read(&path).unwrap();

    // An optimizer state laid out differently is refused before anything is written.
    let other = OptState::adamw(&encoder(2, 3));
    let e = save_checkpoint(&path, &params, Some(&other), &Metadata::new()).unwrap_err();
    assert!(e.to_string().contains("slot 'm'"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), original);

    // The rename fails (the target is a directory): the temporary file is removed.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), b"x").unwrap();
    let e = save_checkpoint(&blocked, &params, None, &Metadata::new()).unwrap_err();
    assert!(matches!(e, RuntimeError::Io { .. }), "{e}");
    assert!(e.to_string().contains("blocked"), "{e}");
    assert_eq!(files_in(dir.path()), ["blocked", "ckpt.safetensors"]);

    // Missing directories are created (stage output folders).
    let nested = dir.path().join("stages/abc123/params.safetensors");
    save_checkpoint(&nested, &params, None, &Metadata::new()).unwrap();
    assert_eq!(
        files_in(&dir.path().join("stages/abc123")),
        ["params.safetensors"]
    );
    std::fs::remove_dir_all(dir.path().join("stages")).unwrap();

    // Overwriting replaces the whole file.
    let bigger = encoder(4, 3);
    save_checkpoint(&path, &bigger, None, &Metadata::new()).unwrap();
    assert_eq!(load_checkpoint(&path).unwrap().params, bigger);
    assert_eq!(files_in(dir.path()), ["blocked", "ckpt.safetensors"]);
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.safetensors");
    let e = load_checkpoint(&missing).unwrap_err().to_string();
    assert!(e.contains("missing.safetensors"), "{e}");

    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"definitely not safetensors").unwrap();
    let e = load_checkpoint(&garbage).unwrap_err().to_string();
    assert!(
        e.contains("garbage.safetensors") && e.contains("not a safetensors file"),
        "{e}"
    );

    // A valid safetensors file that we did not write.
    let foreign = dir.path().join("foreign.safetensors");
    let data = [0u8; 8];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &data).unwrap();
    std::fs::write(
        &foreign,
        safetensors::serialize([("w", view)], None).unwrap(),
    )
    .unwrap();
    let e = load_checkpoint(&foreign).unwrap_err().to_string();
    assert!(e.contains("not an embedlab checkpoint"), "{e}");

    // Truncated: the atomic writer never produces this, but a copy might.
    let path = dir.path().join("cut.safetensors");
    save_checkpoint(&path, &encoder(1, 1), None, &Metadata::new()).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let e = load_checkpoint(&path).unwrap_err().to_string();
    assert!(e.contains("cut.safetensors"), "{e}");
}

/// Timing of the fused host AdamW over a BERT-mini-sized buffer (4.3M values); run with
/// `cargo test --release --test it runtime::store::adamw_timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn adamw_timing() {
    use embedlab::runtime::{AdamW, Optimizer, StepOptions};
    let n = 4_300_000;
    let mut params = ParamStore::new();
    params.insert("p", &[n], &vec![0.1f32; n]).unwrap();
    let g = vec![0.01f32; n];
    let optimizer = Optimizer::AdamW(AdamW::default());
    for threads in [1, 2, 4] {
        let mut state = optimizer.state(&params);
        let opts = StepOptions {
            threads,
            ..Default::default()
        };
        let t0 = std::time::Instant::now();
        for _ in 1..=20 {
            optimizer
                .update(&mut params, &mut state, &opts, |_| Some(&g[..]))
                .unwrap();
        }
        println!(
            "adamw {n} values, {threads} threads: {:.2} ms/step",
            t0.elapsed().as_secs_f64() * 1e3 / 20.0
        );
    }
}

/// Weights written by another tool: no embedlab metadata, other names, F64 tensors.
#[test]
fn foreign_safetensors_load_through_a_name_mapping() {
    use safetensors::{Dtype, tensor::TensorView};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foreign.safetensors");
    let w0: Vec<u8> = [0.5f64, -1.25, 3.0, 1e-3]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let w1: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    let half = [0u8; 8];
    let tensors = vec![
        (
            "bert.layer.0.w",
            TensorView::new(Dtype::F64, vec![2, 2], &w0).unwrap(),
        ),
        (
            "bert.layer.1.w",
            TensorView::new(Dtype::F32, vec![2, 2], &w1).unwrap(),
        ),
        (
            "bert.pooler.w",
            TensorView::new(Dtype::F16, vec![4], &half).unwrap(),
        ),
    ];
    std::fs::write(&path, safetensors::serialize(tensors, None).unwrap()).unwrap();

    let listed = checkpoint_params(&path).unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        load_checkpoint(&path).is_err(),
        "a full checkpoint load wants our own format"
    );

    let mut store = ParamStore::new();
    store.insert_zeros("encoder.layer0.w", &[2, 2]).unwrap();
    store.insert_zeros("encoder.layer1.w", &[2, 2]).unwrap();
    let to_file = |n: &str| n.replace("encoder.layer", "bert.layer.");
    let e = load_params_mapped(&path, &mut store, &LoadOptions::default(), Some(to_file))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no parameter for: bert.pooler.w"), "{e}");
    let opts = LoadOptions {
        allow_unused: true,
        ..Default::default()
    };
    let report = load_params_mapped(&path, &mut store, &opts, Some(to_file)).unwrap();
    assert_eq!(report.loaded, ["encoder.layer0.w", "encoder.layer1.w"]);
    assert_eq!(report.unused, ["bert.pooler.w"]);
    assert_eq!(
        store.get("encoder.layer0.w").unwrap(),
        &[0.5, -1.25, 3.0, 1e-3]
    );
    assert_eq!(
        store.get("encoder.layer1.w").unwrap(),
        &[1.0, 2.0, 3.0, 4.0]
    );

    // An unsupported dtype, and a mapped name that is not there, are named.
    let mut pooler = ParamStore::new();
    pooler.insert_zeros("pooler.w", &[4]).unwrap();
    pooler.insert_zeros("pooler.b", &[4]).unwrap();
    let e = load_params_mapped(
        &path,
        &mut pooler,
        &opts,
        Some(|n: &str| format!("bert.{n}")),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("'pooler.w' (file tensor 'bert.pooler.w') is F16"),
        "{e}"
    );
    assert!(
        e.contains("'pooler.b' (file tensor 'bert.pooler.b') is missing"),
        "{e}"
    );
}
