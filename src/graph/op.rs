//! The op set: [`Op`], one variant per op family (`graph::ops`), and [`OpKind`], the same without
//! attributes. Lists over the ops are derived from the families' declarations (`op_family!`), and
//! every function over them is an exhaustive match, so a new op does not compile until its ONNX
//! emission and its vector-Jacobian rule (or an explicit "no gradient") are written.

use super::error::Result;
use super::export::Emitter;
use super::ir::{Graph, Node, ValueId};
use super::ops::{
    ElementwiseKind, ElementwiseOp, FusedKind, FusedOp, LinalgKind, LinalgOp, NnKind, NnOp,
    ShapeKind, ShapeOp, SourceKind, SourceOp,
};

/// Declares [`Op`] and [`OpKind`] over the families, `Op::kind`, `OpKind::all`, `OpKind::name`
/// and `From<family op> for Op`.
macro_rules! op_set {
    ($($family:ident($op:ident, $kind:ident)),* $(,)?) => {
        /// An operation of the IR, by family. Axes are resolved to non-negative indices when the
        /// node is built; each op's contract (shapes, dtypes, semantics) is documented on its
        /// builder method.
        #[derive(Debug, Clone)]
        pub enum Op {
            $($family($op),)*
        }

        /// An op without its attributes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum OpKind {
            $($family($kind),)*
        }

        impl Op {
            pub fn kind(&self) -> OpKind {
                match self {
                    $(Op::$family(op) => OpKind::$family(op.kind()),)*
                }
            }
        }

        impl OpKind {
            /// Every op of the IR, family by family.
            pub fn all() -> impl Iterator<Item = OpKind> {
                std::iter::empty()
                    $(.chain($kind::ALL.iter().map(|&k| OpKind::$family(k))))*
            }

            /// The op's name as it appears in errors and node names.
            pub fn name(self) -> &'static str {
                match self {
                    $(OpKind::$family(k) => k.name(),)*
                }
            }
        }

        $(
            impl From<$op> for Op {
                fn from(op: $op) -> Op {
                    Op::$family(op)
                }
            }
        )*
    };
}

op_set! {
    Source(SourceOp, SourceKind),
    Elementwise(ElementwiseOp, ElementwiseKind),
    Shape(ShapeOp, ShapeKind),
    Linalg(LinalgOp, LinalgKind),
    Nn(NnOp, NnKind),
    Fused(FusedOp, FusedKind),
}

impl OpKind {
    /// Whether the op has a vector-Jacobian rule (which may still refuse some attributes or
    /// dtypes, e.g. a Cast from an integer type, with a typed error). Every differentiable op is
    /// checked against finite differences (tests/grad_ops.rs).
    pub fn differentiable(self) -> bool {
        match self {
            OpKind::Source(k) => k.differentiable(),
            OpKind::Elementwise(k) => k.differentiable(),
            OpKind::Shape(k) => k.differentiable(),
            OpKind::Linalg(k) => k.differentiable(),
            OpKind::Nn(k) => k.differentiable(),
            OpKind::Fused(k) => k.differentiable(),
        }
    }
}

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Op {
    /// Emits the ONNX nodes (or initializer) of `node`, whose op this is.
    pub(crate) fn emit(&self, e: &mut Emitter, node: &Node) {
        match self {
            Op::Source(op) => op.emit(e, node),
            Op::Elementwise(op) => op.emit(e, node),
            Op::Shape(op) => op.emit(e, node),
            Op::Linalg(op) => op.emit(e, node),
            Op::Nn(op) => op.emit(e, node),
            Op::Fused(op) => op.emit(e, node),
        }
    }

    /// The vector-Jacobian products of `node`, whose op this is. `gout` holds the gradient of
    /// each output (None: no gradient flows); `needs[i]` tells whether input i wants a gradient.
    /// Returns one entry per input.
    pub(crate) fn vjp(
        &self,
        g: &mut Graph,
        node: &Node,
        gout: &[Option<ValueId>],
        needs: &[bool],
    ) -> Result<Vec<Option<ValueId>>> {
        match self {
            Op::Source(op) => op.vjp(g, node, gout, needs),
            Op::Elementwise(op) => op.vjp(g, node, gout, needs),
            Op::Shape(op) => op.vjp(g, node, gout, needs),
            Op::Linalg(op) => op.vjp(g, node, gout, needs),
            Op::Nn(op) => op.vjp(g, node, gout, needs),
            Op::Fused(op) => op.vjp(g, node, gout, needs),
        }
    }
}
