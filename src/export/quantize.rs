//! `export --quantize int8`: what the int8 model loses against the f32 one, measured on
//! the run's own test split: the cosine of each test text's pooled embedding to the f32 one, and,
//! for a run with a trained one-text classifier head, test accuracy of both (the head applied to
//! each model's pooled vector, as the task graph applies it).

use crate::config::{DownstreamTask, Experiment};
use crate::data::{Example, load_dataset};
use crate::experiment::artifacts::LoadedEncoder;
use crate::interop::{EmbedOptions, Embedder};
use crate::task::Target;
use anyhow::{Context, Result, bail};
use std::path::Path;

/// At most this many test examples are compared (the first ones, in file order).
const MAX_EXAMPLES: usize = 2000;

/// The figures `export --quantize int8` prints.
#[derive(Debug, Clone)]
pub struct QuantizeCheck {
    pub examples: usize,
    pub mean_cosine: f64,
    pub min_cosine: f64,
    /// (f32 accuracy, int8 accuracy), or why it is not measured.
    pub accuracy: std::result::Result<(f64, f64), String>,
}

impl std::fmt::Display for QuantizeCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "int8 vs f32 on {} test examples: embedding cosine mean {:.5}, min {:.5}; ",
            self.examples, self.mean_cosine, self.min_cosine
        )?;
        match &self.accuracy {
            Ok((a, q)) => write!(
                f,
                "test accuracy f32 {:.4}, int8 {:.4} (delta {:+.2} points)",
                a,
                q,
                100.0 * (q - a)
            ),
            Err(why) => write!(f, "test accuracy not measured: {why}"),
        }
    }
}

/// The test split of the run in `run_dir` (its `config.toml`'s downstream dataset).
fn test_split(run_dir: &Path) -> Result<Vec<Example>> {
    let path = run_dir.join("config.toml");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {} (the quantization check needs a run directory)",
            path.display()
        )
    })?;
    let exp: Experiment = toml::from_str(&text)
        .with_context(|| format!("{}: not a run configuration", path.display()))?;
    let ds = exp
        .downstream
        .values()
        .find_map(|d| exp.dataset.get(&d.data))
        .with_context(|| format!("{}: no downstream dataset", path.display()))?;
    let (data, _) = load_dataset(ds, Path::new(""))?;
    let mut test = data.test;
    test.truncate(MAX_EXAMPLES);
    if test.is_empty() {
        bail!(
            "{}: the downstream dataset has no test examples",
            path.display()
        );
    }
    Ok(test)
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        return if na == nb { 1.0 } else { 0.0 };
    }
    dot / (na * nb)
}

/// Accuracy of the run's classifier head on pooled vectors against the examples' labels.
fn head_accuracy(enc: &LoadedEncoder, pooled: &[Vec<f32>], test: &[Example]) -> Result<f64> {
    let head = enc.head.as_ref().context("no trained head")?;
    let mut right = 0;
    for (v, ex) in pooled.iter().zip(test) {
        // The one host-side head and argmax, as `predict` reads them.
        let logits = crate::model::host_classifier(&enc.params, v)?;
        let best = crate::metrics::argmax_rows(&logits, logits.len().max(1))
            .first()
            .map_or(0, |&i| i as usize);
        right += usize::from(head.labels.get(best) == Some(&ex.label));
    }
    Ok(right as f64 / test.len() as f64)
}

/// Compares the int8 model to the f32 one on the run's test split.
pub fn check_int8(
    run_dir: &Path,
    enc: &LoadedEncoder,
    f32_bytes: &[u8],
    int8_bytes: &[u8],
) -> Result<QuantizeCheck> {
    let test = test_split(run_dir)?;
    let texts: Vec<&str> = test.iter().map(|e| e.text.as_str()).collect();
    let pooling = enc.pooling;
    let opts = EmbedOptions {
        pooling,
        normalize: false,
        batch_size: 32,
    };
    let mut full = Embedder::new("f32 export", f32_bytes, enc.tok.clone(), Some(2))?;
    let mut int8 = Embedder::new("int8 export", int8_bytes, enc.tok.clone(), Some(2))?;
    let a = full.embed(&texts, &opts)?;
    let q = int8.embed(&texts, &opts)?;
    let cos: Vec<f64> = a.iter().zip(&q).map(|(x, y)| cosine(x, y)).collect();
    let accuracy = match &enc.head {
        None => Err("the run has no trained head".to_string()),
        // Only one-text classifiers: the check embeds the test texts alone.
        Some(h) if !one_text_classifier(h.task) => Err(format!(
            "a {:?} head (only one-text classifiers are checked)",
            h.task
        )),
        Some(_) => Ok((
            head_accuracy(enc, &a, &test)?,
            head_accuracy(enc, &q, &test)?,
        )),
    };
    Ok(QuantizeCheck {
        examples: test.len(),
        mean_cosine: cos.iter().sum::<f64>() / cos.len() as f64,
        min_cosine: cos.iter().copied().fold(f64::INFINITY, f64::min),
        accuracy,
    })
}

/// Whether a task's head reads one text and predicts one label (what the int8 check scores).
fn one_text_classifier(task: DownstreamTask) -> bool {
    match task.target() {
        Target::Class => !task.needs_text_pair(),
        Target::Tags | Target::Answer => false,
    }
}
