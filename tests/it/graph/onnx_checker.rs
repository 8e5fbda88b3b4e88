//! The exported graphs are valid ONNX: ONNX Runtime loads them, and (when the Python `onnx`
//! package is installed, as CI does) `onnx.checker.check_model(full_check=True)` accepts them.
use crate::external::python_or_skip;
use embedlab::graph::{self, DType};
use embedlab::model::{self, EncoderSpec, Head, Mode, Pooling, PretrainHead, TaskHead};
use embedlab::runtime::{Session, SessionOptions};
use std::process::Command;

#[test]
fn exported_graphs_load_in_onnx_runtime_and_pass_the_onnx_checker() {
    let dir = tempfile::tempdir().unwrap();
    let spec = EncoderSpec::tiny(50);
    let train = Mode::Train {
        frozen_prefixes: vec![],
    };
    let graphs = vec![
        (
            "mlm_train_step",
            model::task_graph(
                &spec,
                Head::Pretrain(PretrainHead::Mlm { n_masked: 4 }),
                2,
                8,
                &train,
                DType::F32,
                1,
            )
            .unwrap(),
        ),
        (
            "classify_eval",
            model::task_graph(
                &spec,
                Head::Task(TaskHead::Classify {
                    classes: 3,
                    pooling: Pooling::Mean,
                    windows: None,
                }),
                2,
                8,
                &Mode::Eval,
                DType::F32,
                1,
            )
            .unwrap(),
        ),
        (
            "tag_train_step_f64",
            model::task_graph(
                &spec,
                Head::Task(TaskHead::Tag { classes: 3 }),
                2,
                8,
                &train,
                DType::F64,
                1,
            )
            .unwrap(),
        ),
        (
            "encode",
            model::features_graph(&spec, 2, 8, Some(Pooling::Cls), DType::F32).unwrap(),
        ),
        (
            "head_train_step",
            model::head_graph(16, 3, 4, 0.1, &train, DType::F32, 1).unwrap(),
        ),
    ];
    let mut paths = Vec::new();
    for (name, tg) in &graphs {
        let bytes = graph::to_onnx_bytes(&tg.graph).unwrap();
        Session::from_bytes(*name, &bytes, &SessionOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let p = dir.path().join(format!("{name}.onnx"));
        std::fs::write(&p, &bytes).unwrap();
        paths.push(p);
    }
    if !python_or_skip("the onnx.checker part", &["onnx"]) {
        return;
    }
    let script = "import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\n    print('ok', p)";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&paths)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "onnx.checker rejected a graph:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        graphs.len()
    );
}
