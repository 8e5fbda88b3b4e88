//! The engine end to end: a tiny model overfits a tiny dataset, and training is deterministic.
use embedlab::graph::{DType, Tensor};
use embedlab::model::{self, EncoderSpec, Head, Mode, Pooling};
use embedlab::runtime::SessionOptions;
use embedlab::train::{OptimSpec, StepInputs, Trainer, init_params};

fn tiny_batch() -> StepInputs {
    let (b, t) = (8, 6);
    let mut ids = Vec::new();
    let mut mask = Vec::new();
    for i in 0..b {
        for j in 0..t {
            ids.push(if j == 0 {
                2
            } else {
                ((i * 7 + j * 3) % 15 + 5) as i64
            });
            mask.push(if j < t - (i % 3) { 1 } else { 0 });
        }
    }
    vec![
        ("input_ids".into(), Tensor::i64(vec![b, t], ids)),
        ("attention_mask".into(), Tensor::i64(vec![b, t], mask)),
        (
            "labels".into(),
            Tensor::i64(vec![b], (0..b as i64).map(|i| i % 3).collect()),
        ),
    ]
}

fn trainer(dropout: f64, seed: u64) -> Trainer {
    let mut spec = EncoderSpec::tiny(20);
    spec.segment = false;
    spec.max_len = 6;
    spec.dropout = dropout;
    let head = Head::Classify {
        classes: 3,
        pooling: Pooling::Cls,
    };
    let train = model::task_graph(
        &spec,
        head,
        8,
        6,
        &Mode::Train {
            frozen_prefixes: vec![],
        },
        DType::F32,
        seed as i64,
    )
    .unwrap();
    let params = init_params(&train.params, seed).unwrap();
    let mut opt = OptimSpec::adamw(1e-2, 1000);
    opt.schedule = embedlab::train::Schedule::Constant;
    Trainer::new(
        &train,
        None,
        params,
        opt,
        &SessionOptions {
            intra_threads: Some(2),
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn tiny_model_overfits_tiny_dataset() {
    let mut tr = trainer(0.0, 1);
    let batch = tiny_batch();
    let first = tr.step(&batch).unwrap().loss;
    let mut last = first;
    for _ in 0..80 {
        last = tr.step(&batch).unwrap().loss;
    }
    println!(
        "loss {first:.4} -> {last:.5} ({:.2}%)",
        100.0 * last / first
    );
    assert!(
        last < 0.05 * first,
        "final loss {last} is not under 5% of the first {first}"
    );
}

#[test]
fn same_seed_twice_gives_identical_parameters() {
    let run = || {
        let mut tr = trainer(0.1, 7);
        let batch = tiny_batch();
        for _ in 0..10 {
            tr.step(&batch).unwrap();
        }
        tr.params.checksum()
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let mut other = trainer(0.1, 8);
    other.step(&tiny_batch()).unwrap();
    assert_ne!(
        a,
        other.params.checksum(),
        "a different seed must give different parameters"
    );
}
