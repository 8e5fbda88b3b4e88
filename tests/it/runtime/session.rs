//! Sessions through the real ONNX Runtime: tiny hand-built ONNX models (Y = MatMul(X, W) + B in
//! f32 and f64), borrowed feeds, borrowed and owned outputs, error messages, and the library
//! lookup (bundled copy found; a bogus ORT_DYLIB_PATH gives the clear error).

use crate::external::skip_or_fail;
use embedlab::graph::onnx_pb::{
    self, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, tensor_value_info,
};
use embedlab::graph::{DType, Tensor};
use embedlab::runtime::{
    self, Feeds, LibraryLookup, LibrarySource, ParamStore, RuntimeError, Session, SessionOptions,
};
use prost::Message;

fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        op_type: op.to_string(),
        name: name.to_string(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn model(graph: GraphProto) -> Vec<u8> {
    ModelProto {
        ir_version: 10,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 21,
        }],
        producer_name: "embedlab-test".to_string(),
        graph: Some(graph),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Y = MatMul(X, W) + B with X: [batch, 3], W: [3, 2], B: [2]; `elem` is the ONNX type code.
fn linear_model(elem: i32, w_name: &str, b_name: &str) -> Vec<u8> {
    let batch = Err("batch".to_string());
    model(GraphProto {
        name: "linear".to_string(),
        node: vec![
            node("MatMul", "lin.matmul", &["X", w_name], &["XW"]),
            node("Add", "lin.add", &["XW", b_name], &["Y"]),
        ],
        input: vec![
            tensor_value_info("X", elem, &[batch.clone(), Ok(3)]),
            tensor_value_info(w_name, elem, &[Ok(3), Ok(2)]),
            tensor_value_info(b_name, elem, &[Ok(2)]),
        ],
        output: vec![tensor_value_info("Y", elem, &[batch, Ok(2)])],
        ..Default::default()
    })
}

/// Z = A + A, and C = Cast<int64>(A > 0) as a second output of another dtype.
fn double_model() -> Vec<u8> {
    let mut cast = node("Cast", "cast", &["P"], &["C"]);
    cast.attribute.push(onnx_pb::AttributeProto {
        name: "to".to_string(),
        r#type: onnx_pb::attribute_type::INT,
        i: Some(7),
        ..Default::default()
    });
    model(GraphProto {
        name: "double".to_string(),
        node: vec![
            node("Add", "double.add", &["A", "A"], &["Z"]),
            node("Greater", "double.gt", &["A", "zero"], &["P"]),
            cast,
        ],
        initializer: vec![onnx_pb::TensorProto {
            dims: vec![],
            data_type: 1,
            name: "zero".to_string(),
            raw_data: 0f32.to_le_bytes().to_vec(),
        }],
        input: vec![tensor_value_info("A", 1, &[Ok(2), Ok(2)])],
        output: vec![
            tensor_value_info("Z", 1, &[Ok(2), Ok(2)]),
            tensor_value_info("C", 7, &[Ok(2), Ok(2)]),
        ],
        ..Default::default()
    })
}

const X: [f32; 6] = [1.0, 2.0, 3.0, -1.0, 0.5, 4.0];
const W: [f32; 6] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
const B: [f32; 2] = [10.0, -10.0];

fn expected_linear() -> Vec<f64> {
    let mut y = vec![0.0f64; 4];
    for r in 0..2 {
        for c in 0..2 {
            y[r * 2 + c] = B[c] as f64
                + (0..3)
                    .map(|k| X[r * 3 + k] as f64 * W[k * 2 + c] as f64)
                    .sum::<f64>();
        }
    }
    y
}

#[test]
fn f32_matmul_add_with_borrowed_feeds() {
    let mut s = Session::from_bytes(
        "linear_f32",
        &linear_model(1, "W", "B"),
        &SessionOptions::default(),
    )
    .unwrap();
    assert_eq!(s.name(), "linear_f32");
    let names: Vec<_> = s.inputs().iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["X", "W", "B"]);
    assert_eq!(s.inputs()[0].shape, [None, Some(3)]);
    assert_eq!(s.outputs()[0].dtype, Some(DType::F32));

    let mut feeds = Feeds::new();
    feeds
        .f32("X", &[2, 3], &X)
        .f32("W", &[3, 2], &W)
        .f32("B", &[2], &B);
    let out = s.run(&feeds).unwrap();
    assert_eq!(out.names(), ["Y"]);
    let y = out.f32("Y").unwrap();
    assert_eq!(y.shape, [2, 2]);
    for (a, b) in y.data.iter().zip(expected_linear()) {
        assert!((*a as f64 - b).abs() < 1e-5, "{a} vs {b}");
    }
    let t = out.tensor("Y").unwrap();
    assert_eq!(t.shape, [2, 2]);
    assert_eq!(t.as_f32().unwrap(), y.data);
    assert_eq!(out.dtype("Y").unwrap(), DType::F32);
}

#[test]
fn f64_variant_is_exact() {
    let mut s = Session::from_bytes(
        "linear_f64",
        &linear_model(11, "W", "B"),
        &SessionOptions::default(),
    )
    .unwrap();
    let x: Vec<f64> = X.iter().map(|&v| v as f64).collect();
    let w: Vec<f64> = W.iter().map(|&v| v as f64).collect();
    let b: Vec<f64> = B.iter().map(|&v| v as f64).collect();
    let xt = Tensor::f64(vec![2, 3], x);
    let mut feeds = Feeds::new();
    feeds
        .tensor("X", &xt)
        .f64("W", &[3, 2], &w)
        .f64("B", &[2], &b);
    let out = s.run(&feeds).unwrap();
    let y = out.f64("Y").unwrap();
    for (a, e) in y.data.iter().zip(expected_linear()) {
        assert!((a - e).abs() < 1e-12, "{a} vs {e}");
    }
    // Asking for the wrong dtype names the graph, the output and both types.
    let e = out.f32("Y").unwrap_err().to_string();
    assert!(
        e.contains("linear_f64") && e.contains("'Y'") && e.contains("f32"),
        "{e}"
    );
    let tensors = out.to_tensors().unwrap();
    assert_eq!(tensors[0].0, "Y");
    assert_eq!(tensors[0].1.dtype(), DType::F64);
}

#[test]
fn params_are_fed_from_the_store_by_name() {
    let bytes = linear_model(1, "lin.weight", "lin.bias");
    let mut s = Session::from_bytes(
        "linear_params",
        &bytes,
        &SessionOptions {
            intra_threads: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let mut store = ParamStore::new();
    store.insert("lin.weight", &[3, 2], &W).unwrap();
    store.insert("lin.bias", &[2], &B).unwrap();
    let mut feeds = Feeds::new();
    feeds.f32("X", &[2, 3], &X).params(&store);
    let out = s.run(&feeds).unwrap();
    let y = out.f32("Y").unwrap();
    assert!((y.data[0] as f64 - expected_linear()[0]).abs() < 1e-5);
    drop(out);
    // The same feeds can run again.
    let again = s.run(&feeds).unwrap().tensor("Y").unwrap();
    assert_eq!(
        again.as_f32().unwrap()[3] as f64,
        (expected_linear()[3] as f32) as f64
    );
}

#[test]
fn owned_outputs_feed_back_and_other_dtypes_read() {
    let mut s = Session::from_bytes("double", &double_model(), &SessionOptions::default()).unwrap();
    let a = [1.0f32, -2.0, 0.0, 3.5];
    let mut feeds = Feeds::new();
    feeds.f32("A", &[2, 2], &a);
    let mut out = s.run(&feeds).unwrap();
    assert_eq!(out.i64("C").unwrap().data, [1, 0, 0, 1]);
    assert_eq!(
        out.tensor("C").unwrap(),
        Tensor::i64(vec![2, 2], vec![1, 0, 0, 1])
    );
    let z = out.take("Z").unwrap();
    assert!(matches!(
        out.take("Z"),
        Err(RuntimeError::UnknownOutput { .. })
    ));
    drop(out);
    assert_eq!(z.shape(), [2, 2]);
    assert_eq!(z.as_f32().unwrap(), [2.0, -4.0, 0.0, 7.0]);
    let mut feeds = Feeds::new();
    feeds.value("A", &z);
    let out = s.run(&feeds).unwrap();
    assert_eq!(out.f32("Z").unwrap().data, [4.0, -8.0, 0.0, 14.0]);
    let e = out.scalar("Z").unwrap_err().to_string();
    assert!(e.contains("double") && e.contains("single"), "{e}");
}

#[test]
fn errors_name_the_graph_and_the_input() {
    let bytes = linear_model(1, "W", "B");
    let mut s = Session::from_bytes("my_graph", &bytes, &SessionOptions::default()).unwrap();

    let mut feeds = Feeds::new();
    feeds.f32("X", &[2, 3], &X).f32("W", &[3, 2], &W);
    let e = s.run(&feeds).unwrap_err().to_string();
    assert!(
        e.contains("my_graph") && e.contains("not fed") && e.contains('B'),
        "{e}"
    );

    let mut feeds = Feeds::new();
    feeds
        .f32("X", &[2, 3], &X)
        .f32("W", &[3, 2], &W)
        .f32("B", &[2], &B)
        .f32("Q", &[1], &B[..1]);
    let e = s.run(&feeds).unwrap_err().to_string();
    assert!(
        e.contains("my_graph") && e.contains("'Q'") && e.contains("X, W, B"),
        "{e}"
    );

    let mut feeds = Feeds::new();
    feeds
        .f32("X", &[2, 2], &X)
        .f32("W", &[3, 2], &W)
        .f32("B", &[2], &B);
    let e = s.run(&feeds).unwrap_err().to_string();
    assert!(
        e.contains("my_graph") && e.contains("'X'") && e.contains("[2, 2]"),
        "{e}"
    );

    // A shape ONNX Runtime rejects: its own message comes through, with our graph name.
    let mut feeds = Feeds::new();
    feeds
        .f32("X", &[3, 2], &X)
        .f32("W", &[3, 2], &W)
        .f32("B", &[2], &B);
    let e = s.run(&feeds).unwrap_err();
    assert!(matches!(e, RuntimeError::Run { .. }), "{e}");
    assert!(e.to_string().contains("my_graph"), "{e}");

    let mut feeds = Feeds::new();
    feeds
        .f32("X", &[2, 3], &X)
        .f32("W", &[3, 2], &W)
        .f32("B", &[2], &B);
    let out = s.run(&feeds).unwrap();
    let e = out.f32("Nope").unwrap_err().to_string();
    assert!(
        e.contains("my_graph") && e.contains("'Nope'") && e.contains('Y'),
        "{e}"
    );
}

#[test]
fn bad_model_bytes_name_the_graph() {
    let e = Session::from_bytes("broken_graph", b"not a model", &SessionOptions::default())
        .unwrap_err();
    assert!(matches!(e, RuntimeError::SessionCreate { .. }));
    assert!(e.to_string().contains("broken_graph"), "{e}");
}

#[test]
fn init_is_idempotent_and_reports_the_version() {
    let a = runtime::init().unwrap();
    let b = runtime::init().unwrap();
    assert_eq!(a, b);
    assert!(a.version.starts_with("1."), "{}", a.version);
    assert!(a.path.is_absolute());
    assert_eq!(runtime::runtime_info(), Some(a));
    if std::env::var_os("ORT_DYLIB_PATH").is_none() && a.source == LibrarySource::Bundled {
        assert_eq!(a.version, "1.32.0");
    }
}

#[test]
fn bundled_library_is_found_without_any_environment() {
    let bundled = runtime::BUNDLED_LIBRARY.map(std::path::PathBuf::from);
    if !bundled.as_ref().is_some_and(|p| p.is_file())
        && std::env::var_os("ORT_DYLIB_PATH").is_some()
    {
        skip_or_fail(
            "the bundled-library check",
            "the build was offline and ORT_DYLIB_PATH is set: nothing bundled to check",
        );
        return;
    }
    let lookup = LibraryLookup {
        bundled,
        ..Default::default()
    };
    let info = lookup.locate().unwrap();
    assert_eq!(info.source, LibrarySource::Bundled);
    assert_eq!(info.version, "1.32.0");
}

#[test]
fn bogus_ort_dylib_path_gives_a_clear_error() {
    let lookup = LibraryLookup {
        dylib_path: Some("/nonexistent/libonnxruntime.so".into()),
        python: Some("python3".into()),
        bundled: runtime::BUNDLED_LIBRARY.map(Into::into),
        ..Default::default()
    };
    let e = lookup.locate().unwrap_err();
    assert!(matches!(e, RuntimeError::LibraryNotFound { .. }));
    let msg = e.to_string();
    for needle in [
        "ORT_DYLIB_PATH",
        "/nonexistent/libonnxruntime.so",
        "no such file",
        "hint",
        "cargo build",
    ] {
        assert!(msg.contains(needle), "missing {needle:?} in:\n{msg}");
    }

    // A file that is not a library.
    let not_lib = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let e = LibraryLookup {
        dylib_path: Some(not_lib.into()),
        ..Default::default()
    }
    .locate()
    .unwrap_err();
    assert!(e.to_string().contains("not a loadable library"), "{e}");

    // Nothing anywhere: every step is listed.
    let e = LibraryLookup {
        dylib_path: None,
        python: Some("/nonexistent/python3".into()),
        bundled: Some("/nonexistent/ort.so".into()),
        ..Default::default()
    }
    .locate()
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("Python package")
            && e.contains("could not run")
            && e.contains("bundled")
            && e.contains("/nonexistent/ort.so"),
        "{e}"
    );
}

/// Run by `init_failure_in_a_fresh_process` in a child process whose ORT_DYLIB_PATH is bogus.
#[test]
fn child_init_with_bogus_path() {
    if std::env::var_os("EMBEDLAB_RUNTIME_TEST_CHILD").is_none() {
        return;
    }
    let e = runtime::init().unwrap_err();
    println!("CHILD-ERROR: {e}");
    // Retrying is allowed and fails the same way (no panic, nothing cached).
    assert!(runtime::init().is_err());
    assert!(runtime::runtime_info().is_none());
    assert!(Session::from_bytes("g", b"", &SessionOptions::default()).is_err());
}

#[test]
fn init_failure_in_a_fresh_process() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "runtime::session::child_init_with_bogus_path",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("EMBEDLAB_RUNTIME_TEST_CHILD", "1")
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so.1.32.0")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("CHILD-ERROR: could not load the ONNX Runtime library"),
        "{stdout}"
    );
    assert!(
        stdout.contains("/nonexistent/libonnxruntime.so.1.32.0"),
        "{stdout}"
    );
}

/// A training step graph for least squares, backward written by hand:
/// Y = X W + B, D = Y - T, loss = mean(D^2); dL/dY = 2 D / numel(D),
/// dL/dW = X^T dL/dY, dL/dB = sum over rows of dL/dY.
fn least_squares_step_model() -> Vec<u8> {
    let f32_scalar = |name: &str, v: f32| onnx_pb::TensorProto {
        dims: vec![],
        data_type: 1,
        name: name.to_string(),
        raw_data: v.to_le_bytes().to_vec(),
    };
    let mut reduce_mean = node("ReduceMean", "loss.mean", &["D2"], &["loss"]);
    reduce_mean.attribute.push(onnx_pb::AttributeProto {
        name: "keepdims".to_string(),
        r#type: onnx_pb::attribute_type::INT,
        i: Some(0),
        ..Default::default()
    });
    let mut reduce_sum = node(
        "ReduceSum",
        "grad.b.sum",
        &["gY", "axis0"],
        &["grad.lin.bias"],
    );
    reduce_sum.attribute.push(onnx_pb::AttributeProto {
        name: "keepdims".to_string(),
        r#type: onnx_pb::attribute_type::INT,
        i: Some(0),
        ..Default::default()
    });
    model(GraphProto {
        name: "least_squares_step".to_string(),
        node: vec![
            node("MatMul", "fwd.matmul", &["X", "lin.weight"], &["XW"]),
            node("Add", "fwd.add", &["XW", "lin.bias"], &["Y"]),
            node("Sub", "fwd.sub", &["Y", "T"], &["D"]),
            node("Mul", "fwd.sq", &["D", "D"], &["D2"]),
            reduce_mean,
            node("Mul", "bwd.scale", &["D", "two_over_n"], &["gY"]),
            node("Transpose", "bwd.xt", &["X"], &["XT"]),
            node("MatMul", "bwd.gw", &["XT", "gY"], &["grad.lin.weight"]),
            reduce_sum,
        ],
        initializer: vec![
            f32_scalar("two_over_n", 2.0 / 8.0),
            onnx_pb::TensorProto {
                dims: vec![1],
                data_type: 7,
                name: "axis0".to_string(),
                raw_data: 0i64.to_le_bytes().to_vec(),
            },
        ],
        input: vec![
            tensor_value_info("X", 1, &[Ok(4), Ok(3)]),
            tensor_value_info("T", 1, &[Ok(4), Ok(2)]),
            tensor_value_info("lin.weight", 1, &[Ok(3), Ok(2)]),
            tensor_value_info("lin.bias", 1, &[Ok(2)]),
        ],
        output: vec![
            tensor_value_info("loss", 1, &[]),
            tensor_value_info("grad.lin.weight", 1, &[Ok(3), Ok(2)]),
            tensor_value_info("grad.lin.bias", 1, &[Ok(2)]),
        ],
        ..Default::default()
    })
}

/// The loop a trainer runs: borrowed params in, borrowed gradients out, fused AdamW on the host.
#[test]
fn training_loop_with_host_adamw_reduces_the_loss() {
    use embedlab::runtime::{AdamW, Optimizer, StepOptions, clip_factor, global_grad_norm};
    let mut s = Session::from_bytes(
        "least_squares_step",
        &least_squares_step_model(),
        &SessionOptions {
            intra_threads: Some(2),
            ..Default::default()
        },
    )
    .unwrap();
    let x = [
        1.0f32, 0.0, 2.0, 0.5, 1.0, -1.0, -1.5, 2.0, 0.0, 0.0, 1.0, 1.0,
    ];
    // Targets from a known W, B, so the optimum has loss 0.
    let (w_true, b_true) = ([1.0f32, -2.0, 0.5, 0.0, -1.0, 3.0], [0.5f32, -0.5]);
    let mut t = [0.0f32; 8];
    for r in 0..4 {
        for c in 0..2 {
            t[r * 2 + c] = b_true[c]
                + (0..3)
                    .map(|k| x[r * 3 + k] * w_true[k * 2 + c])
                    .sum::<f32>();
        }
    }
    let mut params = ParamStore::new();
    params.insert_zeros("lin.weight", &[3, 2]).unwrap();
    params.insert_zeros("lin.bias", &[2]).unwrap();
    let optimizer = Optimizer::AdamW(AdamW {
        lr: 0.05,
        weight_decay: 0.0,
        ..Default::default()
    });
    let mut state = optimizer.state(&params);

    let mut losses = Vec::new();
    for _ in 0..300 {
        let mut feeds = Feeds::new();
        feeds
            .f32("X", &[4, 3], &x)
            .f32("T", &[4, 2], &t)
            .params(&params);
        let out = s.run(&feeds).unwrap();
        drop(feeds);
        losses.push(out.scalar("loss").unwrap());
        let gw = out.f32("grad.lin.weight").unwrap().data;
        let gb = out.f32("grad.lin.bias").unwrap().data;
        let opts = StepOptions {
            grad_scale: clip_factor(global_grad_norm(&[gw, gb]), 10.0),
            ..Default::default()
        };
        optimizer
            .update(&mut params, &mut state, &opts, |name| {
                out.f32(&format!("grad.{name}")).ok().map(|v| v.data)
            })
            .unwrap();
    }
    assert_eq!(state.step, 300);
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last < first * 1e-3, "loss {first} -> {last}");
}

/// A stand-in interpreter: a shell script that ignores its arguments and runs `body`.
#[cfg(unix)]
fn fake_python(dir: &std::path::Path, body: &str) -> std::ffi::OsString {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("python3");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.into_os_string()
}

#[cfg(unix)]
#[test]
fn python_package_lookup() {
    let Some(bundled) = runtime::BUNDLED_LIBRARY
        .map(std::path::PathBuf::from)
        .filter(|p| p.is_file())
    else {
        skip_or_fail(
            "the Python package lookup",
            "no bundled library to stand in for a Python package",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // A package directory laid out like the wheel: capi/ holds the library and a provider stub.
    let pkg = dir.path().join("site-packages/onnxruntime");
    std::fs::create_dir_all(pkg.join("capi")).unwrap();
    std::os::unix::fs::symlink(&bundled, pkg.join("capi/libonnxruntime.so.1.32.0")).unwrap();
    std::fs::write(pkg.join("capi/libonnxruntime_providers_shared.so"), b"stub").unwrap();
    let python = fake_python(dir.path(), &format!("echo {}", pkg.display()));
    let info = LibraryLookup {
        python: Some(python),
        ..Default::default()
    }
    .locate()
    .unwrap();
    assert_eq!(info.source, LibrarySource::PythonPackage);
    assert_eq!(info.version, "1.32.0");

    // An interpreter without the package falls through to the bundled copy.
    let python = fake_python(dir.path(), "echo");
    let info = LibraryLookup {
        python: Some(python),
        bundled: Some(bundled.clone()),
        ..Default::default()
    }
    .locate()
    .unwrap();
    assert_eq!(info.source, LibrarySource::Bundled);

    // One that hangs is abandoned after the timeout.
    let python = fake_python(dir.path(), "sleep 5");
    let t0 = std::time::Instant::now();
    let e = LibraryLookup {
        python: Some(python),
        python_timeout: std::time::Duration::from_millis(200),
        ..Default::default()
    }
    .locate()
    .unwrap_err()
    .to_string();
    assert!(t0.elapsed() < std::time::Duration::from_secs(3));
    assert!(e.contains("did not answer"), "{e}");
}

/// Per-step overhead of borrowed feeds: 100 parameters fed from a store into a Sum graph. Run with
/// `cargo test --test it -- --ignored --nocapture feed_overhead`.
#[test]
#[ignore]
fn feed_overhead_timing() {
    let names: Vec<String> = (0..100).map(|i| format!("p{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let bytes = model(GraphProto {
        name: "sum".to_string(),
        node: vec![node("Sum", "sum", &refs, &["S"])],
        input: names
            .iter()
            .map(|n| tensor_value_info(n, 1, &[Ok(128)]))
            .collect(),
        output: vec![tensor_value_info("S", 1, &[Ok(128)])],
        ..Default::default()
    });
    let mut s = Session::from_bytes(
        "sum",
        &bytes,
        &SessionOptions {
            intra_threads: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let mut store = ParamStore::new();
    for n in &names {
        store.insert(n.as_str(), &[128], &[1.0; 128]).unwrap();
    }
    let iters = 2000;
    let t0 = std::time::Instant::now();
    for _ in 0..iters {
        let mut feeds = Feeds::new();
        feeds.params(&store);
        std::hint::black_box(&feeds);
    }
    let build = t0.elapsed().as_secs_f64() * 1e6 / iters as f64;
    let t0 = std::time::Instant::now();
    for _ in 0..iters {
        let mut feeds = Feeds::new();
        feeds.params(&store);
        let out = s.run(&feeds).unwrap();
        assert_eq!(out.f32("S").unwrap().data[0], 100.0);
    }
    let run = t0.elapsed().as_secs_f64() * 1e6 / iters as f64;
    println!("100 borrowed feeds: build {build:.1} us, build + run {run:.1} us per step");
}

/// Bool and scalar feeds, every session option: O = Where(cond, A, s).
#[test]
fn bool_and_scalar_feeds_under_every_option() {
    use embedlab::runtime::{OptimizationLevel, TensorView};
    let bytes = model(GraphProto {
        name: "where".to_string(),
        node: vec![node("Where", "where", &["cond", "A", "s"], &["O"])],
        input: vec![
            tensor_value_info("cond", 9, &[Ok(3)]),
            tensor_value_info("A", 1, &[Ok(3)]),
            tensor_value_info("s", 1, &[]),
        ],
        output: vec![tensor_value_info("O", 1, &[Ok(3)])],
        ..Default::default()
    });
    let options = [
        SessionOptions::default(),
        SessionOptions {
            optimization: OptimizationLevel::Disable,
            intra_threads: Some(1),
            ..Default::default()
        },
        SessionOptions {
            optimization: OptimizationLevel::Basic,
            inter_threads: Some(2),
            ..Default::default()
        },
        SessionOptions {
            optimization: OptimizationLevel::Extended,
            deterministic: true,
            ..Default::default()
        },
    ];
    for opts in &options {
        let mut s = Session::from_bytes("where", &bytes, opts).unwrap();
        assert_eq!(s.inputs()[0].dtype, Some(DType::Bool));
        let cond = [true, false, true];
        let a = [1.0f32, 2.0, 3.0];
        let mut feeds = Feeds::new();
        feeds
            .bool("cond", &[3], &cond)
            .view("A", &[3], TensorView::F32(&a))
            .f32("s", &[], &[-1.0]);
        let out = s.run(&feeds).unwrap();
        assert_eq!(out.f32("O").unwrap().data, [1.0, -1.0, 3.0], "{opts:?}");
    }
}

/// Sessions and stores move to worker threads (`--jobs N` runs stages in parallel).
#[test]
fn sessions_and_stores_are_send() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Session>();
    send_sync::<ParamStore>();
    send_sync::<embedlab::runtime::OptState>();
    send_sync::<RuntimeError>();
    let bytes = linear_model(1, "W", "B");
    let mut s = Session::from_bytes("threaded", &bytes, &SessionOptions::default()).unwrap();
    let y = std::thread::spawn(move || {
        let mut feeds = Feeds::new();
        feeds
            .f32("X", &[2, 3], &X)
            .f32("W", &[3, 2], &W)
            .f32("B", &[2], &B);
        s.run(&feeds).unwrap().tensor("Y").unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(y.shape, [2, 2]);
}

/// Level All fuses MatMul + Add into Gemm (ARCHITECTURE §5); the optimised graph can be written out,
/// and runs can be profiled.
#[test]
fn optimized_model_and_profile_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let optimized = dir.path().join("linear.optimized.onnx");
    let opts = SessionOptions {
        optimized_model_path: Some(optimized.clone()),
        profile_prefix: Some(dir.path().join("linear_profile")),
        ..Default::default()
    };
    let mut s = Session::from_bytes("linear_opt", &linear_model(1, "W", "B"), &opts).unwrap();
    let mut feeds = Feeds::new();
    feeds
        .f32("X", &[2, 3], &X)
        .f32("W", &[3, 2], &W)
        .f32("B", &[2], &B);
    s.run(&feeds).unwrap();
    let trace = s.end_profiling().unwrap();
    let trace = if trace.is_absolute() {
        trace
    } else {
        std::env::current_dir().unwrap().join(trace)
    };
    assert!(trace.is_file(), "{}", trace.display());
    let _ = std::fs::remove_file(&trace);

    let model = ModelProto::decode(std::fs::read(&optimized).unwrap().as_slice()).unwrap();
    let ops: Vec<String> = model
        .graph
        .unwrap()
        .node
        .into_iter()
        .map(|n| n.op_type)
        .collect();
    assert!(
        ops.iter().any(|o| o == "Gemm" || o == "FusedGemm"),
        "{ops:?}"
    );
}
