//! The cross-entropy's backward rule (softmax · w with each label entry rewritten, no one-hot)
//! gives, bit for bit in f32, the gradient of the one-hot formula (softmax − onehot) · w it
//! replaced: training results do not move.
use super::exec::Exec;
use embedlab::graph::{self, DType, Graph, Tensor};

#[test]
fn cross_entropy_gradient_equals_the_one_hot_formula_bit_for_bit() {
    let (n, c) = (37, 211);
    let mut g = Graph::new("xent");
    let x = g.input("scores", DType::F32, &[n, c]).unwrap();
    let labels = g.input("labels", DType::I64, &[n]).unwrap();
    let loss = g.softmax_cross_entropy(x, labels, -100).unwrap();
    let d = graph::backward(&mut g, loss, &[x]).unwrap()[0].unwrap();
    // The one-hot formula on the same log-probabilities (the loss node's second output).
    let logp = g.xent_log_probs(loss);
    let p = g.exp(logp).unwrap();
    let l2 = g.reshape(labels, &[n, 1]).unwrap();
    let range = g.constant(Tensor::i64(vec![1, c], (0..c as i64).collect()));
    let hot = g.equal(l2, range).unwrap();
    let hot = g.cast(hot, DType::F32).unwrap();
    let diff = g.sub(p, hot).unwrap();
    let ig = g.scalar(DType::I64, -100.0);
    let is_ig = g.equal(labels, ig).unwrap();
    let zero = g.scalar(DType::F32, 0.0);
    let one = g.scalar(DType::F32, 1.0);
    let valid = g.where_(is_ig, zero, one).unwrap();
    let count = g.sum_all(valid).unwrap();
    let w = g.div(valid, count).unwrap();
    let w = g.reshape(w, &[n, 1]).unwrap();
    let reference = g.mul(diff, w).unwrap();
    g.output("grad", d).unwrap();
    g.output("reference", reference).unwrap();
    let mut ex = Exec::new(&graph::to_onnx_bytes(&g).unwrap());
    let scores: Vec<f32> = (0..n * c)
        .map(|i| ((i * 7919 % 1009) as f32 / 1009.0 - 0.5) * 12.0)
        .collect();
    let labs: Vec<i64> = (0..n as i64)
        .map(|i| {
            if i % 5 == 3 {
                -100
            } else {
                (i * 31) % c as i64
            }
        })
        .collect();
    let out = ex.run(&[
        ("scores".into(), Tensor::f32(vec![n, c], scores)),
        ("labels".into(), Tensor::i64(vec![n], labs)),
    ]);
    let get = |name: &str| {
        out.iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, t)| t.as_f32())
            .unwrap()
            .to_vec()
    };
    let (a, b) = (get("grad"), get("reference"));
    let differ = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.to_bits() != y.to_bits())
        .count();
    assert_eq!(
        differ,
        0,
        "{differ} of {} entries differ in their bits",
        a.len()
    );
}
