//! Whole-model gradients (embeddings word + position + segment, padding mask, 2 encoder layers,
//! each head; masked packing's position ids and block-diagonal document mask) against central
//! finite differences on float64 graphs run in ONNX Runtime.

use super::exec::Exec;
use super::fd::F64_FD;
use embedlab::graph::{self, DType, Tensor};
use embedlab::model::{
    self, EncoderSpec, Head, Mode, NormPlacement, Pooling, PretrainHead, TaskHead,
};

fn batch(head: Head, spec: &EncoderSpec) -> Vec<(String, Tensor)> {
    let (b, t) = (2, 5);
    let mut feeds = vec![
        (
            "input_ids".to_string(),
            Tensor::i64(vec![b, t], vec![2, 5, 7, 3, 9, 2, 6, 3, 0, 0]),
        ),
        (
            "attention_mask".to_string(),
            Tensor::i64(vec![b, t], vec![1, 1, 1, 1, 1, 1, 1, 1, 0, 0]),
        ),
    ];
    if spec.segment {
        feeds.push((
            "token_type_ids".into(),
            Tensor::i64(vec![b, t], vec![0, 0, 0, 1, 1, 0, 0, 1, 0, 0]),
        ));
    }
    if spec.masked_packing {
        // Row 0 packs two documents, [CLS] 5 7 | [SEP] 9 (pieces at 0 and 3: positions restart,
        // attention stays within a piece); row 1 is one document with padding.
        feeds.push((
            model::Input::PositionIds.name().into(),
            Tensor::i64(vec![b, t], vec![0, 1, 2, 0, 1, 0, 1, 2, 3, 4]),
        ));
        let piece = [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]];
        let mask: Vec<i64> = (0..b)
            .flat_map(|r| {
                (0..t).flat_map(move |i| (0..t).map(move |j| (piece[r][i] == piece[r][j]) as i64))
            })
            .collect();
        feeds.push((
            model::Input::DocumentMask.name().into(),
            Tensor::i64(vec![b, t, t], mask),
        ));
    }
    match head {
        Head::Pretrain(PretrainHead::Mlm { .. }) => {
            feeds.push(("mlm_positions".into(), Tensor::i64(vec![3], vec![1, 4, 6])));
            feeds.push((
                "mlm_labels".into(),
                Tensor::i64(vec![3], vec![8, 10, model::IGNORE_INDEX]),
            ));
        }
        Head::Task(TaskHead::Classify { windows: None, .. })
        | Head::Pretrain(PretrainHead::Sequence { .. }) => {
            feeds.push(("labels".into(), Tensor::i64(vec![b], vec![2, 0])))
        }
        Head::Task(TaskHead::Classify {
            windows: Some(_), ..
        }) => {
            // Both rows are windows of example 0; row 1 of the mask is no example (ignored).
            feeds.push((
                model::Input::WindowMask.name().into(),
                Tensor::f64(vec![b, b], vec![1.0, 1.0, 1.0, 0.0]),
            ));
            feeds.push((
                "labels".into(),
                Tensor::i64(vec![b], vec![2, model::IGNORE_INDEX]),
            ));
        }
        Head::Task(TaskHead::Span) => {
            // Row 0 may answer at [CLS] and its context tokens 3, 4; row 1 at [CLS] and 3.
            feeds.push((
                "span_mask".into(),
                Tensor::i64(vec![b, t], vec![1, 0, 0, 1, 1, 1, 0, 0, 1, 0]),
            ));
            feeds.push(("labels".into(), Tensor::i64(vec![2 * b], vec![3, 4, 0, 3])));
        }
        Head::Task(TaskHead::Tag { .. }) | Head::Pretrain(PretrainHead::Clm) => feeds.push((
            "labels".into(),
            Tensor::i64(vec![b * t], vec![1, 0, 2, -100, 1, 0, 1, 2, -100, -100]),
        )),
    }
    feeds
}

fn check(spec: &EncoderSpec, head: Head) {
    let tg = model::task_graph(
        spec,
        head,
        2,
        5,
        &Mode::Train {
            frozen_prefixes: vec![],
        },
        DType::F64,
        1,
    )
    .unwrap();
    let eval = model::task_graph(spec, head, 2, 5, &Mode::Eval, DType::F64, 1).unwrap();
    let mut params: Vec<(String, Tensor)> = tg
        .params
        .iter()
        .map(|p| {
            // Larger-than-default weights so every path carries a visible gradient.
            let v: Vec<f64> = p
                .init_values(3)
                .iter()
                .map(|&x| {
                    x as f64 * 20.0
                        + if p.name.ends_with("norm.weight") {
                            1.0
                        } else {
                            0.0
                        }
                })
                .collect();
            (p.name.clone(), Tensor::f64(p.shape.clone(), v))
        })
        .collect();
    let feeds = batch(head, spec);
    let mut all = feeds.clone();
    all.extend(params.iter().cloned());
    let out = Exec::new(&graph::to_onnx_bytes(&tg.graph).unwrap()).run(&all);
    let mut fwd = Exec::new(&graph::to_onnx_bytes(&eval.graph).unwrap());
    let mut loss_at = |ps: &[(String, Tensor)]| -> f64 {
        let mut a = feeds.clone();
        a.extend(ps.iter().cloned());
        fwd.run(&a)
            .into_iter()
            .find(|(n, _)| n == "loss")
            .unwrap()
            .1
            .as_f64()
            .unwrap()[0]
    };
    let eps = 1e-6;
    let mut checked = 0;
    for i in 0..params.len() {
        let name = params[i].0.clone();
        let analytic = out
            .iter()
            .find(|(n, _)| *n == format!("grad.{name}"))
            .unwrap_or_else(|| panic!("no grad for {name}"))
            .1
            .clone();
        let analytic = analytic.as_f64().unwrap().to_vec();
        let base = params[i].1.clone();
        let mut nonzero = false;
        for k in 0..base.len() {
            let mut v = base.as_f64().unwrap().to_vec();
            v[k] += eps;
            params[i].1 = Tensor::f64(base.shape.clone(), v.clone());
            let lp = loss_at(&params);
            v[k] -= 2.0 * eps;
            params[i].1 = Tensor::f64(base.shape.clone(), v);
            let lm = loss_at(&params);
            let numeric = (lp - lm) / (2.0 * eps);
            let a = analytic[k];
            assert!(
                (a - numeric).abs() <= F64_FD.atol * 10.0 + F64_FD.rtol * 100.0 * numeric.abs(),
                "{head:?}: d loss / d {name}[{k}]: analytic {a} vs numeric {numeric}"
            );
            nonzero |= a.abs() > 1e-9;
            checked += 1;
        }
        params[i].1 = base;
        // Padding rows' word embeddings and unused rows get zero gradient; everything else must move.
        // Under the span head, a shift shared by every position (the head's bias, the last
        // LayerNorm's bias) moves all of a row's start (end) logits alike, which a softmax over
        // positions ignores: their gradient is zero by construction.
        let shared_shift = head == Head::Task(TaskHead::Span)
            && (name == "head.span.bias"
                || name == format!("encoder.layer{}.ffn_norm.bias", spec.depth - 1));
        if !name.ends_with("embeddings.word")
            && !name.ends_with("embeddings.position")
            && !shared_shift
        {
            assert!(nonzero, "{head:?}: gradient of {name} is identically zero");
        }
    }
    println!("{head:?}: {checked} parameter elements checked");
}

#[test]
fn encoder_with_classifier_matches_finite_differences() {
    let mut spec = EncoderSpec::tiny(11);
    spec.d_model = 8;
    spec.ffn = 12;
    spec.max_len = 5;
    spec.dropout = 0.0;
    check(
        &spec,
        Head::Task(TaskHead::Classify {
            classes: 3,
            pooling: Pooling::Mean,
            windows: None,
        }),
    );
}

#[test]
fn causal_encoder_pooled_at_its_last_token_matches_finite_differences() {
    // GPT-style feature extraction: the last real token of each row (the batch's rows have
    // different lengths, so the one-hot weights sit at different positions).
    let mut spec = EncoderSpec::tiny(11);
    spec.d_model = 8;
    spec.ffn = 12;
    spec.max_len = 5;
    spec.dropout = 0.0;
    spec.causal = true;
    check(
        &spec,
        Head::Task(TaskHead::Classify {
            classes: 3,
            pooling: Pooling::Last,
            windows: None,
        }),
    );
}

#[test]
fn windows_pooled_by_mean_and_max_match_finite_differences() {
    let mut spec = EncoderSpec::tiny(11);
    spec.d_model = 8;
    spec.ffn = 12;
    spec.max_len = 5;
    spec.dropout = 0.0;
    for pool in [model::WindowPool::Mean, model::WindowPool::Max] {
        check(
            &spec,
            Head::Task(TaskHead::Classify {
                classes: 3,
                pooling: Pooling::Cls,
                windows: Some(pool),
            }),
        );
    }
}

#[test]
fn encoder_with_tied_mlm_head_matches_finite_differences() {
    let mut spec = EncoderSpec::tiny(11);
    spec.d_model = 8;
    spec.ffn = 12;
    spec.max_len = 6;
    spec.dropout = 0.0;
    check(&spec, Head::Pretrain(PretrainHead::Mlm { n_masked: 3 }));
}

#[test]
fn pre_ln_causal_tagger_matches_finite_differences() {
    let mut spec = EncoderSpec::tiny(11);
    spec.d_model = 8;
    spec.ffn = 12;
    spec.max_len = 5;
    spec.dropout = 0.0;
    spec.norm = NormPlacement::Pre;
    spec.causal = true;
    spec.segment = false;
    check(&spec, Head::Task(TaskHead::Tag { classes: 3 }));
}

#[test]
fn encoder_with_span_head_matches_finite_differences() {
    let mut spec = EncoderSpec::tiny(11);
    spec.d_model = 8;
    spec.ffn = 12;
    spec.max_len = 5;
    spec.dropout = 0.0;
    check(&spec, Head::Task(TaskHead::Span));
}

/// Masked packing (`pack = "masked"`): positions gathered by `position_ids`, attention biased
/// by the block-diagonal `document_mask`, under the MLM head and, causal, the CLM head.
#[test]
fn masked_packing_matches_finite_differences() {
    let mut spec = EncoderSpec::tiny(11);
    spec.d_model = 8;
    spec.ffn = 12;
    spec.max_len = 6;
    spec.dropout = 0.0;
    spec.masked_packing = true;
    check(&spec, Head::Pretrain(PretrainHead::Mlm { n_masked: 3 }));
    spec.causal = true;
    spec.segment = false;
    spec.position = model::PositionEmbedding::Sinusoidal;
    check(&spec, Head::Pretrain(PretrainHead::Clm));
}
