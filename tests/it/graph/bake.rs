//! `Graph::bake_inputs`: parameters baked into an inference graph as initializers give the same
//! outputs as feeding them, and a value of the wrong shape is an error naming the input.

use embedlab::graph::{DType, Graph, Tensor, to_onnx_bytes};
use embedlab::runtime::{Feeds, Session, SessionOptions};

fn linear() -> Graph {
    let mut g = Graph::new("linear");
    let x = g.input("x", DType::F32, &[2, 3]).unwrap();
    let w = g.input("w", DType::F32, &[3, 2]).unwrap();
    let y = g.matmul(x, w).unwrap();
    g.output("y", y).unwrap();
    g
}

fn run(g: &Graph, feeds: &[(&str, &Tensor)]) -> Vec<f32> {
    let bytes = to_onnx_bytes(g).unwrap();
    let mut s = Session::from_bytes("linear", &bytes, &SessionOptions::default()).unwrap();
    let mut f = Feeds::new();
    for (n, t) in feeds {
        f.tensor(*n, t);
    }
    let out = s.run(&f).unwrap();
    out.f32("y").unwrap().data.to_vec()
}

#[test]
fn baked_parameters_give_the_fed_result() {
    let x = Tensor::f32(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]);
    let w = Tensor::f32(vec![3, 2], vec![0.5, -1., 2., 0.25, -0.5, 1.5]);
    let fed = run(&linear(), &[("x", &x), ("w", &w)]);
    let mut g = linear();
    let n = g
        .bake_inputs(|name| (name == "w").then(|| w.clone()))
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(g.inputs.len(), 1, "only x is left to feed");
    assert_eq!(run(&g, &[("x", &x)]), fed);
}

#[test]
fn a_value_of_the_wrong_shape_is_an_error() {
    let mut g = linear();
    let e = g
        .bake_inputs(|name| (name == "w").then(|| Tensor::f32(vec![2, 3], vec![0.0; 6])))
        .unwrap_err();
    assert!(e.to_string().contains("'w'"), "{e}");
}
