//! The training loop's step: run the `train_step` graph (loss and gradients from ONNX Runtime),
//! clip by global norm, and apply the fused host optimizer update to the parameter store.
//! Parameters are fed as borrowed views: no host copies per step.

use super::inputs::StepInputs;
use super::schedule::{OptimSpec, decays};
use crate::graph::{DType, Tensor};
use crate::model::{ParamDecl, TaskGraph};
use crate::runtime::{self, Feeds, OptState, ParamStore, Session, SessionOptions, StepOptions};
use anyhow::{Context, Result, bail};

/// Builds a store with every declared parameter at its seeded initial value.
pub fn init_params(decls: &[ParamDecl], seed: u64) -> Result<ParamStore> {
    let mut s = ParamStore::new();
    for d in decls {
        s.insert(d.name.clone(), &d.shape, &d.init_values(seed))?;
    }
    Ok(s)
}

/// Creates a session for a task graph, naming it for errors.
pub fn session(tg: &TaskGraph, opts: &SessionOptions) -> Result<Session> {
    let bytes = crate::graph::to_onnx_bytes(&tg.graph)
        .with_context(|| format!("exporting graph '{}'", tg.graph.name))?;
    Ok(Session::from_bytes(tg.graph.name.clone(), &bytes, opts)?)
}

#[derive(Debug, Clone, Copy)]
pub struct StepStats {
    pub loss: f64,
    pub grad_norm: f64,
    pub lr: f64,
}

pub struct Trainer {
    pub params: ParamStore,
    pub opt: OptState,
    pub spec: OptimSpec,
    /// (name, output name of its gradient) of each trainable parameter.
    trainable: Vec<(String, String)>,
    /// The trainable parameters grouped by their learning-rate multiplier (one group of every
    /// parameter at 1 unless `spec.scales` says otherwise), in first-seen order.
    groups: Vec<(f64, std::collections::HashSet<String>)>,
    train: Session,
    eval: Option<Session>,
    threads: usize,
    /// Seconds of the last step spent outside ONNX Runtime (feeding, clipping, the update).
    pub last_host_seconds: f64,
}

impl Trainer {
    /// `train` must be a training graph over the parameters in `params`; `eval` (optional) an
    /// evaluation graph over the same parameters.
    pub fn new(
        train: &TaskGraph,
        eval: Option<&TaskGraph>,
        params: ParamStore,
        spec: OptimSpec,
        opts: &SessionOptions,
    ) -> Result<Trainer> {
        let opt = spec.optimizer(spec.lr).state(&params);
        let mut groups: Vec<(f64, std::collections::HashSet<String>)> = Vec::new();
        for n in &train.trainable {
            let scale = spec.scales.of(n);
            match groups.iter_mut().find(|(s, _)| *s == scale) {
                Some((_, names)) => {
                    names.insert(n.clone());
                }
                None => groups.push((scale, std::iter::once(n.clone()).collect())),
            }
        }
        Ok(Trainer {
            trainable: train
                .trainable
                .iter()
                .map(|n| {
                    if !params.contains(n) {
                        bail!("trainable parameter {n} missing from the store");
                    }
                    Ok((n.clone(), format!("grad.{n}")))
                })
                .collect::<Result<_>>()?,
            groups,
            train: session(train, opts)?,
            eval: eval.map(|e| session(e, opts)).transpose()?,
            params,
            opt,
            spec,
            threads: opts.intra_threads.unwrap_or(runtime::DEFAULT_THREADS),
            last_host_seconds: 0.0,
        })
    }

    /// One optimizer step on `batch`. A non-finite loss or gradient is an error naming the step.
    pub fn step(&mut self, batch: &StepInputs) -> Result<StepStats> {
        let step = self.opt.step + 1;
        let t0 = std::time::Instant::now();
        let mut feeds = Feeds::new();
        batch.feed_into(&mut feeds, |_| true);
        feeds.params(&self.params);
        let t1 = std::time::Instant::now();
        let out = self.train.run(&feeds)?;
        let t2 = std::time::Instant::now();
        drop(feeds);
        let loss = out.scalar("loss")?;
        if !loss.is_finite() {
            bail!("non-finite loss ({loss}) at step {step}");
        }
        // (parameter name, gradient) for every trainable parameter.
        let grads: Vec<(&str, &[f32])> = self
            .trainable
            .iter()
            .map(|(n, output)| Ok((n.as_str(), out.f32(output)?.data)))
            .collect::<Result<_>>()?;
        let slices: Vec<&[f32]> = grads.iter().map(|g| g.1).collect();
        let norm = runtime::global_grad_norm(&slices) as f64;
        if !norm.is_finite() {
            bail!("non-finite gradient norm at step {step}");
        }
        let opts = StepOptions {
            grad_scale: runtime::clip_factor(norm as f32, self.spec.clip_norm as f32),
            decays,
            threads: self.threads,
        };
        let lr = self.spec.lr_at(step);
        let by_name: std::collections::HashMap<&str, &[f32]> = grads.into_iter().collect();
        // Advances `self.opt.step` to `step`.
        if self.spec.scales.is_uniform() {
            self.spec
                .optimizer(lr)
                .update(&mut self.params, &mut self.opt, &opts, |n| {
                    by_name.get(n).copied()
                })?;
        } else {
            // One update per rate, each over its own parameters, all as step `step`.
            for (scale, names) in &self.groups {
                self.opt.step = step - 1;
                self.spec.optimizer(lr * scale).update(
                    &mut self.params,
                    &mut self.opt,
                    &opts,
                    |n| names.contains(n).then(|| by_name.get(n).copied()).flatten(),
                )?;
            }
            self.opt.step = step;
        }
        self.last_host_seconds = (t1 - t0).as_secs_f64() + t2.elapsed().as_secs_f64();
        Ok(StepStats {
            loss,
            grad_norm: norm,
            lr,
        })
    }

    /// Ends ONNX Runtime profiling of the training session (when enabled in its options) and
    /// returns the profile's path.
    pub fn end_profiling(&mut self) -> Result<std::path::PathBuf> {
        Ok(self.train.end_profiling()?)
    }

    /// Runs the evaluation graph: (loss, logits as f32 with their shape).
    pub fn evaluate(&mut self, batch: &StepInputs) -> Result<(f64, Tensor)> {
        let eval = self
            .eval
            .as_mut()
            .context("trainer has no evaluation graph")?;
        evaluate(eval, &self.params, batch)
    }
}

/// Runs an evaluation graph over `params`: (loss, logits).
pub fn evaluate(
    session: &mut Session,
    params: &ParamStore,
    batch: &StepInputs,
) -> Result<(f64, Tensor)> {
    let mut feeds = Feeds::new();
    batch.feed_into(&mut feeds, |_| true);
    feeds.params(params);
    let out = session.run(&feeds)?;
    let loss = out.scalar("loss")?;
    let logits = out.tensor("logits")?;
    if logits.dtype() != DType::F32 {
        bail!("logits are {}, expected f32", logits.dtype());
    }
    Ok((loss, logits))
}
