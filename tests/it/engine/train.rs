//! The engine end to end: a tiny model overfits a tiny dataset, and training is deterministic.
use embedlab::graph::{DType, Tensor};
use embedlab::model::{self, EncoderSpec, Head, Input, Mode, Pooling, TaskHead};
use embedlab::runtime::SessionOptions;
use embedlab::train::{LrScales, OptimSpec, StepInputs, Trainer, init_params};

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
    StepInputs::from_iter([
        (Input::InputIds, Tensor::i64(vec![b, t], ids)),
        (Input::AttentionMask, Tensor::i64(vec![b, t], mask)),
        (
            Input::Labels,
            Tensor::i64(vec![b], (0..b as i64).map(|i| i % 3).collect()),
        ),
    ])
}

fn trainer(dropout: f64, seed: u64) -> Trainer {
    let mut opt = OptimSpec::adamw(1e-2, 1000);
    opt.schedule = embedlab::train::Schedule::Constant;
    trainer_with(dropout, seed, opt)
}

fn trainer_with(dropout: f64, seed: u64, opt: OptimSpec) -> Trainer {
    let mut spec = EncoderSpec::tiny(20);
    spec.segment = false;
    spec.max_len = 6;
    spec.dropout = dropout;
    let head = Head::Task(TaskHead::Classify {
        classes: 3,
        pooling: Pooling::Cls,
        windows: None,
    });
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

#[test]
fn encoder_rate_and_layer_decay_scale_each_parameters_step() {
    // One AdamW step moves a parameter by an amount proportional to its learning rate (the
    // decoupled decay too), so every parameter's move under the scales is its uniform move times
    // its scale: 1 for the head, 0.2 · 0.5^(2 − l) for layer l, 0.2 · 0.5^3 for the embeddings.
    let mut uniform = OptimSpec::adamw(1e-2, 1000);
    uniform.schedule = embedlab::train::Schedule::Constant;
    let scaled = OptimSpec {
        scales: LrScales {
            encoder: 0.2,
            layer_decay: 0.5,
            depth: 2,
        },
        ..uniform.clone()
    };
    let (mut a, mut b) = (
        trainer_with(0.0, 3, uniform),
        trainer_with(0.0, 3, scaled.clone()),
    );
    let start = a.params.clone();
    let batch = tiny_batch();
    a.step(&batch).unwrap();
    b.step(&batch).unwrap();
    assert_eq!(b.opt.step, 1, "one step whatever the number of rate groups");
    let mut seen = std::collections::BTreeSet::new();
    for p in start.iter() {
        let want = scaled.scales.of(p.name);
        seen.insert(format!("{want:.4}"));
        let (ua, ub) = (a.params.get(p.name).unwrap(), b.params.get(p.name).unwrap());
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for ((s, x), y) in p.data.iter().zip(ua).zip(ub) {
            let (dx, dy) = ((x - s) as f64, (y - s) as f64);
            num += dx * dy;
            den += dx * dx;
        }
        if den == 0.0 {
            continue;
        }
        let ratio = num / den;
        assert!(
            (ratio - want).abs() < 1e-3 * want.max(1e-3) + 1e-4,
            "{}: moved {ratio:.5} of the uniform step, expected {want}",
            p.name
        );
    }
    assert!(
        seen.len() >= 4,
        "head, two layers and the embeddings: {seen:?}"
    );
}
