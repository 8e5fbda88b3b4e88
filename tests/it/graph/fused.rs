//! The fused inference encoder (ONNX Runtime's com.microsoft Attention, SkipLayerNormalization,
//! BiasGelu) against the unfused one, its reference: same parameters, same inputs (padding
//! included), same features to f32 tolerance, for every encoder variant the fused kernels express;
//! and the visible fallbacks where they do not apply.

use super::exec::Exec;
use embedlab::graph::onnx_pb::ModelProto;
use embedlab::graph::{DType, Tensor, to_onnx_bytes};
use embedlab::model::{
    self, Activation, EncoderSpec, Fusion, FusionPlan, NormPlacement, PositionEmbedding,
};
use prost::Message;

/// f32 tolerance of the fused kernels against the unfused graph: |a − b| ≤ TOL · max(1, |b|).
const TOL: f32 = 1e-4;
const BATCH: usize = 3;
const SEQ: usize = 8;

/// Deterministic values in [-0.5, 0.5) (a fixed LCG; no randomness in the test).
fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect()
}

fn spec(
    norm: NormPlacement,
    position: PositionEmbedding,
    segment: bool,
    activation: Activation,
    causal: bool,
) -> EncoderSpec {
    EncoderSpec {
        max_len: SEQ,
        d_model: 16,
        heads: 4,
        norm,
        position,
        segment,
        activation,
        causal,
        ..EncoderSpec::tiny(40)
    }
}

/// The batch: row 0 full, rows 1 and 2 padded after 5 and 2 tokens.
fn batch_inputs(spec: &EncoderSpec) -> Vec<(String, Tensor)> {
    let n = BATCH * SEQ;
    let ids: Vec<i64> = (0..n as i64)
        .map(|i| (i * 7 + 3) % spec.vocab as i64)
        .collect();
    let lens = [SEQ, 5, 2];
    let mask: Vec<i64> = (0..n).map(|i| i64::from(i % SEQ < lens[i / SEQ])).collect();
    let mut v = vec![
        ("input_ids".to_string(), Tensor::i64(vec![BATCH, SEQ], ids)),
        (
            "attention_mask".to_string(),
            Tensor::i64(vec![BATCH, SEQ], mask),
        ),
    ];
    if spec.segment {
        let seg: Vec<i64> = (0..n).map(|i| i64::from(i % SEQ >= SEQ / 2)).collect();
        v.push(("token_type_ids".into(), Tensor::i64(vec![BATCH, SEQ], seg)));
    }
    v
}

/// Features `[B, T, D]` of the encoder built with `fusion`, every parameter (LayerNorm scales and
/// biases included) drawn by name so that both graphs see the same values. Also returns the
/// contrib-domain op types of the ONNX graph.
fn features(spec: &EncoderSpec, fusion: Fusion) -> (Vec<f32>, Vec<String>) {
    features_pooled(spec, fusion, None)
}

/// [`features`], pooled (`[B, D]`) when `pooling` is given.
fn features_pooled(
    spec: &EncoderSpec,
    fusion: Fusion,
    pooling: Option<model::Pooling>,
) -> (Vec<f32>, Vec<String>) {
    let tg = model::features_graph_with(spec, BATCH, SEQ, pooling, DType::F32, fusion).unwrap();
    let bytes = to_onnx_bytes(&tg.graph).unwrap();
    let proto = ModelProto::decode(bytes.as_slice()).unwrap();
    let fused_ops = proto
        .graph
        .unwrap()
        .node
        .iter()
        .filter(|n| n.domain == "com.microsoft")
        .map(|n| n.op_type.clone())
        .collect();
    let mut feeds = batch_inputs(spec);
    for p in &tg.params {
        let seed = p
            .name
            .bytes()
            .fold(17u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let mut v = values(p.numel(), seed);
        if p.name.ends_with("norm.weight") {
            v.iter_mut().for_each(|x| *x += 1.0);
        }
        feeds.push((p.name.clone(), Tensor::f32(p.shape.clone(), v)));
    }
    let out = Exec::new(&bytes).run(&feeds);
    let f = out.iter().find(|(n, _)| n == "features").unwrap();
    (f.1.as_f32().unwrap().to_vec(), fused_ops)
}

#[test]
fn fused_encoder_matches_the_unfused_one_for_every_variant() {
    let mut checked = 0;
    for norm in [NormPlacement::Post, NormPlacement::Pre] {
        for position in [
            PositionEmbedding::Learned,
            PositionEmbedding::Sinusoidal,
            PositionEmbedding::None,
        ] {
            for segment in [true, false] {
                for activation in [Activation::Gelu, Activation::Relu] {
                    for causal in [false, true] {
                        let s = spec(norm, position, segment, activation, causal);
                        let what = format!(
                            "{norm:?}-LN, {position:?} positions, segment {segment}, \
                             {activation:?}, causal {causal}"
                        );
                        let (fused, ops) = features(&s, Fusion::Fused);
                        let (plain, none) = features(&s, Fusion::Unfused);
                        assert!(none.is_empty(), "{what}: unfused graph has {none:?}");
                        assert!(ops.iter().any(|o| o == "Attention"), "{what}: {ops:?}");
                        assert!(
                            ops.iter().any(|o| o == "SkipLayerNormalization"),
                            "{what}: {ops:?}"
                        );
                        assert_eq!(
                            ops.iter().any(|o| o == "BiasGelu"),
                            activation == Activation::Gelu,
                            "{what}: {ops:?}"
                        );
                        assert_eq!(fused.len(), plain.len());
                        for (i, (a, b)) in fused.iter().zip(&plain).enumerate() {
                            assert!(
                                (a - b).abs() <= TOL * b.abs().max(1.0),
                                "{what}: features[{i}] fused {a} vs unfused {b}"
                            );
                        }
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 48);
}

#[test]
fn last_token_pooling_reads_each_rows_last_real_token() {
    // Known answer: rows of 8, 5 and 2 real tokens pool to their token features at positions
    // 7, 4 and 1 (a causal encoder, where that token has read the whole row).
    let spec = spec(
        NormPlacement::Post,
        PositionEmbedding::Learned,
        false,
        Activation::Gelu,
        true,
    );
    let (tokens, _) = features(&spec, Fusion::Unfused);
    let (pooled, _) = features_pooled(&spec, Fusion::Unfused, Some(model::Pooling::Last));
    let d = spec.d_model;
    for (row, last) in [SEQ - 1, 4, 1].into_iter().enumerate() {
        let at = (row * SEQ + last) * d;
        assert_eq!(
            &pooled[row * d..(row + 1) * d],
            &tokens[at..at + d],
            "row {row}"
        );
    }
}

#[test]
fn fallbacks_are_named() {
    let s = spec(
        NormPlacement::Post,
        PositionEmbedding::Learned,
        true,
        Activation::Relu,
        false,
    );
    let relu = FusionPlan::new(&s, DType::F32, false, Fusion::Fused);
    assert!(relu.attention && relu.skip_layer_norm && !relu.bias_gelu);
    assert!(relu.describe().contains("relu"), "{}", relu.describe());

    let f64_plan = FusionPlan::new(&s, DType::F64, false, Fusion::Fused);
    assert!(!f64_plan.any());
    assert!(
        f64_plan.describe().contains("float32 only"),
        "{}",
        f64_plan.describe()
    );

    let train = FusionPlan::new(&s, DType::F32, true, Fusion::Fused);
    assert!(!train.any());
    assert!(
        train.describe().contains("no gradient"),
        "{}",
        train.describe()
    );

    let off = FusionPlan::new(&s, DType::F32, false, Fusion::Unfused);
    assert!(!off.any());
    assert!(
        off.describe().contains(model::NO_FUSION_ENV),
        "{}",
        off.describe()
    );
}

#[test]
fn training_and_f64_graphs_stay_unfused() {
    let s = spec(
        NormPlacement::Post,
        PositionEmbedding::Learned,
        true,
        Activation::Gelu,
        false,
    );
    let tg = model::features_graph_with(&s, 2, 4, None, DType::F64, Fusion::Fused).unwrap();
    assert!(
        tg.graph
            .nodes
            .iter()
            .all(|n| !matches!(n.op, embedlab::graph::Op::Fused(_))),
        "an f64 graph must not use the float-only fused kernels"
    );
    let tg = model::task_graph(
        &s,
        model::Head::Task(model::TaskHead::Classify {
            classes: 3,
            pooling: model::Pooling::Mean,
            windows: None,
        }),
        2,
        4,
        &model::Mode::Train {
            frozen_prefixes: vec![],
        },
        DType::F32,
        1,
    )
    .unwrap();
    assert!(
        tg.graph
            .nodes
            .iter()
            .all(|n| !matches!(n.op, embedlab::graph::Op::Fused(_))),
        "a training graph must keep the differentiable encoder"
    );
}
