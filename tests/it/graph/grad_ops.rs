//! Every op's vector-Jacobian rule against central finite differences on float64 graphs run in
//! ONNX Runtime. The ops checked are those the IR declares differentiable
//! (`OpKind::differentiable`), so an op with a rule but no case here fails the test.

use super::fd::{F64_FD, grad_check, rand_f64};
use embedlab::graph::{self, DType, Graph, OpKind, Tensor, ValueId};
use std::collections::BTreeSet;

type Build = fn(&mut Graph, &[ValueId]) -> graph::Result<ValueId>;

struct Case {
    op: &'static str,
    inputs: Vec<Tensor>,
    fresh_session: bool,
    build: Build,
}

fn case(op: &'static str, inputs: Vec<Tensor>, build: Build) -> Case {
    Case {
        op,
        inputs,
        fresh_session: false,
        build,
    }
}

fn r(shape: &[usize], seed: u64) -> Tensor {
    rand_f64(shape, seed, -1.5, 1.5)
}

fn cases() -> Vec<Case> {
    let pos = |s: &[usize], seed| rand_f64(s, seed, 0.5, 2.0);
    vec![
        case("Identity", vec![r(&[2, 3], 1)], |g, x| g.identity(x[0])),
        case("Add", vec![r(&[2, 3], 1), r(&[3], 2)], |g, x| {
            g.add(x[0], x[1])
        }),
        case("Sub", vec![r(&[2, 3], 1), r(&[2, 1], 2)], |g, x| {
            g.sub(x[0], x[1])
        }),
        case("Mul", vec![r(&[2, 3], 1), r(&[1, 3], 2)], |g, x| {
            g.mul(x[0], x[1])
        }),
        case("Div", vec![r(&[2, 3], 1), pos(&[2, 3], 2)], |g, x| {
            g.div(x[0], x[1])
        }),
        case("Neg", vec![r(&[2, 3], 1)], |g, x| g.neg(x[0])),
        case("Exp", vec![r(&[2, 3], 1)], |g, x| g.exp(x[0])),
        case("Log", vec![pos(&[2, 3], 1)], |g, x| g.log(x[0])),
        case("Sqrt", vec![pos(&[2, 3], 1)], |g, x| g.sqrt(x[0])),
        case("Tanh", vec![r(&[2, 3], 1)], |g, x| g.tanh(x[0])),
        case(
            "Relu",
            vec![Tensor::f64(
                vec![2, 3],
                vec![-1.0, 0.5, -0.3, 0.8, 1.2, -0.7],
            )],
            |g, x| g.relu(x[0]),
        ),
        case("Erf", vec![rand_f64(&[2, 4], 1, -4.5, 4.5)], |g, x| {
            g.erf(x[0])
        }),
        case("Gelu", vec![rand_f64(&[2, 4], 1, -7.0, 7.0)], |g, x| {
            g.gelu(x[0])
        }),
        case(
            "Where",
            vec![
                Tensor::bool(vec![2, 3], vec![true, false, true, false, false, true]),
                r(&[2, 3], 1),
                r(&[3], 2),
            ],
            |g, x| g.where_(x[0], x[1], x[2]),
        ),
        case("Cast", vec![r(&[2, 3], 1)], |g, x| g.cast(x[0], DType::F64)),
        Case {
            op: "Dropout",
            inputs: vec![r(&[3, 4], 1)],
            fresh_session: true,
            build: |g, x| Ok(g.dropout(x[0], 0.3, 7)?.0),
        },
        case("Reshape", vec![r(&[2, 3], 1)], |g, x| {
            g.reshape(x[0], &[3, 2])
        }),
        case("Transpose", vec![r(&[2, 3, 4], 1)], |g, x| {
            g.transpose(x[0], &[2, 0, 1])
        }),
        case("Expand", vec![r(&[3, 1], 1)], |g, x| {
            g.expand(x[0], &[2, 3, 4])
        }),
        case("Concat", vec![r(&[2, 3], 1), r(&[2, 2], 2)], |g, x| {
            g.concat(&[x[0], x[1]], 1)
        }),
        case("Split", vec![r(&[2, 5], 1)], |g, x| {
            Ok(g.split(x[0], 1, &[2, 3])?[1])
        }),
        case("Slice", vec![r(&[3, 4], 1)], |g, x| g.slice(x[0], 1, 1, 3)),
        case("Pad", vec![r(&[2, 3], 1)], |g, x| g.pad(x[0], 0, 1, 2)),
        case(
            "Gather",
            vec![
                r(&[5, 3], 1),
                Tensor::i64(vec![2, 3], vec![0, 2, 2, 4, 0, 1]),
            ],
            |g, x| g.gather(x[0], x[1], 0),
        ),
        case("MatMul", vec![r(&[2, 3, 4], 1), r(&[4, 2], 2)], |g, x| {
            g.matmul(x[0], x[1])
        }),
        case(
            "MatMul",
            vec![r(&[2, 3, 4], 1), r(&[2, 4, 5], 2)],
            |g, x| g.matmul(x[0], x[1]),
        ),
        case("MatMul", vec![r(&[3, 4], 1), r(&[2, 4, 2], 2)], |g, x| {
            g.matmul(x[0], x[1])
        }),
        case("ReduceSum", vec![r(&[2, 3, 4], 1)], |g, x| {
            g.reduce_sum(x[0], &[1], false)
        }),
        case("ReduceMean", vec![r(&[2, 3, 4], 1)], |g, x| {
            g.reduce_mean(x[0], &[-1, 0], true)
        }),
        case("ReduceMax", vec![r(&[2, 3, 4], 1)], |g, x| {
            g.reduce_max(x[0], &[1], false)
        }),
        case("ReduceMax", vec![r(&[2, 3, 4], 2)], |g, x| {
            g.reduce_max(x[0], &[-1, 0], true)
        }),
        case("Softmax", vec![r(&[2, 5], 1)], |g, x| g.softmax(x[0], -1)),
        case("LogSoftmax", vec![r(&[3, 4], 1)], |g, x| {
            g.log_softmax(x[0], 1)
        }),
        case(
            "LayerNorm",
            vec![r(&[2, 3, 5], 1), r(&[5], 2), r(&[5], 3)],
            |g, x| g.layer_norm(x[0], x[1], x[2], 1e-5),
        ),
        case(
            "SoftmaxCrossEntropy",
            vec![r(&[4, 5], 1), Tensor::i64(vec![4], vec![3, -100, 0, 4])],
            |g, x| g.softmax_cross_entropy(x[0], x[1], -100),
        ),
    ]
}

/// The names of the ops with a vector-Jacobian rule, derived from the op set.
fn differentiable_ops() -> Vec<&'static str> {
    OpKind::all()
        .filter(|k| k.differentiable())
        .map(OpKind::name)
        .collect()
}

#[test]
fn every_case_names_a_differentiable_op() {
    let ops: BTreeSet<&str> = differentiable_ops().into_iter().collect();
    let stray: BTreeSet<&str> = cases()
        .iter()
        .map(|c| c.op)
        .filter(|op| !ops.contains(op))
        .collect();
    assert!(
        stray.is_empty(),
        "cases for ops that are not differentiable (or misspelt): {stray:?}"
    );
}

/// Runs the cases of every differentiable op; an op without a case is a failure.
#[test]
fn backward_rules_match_finite_differences() {
    let cases = cases();
    let ops = differentiable_ops();
    let mut failures = Vec::new();
    let mut checked = 0;
    for &op in &ops {
        let mine: Vec<&Case> = cases.iter().filter(|c| c.op == op).collect();
        if mine.is_empty() {
            failures.push(format!(
                "{op}: has a backward rule but no finite-difference case"
            ));
        }
        for c in mine {
            checked += 1;
            if let Err(e) = grad_check(c.op, &c.inputs, c.fresh_session, F64_FD, c.build) {
                failures.push(e);
            }
        }
    }
    println!(
        "differentiable ops ({}): {ops:?}; {checked} finite-difference cases",
        ops.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn op_without_rule_is_a_typed_error() {
    let mut g = Graph::new("t");
    let d = g.input("d", DType::F64, &[3, 2]).unwrap();
    let i = g.input("i", DType::I64, &[3, 2]).unwrap();
    let u = g.input("u", DType::F64, &[3, 2]).unwrap();
    let s = g.scatter_add(d, i, u, 0).unwrap();
    let l = g.sum_all(s).unwrap();
    let err = graph::backward(&mut g, l, &[u]).unwrap_err();
    assert!(
        matches!(
            err,
            graph::GraphError::NoGradient {
                op: "ScatterAdd",
                ..
            }
        ),
        "{err}"
    );
}
