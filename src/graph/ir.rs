//! The IR: a graph of nodes in topological order (the builder only appends, so creation order is a
//! topological order), values with static shapes and dtypes, and hierarchical node names.

use super::DType;
use super::error::{GraphError, Result};
use super::op::Op;
use std::collections::HashMap;

/// A value produced by a node (one of its outputs). Cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub(crate) usize);

/// What the graph knows about a value.
#[derive(Debug, Clone)]
pub struct ValueInfo {
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// Index of the producing node in `Graph::nodes`.
    pub node: usize,
}

#[derive(Debug, Clone)]
pub struct Node {
    /// Hierarchical, unique name (`encoder.layer1.attn.q`), carried into the ONNX node name.
    pub name: String,
    pub op: Op,
    pub inputs: Vec<ValueId>,
    pub outputs: Vec<ValueId>,
}

/// A graph under construction. Builder methods (one per op, in `graph::ops`) append nodes and
/// return the new values; shape and dtype rules are checked as nodes are added.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub name: String,
    pub nodes: Vec<Node>,
    pub values: Vec<ValueInfo>,
    pub inputs: Vec<ValueId>,
    pub outputs: Vec<(String, ValueId)>,
    scope: Vec<String>,
    name_counts: HashMap<String, usize>,
}

impl Graph {
    pub fn new(name: impl Into<String>) -> Graph {
        Graph {
            name: name.into(),
            ..Default::default()
        }
    }

    pub fn info(&self, v: ValueId) -> &ValueInfo {
        &self.values[v.0]
    }
    pub fn shape(&self, v: ValueId) -> &[usize] {
        &self.values[v.0].shape
    }
    pub fn dtype(&self, v: ValueId) -> DType {
        self.values[v.0].dtype
    }
    /// The node that produced `v`.
    pub fn producer(&self, v: ValueId) -> &Node {
        &self.nodes[self.values[v.0].node]
    }

    /// Runs `f` with `name` pushed onto the naming scope: nodes built inside are named
    /// `outer.name.op`. Scopes become the ONNX names, so ONNX Runtime errors point at our code.
    pub fn scoped<T>(&mut self, name: &str, f: impl FnOnce(&mut Graph) -> T) -> T {
        self.scope.push(name.to_string());
        let out = f(self);
        self.scope.pop();
        out
    }

    /// Enters a naming scope; pair with [`Graph::pop_scope`]. Prefer [`Graph::scoped`].
    pub fn push_scope(&mut self, name: &str) {
        self.scope.push(name.to_string());
    }
    pub fn pop_scope(&mut self) {
        self.scope.pop();
    }

    /// The current scope joined with dots (empty at top level).
    pub fn scope_path(&self) -> String {
        self.scope.join(".")
    }

    /// A unique node name in the current scope.
    pub(crate) fn fresh_name(&mut self, base: &str) -> String {
        let full = if self.scope.is_empty() {
            base.to_string()
        } else {
            format!("{}.{}", self.scope.join("."), base)
        };
        let n = self.name_counts.entry(full.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            full
        } else {
            format!("{full}_{}", *n - 1)
        }
    }

    /// Appends a node with the given output (dtype, shape) pairs; returns its outputs.
    pub(crate) fn push(
        &mut self,
        base: &str,
        op: impl Into<Op>,
        inputs: Vec<ValueId>,
        outs: Vec<(DType, Vec<usize>)>,
    ) -> Vec<ValueId> {
        let name = self.fresh_name(base);
        let node = self.nodes.len();
        let outputs: Vec<ValueId> = outs
            .into_iter()
            .map(|(dtype, shape)| {
                self.values.push(ValueInfo { dtype, shape, node });
                ValueId(self.values.len() - 1)
            })
            .collect();
        self.nodes.push(Node {
            name,
            op: op.into(),
            inputs,
            outputs: outputs.clone(),
        });
        outputs
    }

    /// Appends a node without inputs under exactly `name`, which is global (not scoped) and must
    /// be unique: a graph input or a named constant. Returns its single output.
    pub(crate) fn push_global(
        &mut self,
        name: &str,
        op: impl Into<Op>,
        dtype: DType,
        shape: Vec<usize>,
    ) -> Result<ValueId> {
        if self.name_counts.contains_key(name) {
            return Err(GraphError::DuplicateName(name.to_string()));
        }
        self.name_counts.insert(name.to_string(), 1);
        let node = self.nodes.len();
        self.values.push(ValueInfo { dtype, shape, node });
        let v = ValueId(self.values.len() - 1);
        self.nodes.push(Node {
            name: name.to_string(),
            op: op.into(),
            inputs: vec![],
            outputs: vec![v],
        });
        Ok(v)
    }

    pub(crate) fn push1(
        &mut self,
        base: &str,
        op: impl Into<Op>,
        inputs: Vec<ValueId>,
        dtype: DType,
        shape: Vec<usize>,
    ) -> ValueId {
        self.push(base, op, inputs, vec![(dtype, shape)])[0]
    }

    /// Name of the node currently being built for error messages (scope + op).
    pub(crate) fn here(&self, op: &str) -> String {
        if self.scope.is_empty() {
            op.to_string()
        } else {
            format!("{}.{}", self.scope.join("."), op)
        }
    }

    /// Declares `v` a graph output under `name`.
    pub fn output(&mut self, name: &str, v: ValueId) -> Result<()> {
        if self.outputs.iter().any(|(n, _)| n == name)
            || self.inputs.iter().any(|&i| self.producer(i).name == name)
        {
            return Err(GraphError::DuplicateName(name.to_string()));
        }
        self.outputs.push((name.to_string(), v));
        Ok(())
    }

    /// Resolves a possibly negative axis against `rank`.
    pub(crate) fn axis(&self, op: &'static str, axis: i64, rank: usize) -> Result<usize> {
        let a = if axis < 0 { axis + rank as i64 } else { axis };
        if a < 0 || a >= rank as i64 {
            return Err(GraphError::Shape {
                op,
                node: self.here(op),
                message: format!("axis {axis} out of range for rank {rank}"),
            });
        }
        Ok(a as usize)
    }

    /// Number of elements of `v`.
    pub fn numel(&self, v: ValueId) -> usize {
        self.shape(v).iter().product()
    }
}
