//! Parameter declarations made while a graph is built, and their seeded host initialisation.
//!
//! Every parameter is a graph input named by its hierarchical path (`encoder.layer0.attn.qkv.weight`),
//! which is also its key in the parameter store and in checkpoints. Initial values depend only on
//! (seed, name), not on declaration order, so a model with more layers or another head draws the
//! same values for the parameters it shares with a smaller one.

use super::fusion::Fusion;
use crate::graph::{self, DType, Graph, ValueId};
use rand::SeedableRng;
use rand_distr_free::normal;
use sha2::{Digest, Sha256};

/// How a parameter starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// Truncated-free normal with this standard deviation (BERT uses 0.02).
    Normal(f64),
    Zeros,
    Ones,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParamDecl {
    pub name: String,
    pub shape: Vec<usize>,
    pub init: Init,
}

impl ParamDecl {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The initial values for `seed`, as f32.
    pub fn init_values(&self, seed: u64) -> Vec<f32> {
        let n = self.numel();
        match self.init {
            Init::Zeros => vec![0.0; n],
            Init::Ones => vec![1.0; n],
            Init::Normal(std) => {
                let mut h = Sha256::new();
                h.update(seed.to_le_bytes());
                h.update(self.name.as_bytes());
                let d = h.finalize();
                let mut rng = rand_chacha::ChaCha8Rng::from_seed(d.into());
                (0..n).map(|_| (normal(&mut rng) * std) as f32).collect()
            }
        }
    }
}

/// Builds model graphs: owns the parameter declarations and the dropout switch.
pub struct ModelBuilder<'g> {
    pub g: &'g mut Graph,
    pub dtype: DType,
    pub params: Vec<ParamDecl>,
    /// Dropout is active only in training graphs.
    pub train: bool,
    /// Base seed for dropout nodes; each node gets its own.
    pub dropout_seed: i64,
    /// Whether forward-only graphs may use the fused kernels (`model::fusion`); from
    /// `EMBEDLAB_NO_FUSION` unless set.
    pub fusion: Fusion,
    dropout_count: i64,
}

impl<'g> ModelBuilder<'g> {
    pub fn new(g: &'g mut Graph, dtype: DType, train: bool, dropout_seed: i64) -> Self {
        ModelBuilder {
            g,
            dtype,
            params: Vec::new(),
            train,
            dropout_seed,
            fusion: Fusion::from_env(),
            dropout_count: 0,
        }
    }

    /// Declares a parameter `<scope>.<local>` and returns its graph input.
    pub fn param(&mut self, local: &str, shape: &[usize], init: Init) -> graph::Result<ValueId> {
        let scope = self.g.scope_path();
        let name = if scope.is_empty() {
            local.to_string()
        } else {
            format!("{scope}.{local}")
        };
        let v = self.g.input(&name, self.dtype, shape)?;
        self.params.push(ParamDecl {
            name,
            shape: shape.to_vec(),
            init,
        });
        Ok(v)
    }

    /// Runs `f` inside the naming scope `name`.
    pub fn scoped<T>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        self.g.push_scope(name);
        let out = f(self);
        self.g.pop_scope();
        out
    }

    /// `x @ W + b` over the last axis of `x` (any rank), with `W: [in, out]` and `b: [out]` named
    /// `<name>.weight` / `<name>.bias`.
    pub fn dense(&mut self, name: &str, x: ValueId, out: usize) -> graph::Result<ValueId> {
        let s = self.g.shape(x).to_vec();
        let inp = *s.last().unwrap();
        self.scoped(name, |m| {
            let w = m.param("weight", &[inp, out], Init::Normal(0.02))?;
            let b = m.param("bias", &[out], Init::Zeros)?;
            m.linear(x, w, b)
        })
    }

    /// `x @ w + b` over the last axis of `x` with given weight [in, out] and bias [out].
    pub fn linear(&mut self, x: ValueId, w: ValueId, b: ValueId) -> graph::Result<ValueId> {
        let s = self.g.shape(x).to_vec();
        let inp = *s.last().unwrap();
        let out = self.g.shape(w)[1];
        let rows: usize = s[..s.len() - 1].iter().product();
        let x2 = if s.len() == 2 {
            x
        } else {
            self.g.reshape(x, &[rows, inp])?
        };
        let y = self.g.matmul(x2, w)?;
        let y = self.g.add(y, b)?;
        if s.len() == 2 {
            Ok(y)
        } else {
            let mut o = s[..s.len() - 1].to_vec();
            o.push(out);
            self.g.reshape(y, &o)
        }
    }

    /// LayerNorm with parameters `<name>.weight` (ones) and `<name>.bias` (zeros).
    pub fn layer_norm(&mut self, name: &str, x: ValueId, eps: f64) -> graph::Result<ValueId> {
        let d = *self.g.shape(x).last().unwrap();
        self.scoped(name, |m| {
            let w = m.param("weight", &[d], Init::Ones)?;
            let b = m.param("bias", &[d], Init::Zeros)?;
            m.g.layer_norm(x, w, b, eps)
        })
    }

    /// Dropout in training graphs; the identity otherwise or when `p == 0`.
    pub fn dropout(&mut self, x: ValueId, p: f64) -> graph::Result<ValueId> {
        if !self.train || p <= 0.0 {
            return Ok(x);
        }
        self.dropout_count += 1;
        let seed = self
            .dropout_seed
            .wrapping_mul(1_000_003)
            .wrapping_add(self.dropout_count);
        Ok(self.g.dropout(x, p, seed)?.0)
    }
}

/// A standard normal sample by Box-Muller (keeps us off an extra distribution crate).
mod rand_distr_free {
    use rand::Rng;
    pub fn normal(rng: &mut impl Rng) -> f64 {
        let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
        let u2: f64 = rng.random();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}
