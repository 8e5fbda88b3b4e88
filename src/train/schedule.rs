//! Optimizer settings and the host-side learning-rate schedule (warmup, then linear, cosine or
//! constant), evaluated once per step and passed to the fused update.

use super::lr_scales::LrScales;
use crate::runtime::{AdamW, Optimizer, Sgd};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizerKind {
    AdamW,
    Sgd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Constant,
    Linear,
    Cosine,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OptimSpec {
    pub kind: OptimizerKind,
    pub lr: f64,
    pub warmup: u64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Global-norm gradient clipping; 0 turns it off.
    pub clip_norm: f64,
    pub schedule: Schedule,
    /// Total steps (the end of the decay).
    pub total_steps: u64,
    /// Per-parameter multipliers of the rate (uniform unless a stage sets `encoder_lr` or
    /// `layer_decay`).
    pub scales: LrScales,
}

impl OptimSpec {
    pub fn adamw(lr: f64, total_steps: u64) -> OptimSpec {
        OptimSpec {
            kind: OptimizerKind::AdamW,
            lr,
            warmup: 0,
            weight_decay: 0.01,
            momentum: 0.9,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            clip_norm: 1.0,
            schedule: Schedule::Linear,
            total_steps,
            scales: LrScales::UNIFORM,
        }
    }

    /// The runtime optimizer with these settings at learning rate `lr` (hyperparameters in f32).
    pub fn optimizer(&self, lr: f64) -> Optimizer {
        match self.kind {
            OptimizerKind::AdamW => Optimizer::AdamW(AdamW {
                lr: lr as f32,
                beta1: self.beta1 as f32,
                beta2: self.beta2 as f32,
                eps: self.eps as f32,
                weight_decay: self.weight_decay as f32,
            }),
            OptimizerKind::Sgd => Optimizer::Sgd(Sgd {
                lr: lr as f32,
                momentum: self.momentum as f32,
                weight_decay: self.weight_decay as f32,
                nesterov: false,
            }),
        }
    }

    /// The learning rate of step `step` (counting from 1).
    pub fn lr_at(&self, step: u64) -> f64 {
        if self.warmup > 0 && step <= self.warmup {
            return self.lr * step as f64 / self.warmup as f64;
        }
        let span = self.total_steps.saturating_sub(self.warmup).max(1) as f64;
        let done = (step.saturating_sub(self.warmup) as f64 / span).min(1.0);
        match self.schedule {
            Schedule::Constant => self.lr,
            Schedule::Linear => self.lr * (1.0 - done),
            Schedule::Cosine => self.lr * 0.5 * (1.0 + (std::f64::consts::PI * done).cos()),
        }
    }
}

/// Weight decay applies to weight matrices and embeddings, not to LayerNorm parameters or biases.
pub fn decays(name: &str) -> bool {
    !(name.ends_with(".bias") || name.contains("norm."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_linear_decay() {
        let mut s = OptimSpec::adamw(1.0, 110);
        s.warmup = 10;
        assert_eq!(s.lr_at(5), 0.5);
        assert_eq!(s.lr_at(10), 1.0);
        assert!((s.lr_at(60) - 0.5).abs() < 1e-12);
        assert_eq!(s.lr_at(110), 0.0);
        s.schedule = Schedule::Cosine;
        assert!((s.lr_at(60) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn no_decay_on_norms_and_biases() {
        assert!(decays("encoder.layer0.attn.qkv.weight"));
        assert!(decays("embeddings.word"));
        assert!(!decays("encoder.layer0.attn.qkv.bias"));
        assert!(!decays("embeddings.norm.weight"));
    }
}
