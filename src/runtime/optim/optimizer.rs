//! [`Optimizer`]: the one update entry point over a whole parameter store, for every optimizer,
//! and the settings of one step besides the hyperparameters ([`StepOptions`]).

use super::adamw::{self, AdamW};
use super::sgd::{self, Sgd};
use crate::runtime::error::{Result, RuntimeError};
use crate::runtime::params::{OptState, ParamStore};

/// Threads an update uses unless [`StepOptions::threads`] says otherwise.
pub const DEFAULT_THREADS: usize = 2;

/// Below this many values a single thread is faster than spawning.
pub const PARALLEL_MIN_LEN: usize = 1 << 16;

/// An optimizer with its hyperparameters for one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    AdamW(AdamW),
    Sgd(Sgd),
}

impl From<AdamW> for Optimizer {
    fn from(hp: AdamW) -> Optimizer {
        Optimizer::AdamW(hp)
    }
}

impl From<Sgd> for Optimizer {
    fn from(hp: Sgd) -> Optimizer {
        Optimizer::Sgd(hp)
    }
}

/// The settings of one step besides the hyperparameters.
#[derive(Debug, Clone, Copy)]
pub struct StepOptions {
    /// Multiplies every gradient first: 1.0, or the clipping factor of [`super::clip_factor`].
    pub grad_scale: f32,
    /// Whether a parameter (by name) gets weight decay; the others are updated without (AdamW
    /// usually spares LayerNorm parameters and biases).
    pub decays: fn(&str) -> bool,
    /// Threads for the update (one while the buffers are below [`PARALLEL_MIN_LEN`] values).
    pub threads: usize,
}

impl Default for StepOptions {
    /// No scaling, weight decay on every parameter, [`DEFAULT_THREADS`] threads.
    fn default() -> Self {
        StepOptions {
            grad_scale: 1.0,
            decays: |_| true,
            threads: DEFAULT_THREADS,
        }
    }
}

impl Optimizer {
    /// Fresh state (zeroed slots, step 0) laid out like `params`: AdamW's `m` and `v`, SGD's
    /// `momentum`.
    pub fn state(&self, params: &ParamStore) -> OptState {
        match self {
            Optimizer::AdamW(_) => OptState::adamw(params),
            Optimizer::Sgd(_) => OptState::sgd_momentum(params),
        }
    }

    /// One step over a whole store: advances `state.step` and updates every parameter that `grad`
    /// returns a gradient for (frozen parameters return `None`). `state` must hold this
    /// optimizer's slots laid out like `params` (see [`Optimizer::state`]). Everything is checked
    /// before anything is updated: on an error (a missing slot, or a gradient of the wrong length,
    /// which names its parameter) nothing changed.
    pub fn update<'g>(
        &self,
        params: &mut ParamStore,
        state: &mut OptState,
        opts: &StepOptions,
        grad: impl FnMut(&str) -> Option<&'g [f32]>,
    ) -> Result<()> {
        match self {
            Optimizer::AdamW(hp) => adamw::update(hp, params, state, opts, grad),
            Optimizer::Sgd(hp) => sgd::update(hp, params, state, opts, grad),
        }
    }
}

/// `g` as the gradient of parameter `name` of `len` values, or an error naming the parameter.
pub(super) fn checked_grad<'g>(name: &str, len: usize, g: &'g [f32]) -> Result<&'g [f32]> {
    if g.len() != len {
        return Err(RuntimeError::param(
            name,
            format!("gradient has {} values, the parameter {len}", g.len()),
        ));
    }
    Ok(g)
}
