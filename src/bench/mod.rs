//! `embedlab bench`: training-step and encode throughput of a BERT-style MLM model at fixed
//! shapes (configs A and B of issue #2/#8), achieved GFLOP/s, peak RSS, and the share of step
//! time spent outside ONNX Runtime. Prints figures; asserts nothing.

mod exported;

use crate::graph::{DType, Tensor};
use crate::model::{self, EncoderSpec, Fusion, FusionPlan, Head, Input, Mode, PretrainHead};
use crate::runtime::{Feeds, ParamStore, SessionOptions};
use crate::train::{OptimSpec, StepInputs, Trainer, init_params, session};
use anyhow::Result;
use rand::{Rng, SeedableRng};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchConfig {
    A,
    B,
}

pub struct BenchShape {
    pub spec: EncoderSpec,
    pub batch: usize,
    pub seq: usize,
}

impl BenchConfig {
    /// BERT-style post-LN shapes: learned position and segment embeddings, GELU, dropout 0.1
    /// (the rest of [`EncoderSpec::tiny`]).
    pub fn shape(self) -> BenchShape {
        let (depth, d, heads, batch, seq) = match self {
            BenchConfig::A => (2, 128, 2, 32, 64),
            BenchConfig::B => (4, 256, 4, 32, 128),
        };
        BenchShape {
            spec: EncoderSpec {
                vocab: 8000,
                d_model: d,
                heads,
                ffn: 4 * d,
                depth,
                max_len: seq,
                ..EncoderSpec::tiny(8000)
            },
            batch,
            seq,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub config: String,
    pub params: usize,
    pub train_tokens_per_s: f64,
    pub train_step_ms: f64,
    /// Encode with the fused kernels unless `EMBEDLAB_NO_FUSION` is set (see `encode_fusion`).
    pub encode_tokens_per_s: f64,
    /// Encode with the unfused encoder graph, in the same run.
    pub encode_unfused_tokens_per_s: f64,
    /// What the encode graph fused, and why not where it did not (`FusionPlan::describe`).
    pub encode_fusion: String,
    /// Encode with the exported encoder (`embedlab export`, f32) in a plain session.
    pub export_f32_tokens_per_s: f64,
    /// Encode with the exported encoder quantized to int8 (`export --quantize int8`), timed in
    /// turn with the f32 export.
    pub export_int8_tokens_per_s: f64,
    pub train_gflops_per_s: f64,
    pub encode_gflops_per_s: f64,
    pub outside_ort_share: f64,
    /// Peak resident memory while training (before the encode session exists).
    pub peak_rss_train_mb: f64,
    /// Peak resident memory of the whole run, encode included.
    pub peak_rss_mb: f64,
    pub threads: usize,
    pub cpu_arena: bool,
    pub memory_pattern: bool,
}

/// How to run the benchmark.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Timed training steps and encode passes (after warm-up); medians are reported.
    pub steps: usize,
    /// ONNX Runtime intra-op threads (and the optimizer's threads).
    pub threads: usize,
    /// Profile the training session into a JSON trace with this prefix.
    pub profile: Option<std::path::PathBuf>,
    /// ONNX Runtime's CPU memory arena ([`SessionOptions::cpu_arena`]).
    pub cpu_arena: bool,
    /// ONNX Runtime's memory pattern ([`SessionOptions::memory_pattern`]).
    pub memory_pattern: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        let s = SessionOptions::default();
        BenchOptions {
            steps: 20,
            threads: 2,
            profile: None,
            cpu_arena: s.cpu_arena,
            memory_pattern: s.memory_pattern,
        }
    }
}

/// Forward FLOPs of the encoder on `tokens` tokens (multiply-adds counted as 2).
fn encoder_flops(s: &BenchShape) -> f64 {
    let (d, f, t) = (s.spec.d_model as f64, s.spec.ffn as f64, s.seq as f64);
    let tokens = (s.batch * s.seq) as f64;
    let per_layer = 2.0 * tokens * (4.0 * d * d + 2.0 * d * f) + 2.0 * 2.0 * tokens * t * d;
    per_layer * s.spec.depth as f64
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// A random MLM batch: ids, mask, segments, and 15% masked positions with their labels.
fn mlm_batch(s: &BenchShape, n_masked: usize, rng: &mut impl Rng) -> StepInputs {
    let (b, t, v) = (s.batch, s.seq, s.spec.vocab as i64);
    let ids: Vec<i64> = (0..b * t).map(|_| rng.random_range(5..v)).collect();
    let seg: Vec<i64> = (0..b * t).map(|i| ((i % t) >= t / 2) as i64).collect();
    let mut pos: Vec<i64> = rand::seq::index::sample(rng, b * t, n_masked)
        .into_iter()
        .map(|p| p as i64)
        .collect();
    pos.sort_unstable();
    let labels: Vec<i64> = pos.iter().map(|&p| ids[p as usize]).collect();
    StepInputs::from_iter([
        (Input::InputIds, Tensor::i64(vec![b, t], ids)),
        (
            Input::AttentionMask,
            Tensor::i64(vec![b, t], vec![1; b * t]),
        ),
        (Input::TokenTypeIds, Tensor::i64(vec![b, t], seg)),
        (Input::MlmPositions, Tensor::i64(vec![n_masked], pos)),
        (Input::MlmLabels, Tensor::i64(vec![n_masked], labels)),
    ])
}

/// Median seconds of one encode pass of the batch's first three inputs, with the trained
/// parameters baked in as initializers (ONNX Runtime prepacks them for its Gemm once: about 12%
/// of config B's encode time otherwise).
fn time_encode(
    s: &BenchShape,
    params: &ParamStore,
    fusion: Fusion,
    opts: &SessionOptions,
    profile: Option<&std::path::Path>,
    batch: &[(Input, &Tensor)],
    steps: usize,
) -> Result<f64> {
    let mut enc = model::features_graph_with(&s.spec, s.batch, s.seq, None, DType::F32, fusion)?;
    enc.graph.bake_inputs(|n| {
        let p = params.param(n).ok()?;
        Some(Tensor::f32(p.shape.to_vec(), p.data.to_vec()))
    })?;
    let enc_opts = SessionOptions {
        profile_prefix: profile.map(|p| {
            let mut p = p.as_os_str().to_owned();
            p.push("_encode");
            std::path::PathBuf::from(p)
        }),
        ..opts.clone()
    };
    let mut sess = session(&enc, &enc_opts)?;
    let mut times = Vec::new();
    for i in 0..steps + 2 {
        let mut feeds = Feeds::new();
        for (n, t) in batch {
            feeds.tensor(n.name(), t);
        }
        let t0 = Instant::now();
        let _ = sess.run(&feeds)?;
        if i >= 2 {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    if profile.is_some() {
        eprintln!("encode profile: {}", sess.end_profiling()?.display());
    }
    Ok(median(times))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Runs the benchmark: `steps` timed training steps after 3 warm-up steps, then (the training
/// session dropped, its parameters kept) `steps` encode passes after 2 warm-up passes.
pub fn run(config: BenchConfig, o: &BenchOptions) -> Result<BenchReport> {
    let (steps, threads, profile) = (o.steps.max(1), o.threads.max(1), o.profile.as_deref());
    let s = config.shape();
    let tokens = (s.batch * s.seq) as f64;
    let n_masked = ((s.batch * s.seq) as f64 * 0.15).round() as usize;
    let opts = SessionOptions {
        intra_threads: Some(threads),
        profile_prefix: profile.map(|p| p.to_path_buf()),
        cpu_arena: o.cpu_arena,
        memory_pattern: o.memory_pattern,
        ..Default::default()
    };
    let head = Head::Pretrain(PretrainHead::Mlm { n_masked });
    let train = model::task_graph(
        &s.spec,
        head,
        s.batch,
        s.seq,
        &Mode::Train {
            frozen_prefixes: vec![],
        },
        DType::F32,
        1,
    )?;
    let params = init_params(&train.params, 1)?;
    let n_params = params.num_values();
    let mut tr = Trainer::new(
        &train,
        None,
        params,
        OptimSpec::adamw(1e-4, 1_000_000),
        &opts,
    )?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let batches: Vec<StepInputs> = (0..4).map(|_| mlm_batch(&s, n_masked, &mut rng)).collect();
    for b in batches.iter().take(3) {
        tr.step(b)?;
    }
    let mut times = Vec::new();
    let mut outside = Vec::new();
    for i in 0..steps {
        let t0 = Instant::now();
        tr.step(&batches[i % batches.len()])?;
        let total = t0.elapsed().as_secs_f64();
        times.push(total);
        outside.push(tr.last_host_seconds / total);
    }
    let step_s = median(times);
    if profile.is_some() {
        eprintln!("training-step profile: {}", tr.end_profiling()?.display());
    }
    let peak_rss_train_mb = peak_rss_mb();
    // Encode: the encoder alone, no dropout, the trained parameters. The training session (its
    // arena above all) goes first: the two are never needed at the same time.
    let params = std::mem::take(&mut tr.params);
    drop(tr);
    let enc_batch: Vec<(Input, &Tensor)> = batches[0].iter().take(3).collect();
    let fusion = Fusion::from_env();
    let plan = FusionPlan::new(&s.spec, DType::F32, false, fusion);
    eprintln!("encode graph: {}", plan.describe());
    let enc_s = time_encode(&s, &params, fusion, &opts, profile, &enc_batch, steps)?;
    // The same encoder without the fused kernels, measured in the same run (side by side).
    let unfused_s = time_encode(&s, &params, Fusion::Unfused, &opts, None, &enc_batch, steps)?;
    let plain = SessionOptions {
        profile_prefix: None,
        ..opts.clone()
    };
    let (export_s, int8_s) = exported::time_exported(&s, &params, &plain, &enc_batch, steps)?;
    let d = s.spec.d_model as f64;
    let head_fwd = 2.0 * n_masked as f64 * (d * d + d * s.spec.vocab as f64);
    let train_flops = 3.0 * (encoder_flops(&s) + head_fwd);
    Ok(BenchReport {
        config: format!("{config:?}"),
        params: n_params,
        train_tokens_per_s: tokens / step_s,
        train_step_ms: step_s * 1e3,
        encode_tokens_per_s: tokens / enc_s,
        encode_unfused_tokens_per_s: tokens / unfused_s,
        encode_fusion: plan.describe(),
        export_f32_tokens_per_s: tokens / export_s,
        export_int8_tokens_per_s: tokens / int8_s,
        train_gflops_per_s: train_flops / step_s / 1e9,
        encode_gflops_per_s: encoder_flops(&s) / enc_s / 1e9,
        outside_ort_share: median(outside),
        peak_rss_train_mb,
        peak_rss_mb: peak_rss_mb(),
        threads,
        cpu_arena: o.cpu_arena,
        memory_pattern: o.memory_pattern,
    })
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "config {} ({} parameters, {} threads)",
            self.config, self.params, self.threads
        )?;
        writeln!(
            f,
            "  train   {:>9.0} tokens/s  {:>7.1} ms/step  {:>6.1} GFLOP/s",
            self.train_tokens_per_s, self.train_step_ms, self.train_gflops_per_s
        )?;
        writeln!(
            f,
            "  encode  {:>9.0} tokens/s  {:>26.1} GFLOP/s",
            self.encode_tokens_per_s, self.encode_gflops_per_s
        )?;
        writeln!(
            f,
            "  encode unfused {:>9.0} tokens/s ({:.2}x fused/unfused; {})",
            self.encode_unfused_tokens_per_s,
            self.encode_tokens_per_s / self.encode_unfused_tokens_per_s,
            self.encode_fusion
        )?;
        writeln!(
            f,
            "  export f32  {:>9.0} tokens/s; int8 {:>9.0} tokens/s ({:.2}x int8/f32)",
            self.export_f32_tokens_per_s,
            self.export_int8_tokens_per_s,
            self.export_int8_tokens_per_s / self.export_f32_tokens_per_s
        )?;
        writeln!(
            f,
            "  outside ONNX Runtime {:.1}% of a step",
            100.0 * self.outside_ort_share
        )?;
        write!(
            f,
            "  peak RSS {:.0} MB training, {:.0} MB in all (CPU arena {}, memory pattern {})",
            self.peak_rss_train_mb,
            self.peak_rss_mb,
            on_off(self.cpu_arena),
            on_off(self.memory_pattern)
        )
    }
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}
