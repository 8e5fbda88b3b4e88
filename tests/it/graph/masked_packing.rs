//! `pack = "masked"` keeps documents apart: a token's output does not change when the other
//! documents in its row are replaced (by documents of other lengths, so the token also moves in
//! the row), because attention is block-diagonal by document and position ids restart at each
//! document's `[CLS]`. Without the mask and the restarting positions the same rows do change it.
//! Rows are built by the data path the pretraining stage uses (`pack_masked`, the `Batcher`,
//! `masked_inputs`); the encoder is a float64 features graph run in ONNX Runtime.

use super::exec::Exec;
use embedlab::data::{self, BatchConfig, Batcher};
use embedlab::graph::{self, DType, Tensor};
use embedlab::model::{self, EncoderSpec, Input};

const T: usize = 16;

/// The token features `[T, D]` of one row holding `docs`, and where the row's pieces start.
fn features(spec: &EncoderSpec, docs: &[Vec<u32>]) -> (Vec<f64>, Vec<usize>) {
    let docs: Vec<Vec<Vec<u32>>> = docs.iter().map(|d| vec![d.clone()]).collect();
    let rows =
        data::packing::pack_masked(&docs, T, data::tokenizer::SEP_ID, data::tokenizer::CLS_ID)
            .unwrap();
    assert_eq!(rows.items.len(), 1, "the documents fill one row");
    let batch = Batcher::new(&rows.items, BatchConfig::new(1, T))
        .unwrap()
        .epoch(0)
        .next()
        .unwrap();
    let masked = data::masked_inputs(&batch, &rows.starts);
    let tg = model::features_graph(spec, 1, T, None, DType::F64).unwrap();
    let mut feeds = vec![
        (
            "input_ids".to_string(),
            Tensor::i64(vec![1, T], batch.input_ids),
        ),
        (
            Input::AttentionMask.name().to_string(),
            Tensor::i64(vec![1, T], batch.attention_mask),
        ),
    ];
    if spec.masked_packing {
        feeds.push((
            Input::PositionIds.name().into(),
            Tensor::i64(vec![1, T], masked.position_ids),
        ));
        feeds.push((
            Input::DocumentMask.name().into(),
            Tensor::i64(vec![1, T, T], masked.document_mask),
        ));
    }
    for p in &tg.params {
        // Larger-than-default weights, so that attention mixes visibly.
        let v: Vec<f64> = p
            .init_values(7)
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
        feeds.push((p.name.clone(), Tensor::f64(p.shape.clone(), v)));
    }
    let out = Exec::new(&graph::to_onnx_bytes(&tg.graph).unwrap()).run(&feeds);
    let f = out.into_iter().find(|(n, _)| n == "features").unwrap().1;
    (f.as_f64().unwrap().to_vec(), rows.starts[0].clone())
}

/// The largest difference between the features of the middle document's piece
/// (`[CLS] 13 14 15 16 [SEP]`) in two rows.
fn middle_difference(spec: &EncoderSpec) -> f64 {
    let d = spec.d_model;
    let middle = vec![13, 14, 15, 16];
    let (a, sa) = features(spec, &[vec![10, 11, 12], middle.clone(), vec![17]]);
    let (b, sb) = features(spec, &[vec![20, 21], middle.clone(), vec![22, 23, 24]]);
    assert_ne!(
        sa[1], sb[1],
        "the middle document sits at another place in the row"
    );
    let piece = middle.len() + 2;
    (0..piece * d)
        .map(|k| (a[sa[1] * d + k] - b[sb[1] * d + k]).abs())
        .fold(0.0, f64::max)
}

fn spec(masked_packing: bool, causal: bool) -> EncoderSpec {
    let mut spec = EncoderSpec::tiny(30);
    spec.d_model = 8;
    spec.ffn = 12;
    spec.max_len = T;
    spec.dropout = 0.0;
    spec.segment = false;
    spec.causal = causal;
    spec.masked_packing = masked_packing;
    spec
}

#[test]
fn a_token_does_not_see_the_other_documents_of_its_row() {
    for causal in [false, true] {
        let masked = middle_difference(&spec(true, causal));
        assert!(
            masked < 1e-9,
            "causal {causal}: masked rows differ by {masked}"
        );
        // The control: the same rows without the mask and the restarting positions.
        let open = middle_difference(&spec(false, causal));
        assert!(
            open > 1e-3,
            "causal {causal}: unmasked rows differ by only {open}"
        );
        println!("causal {causal}: largest change masked {masked:.1e}, unmasked {open:.3}");
    }
}
