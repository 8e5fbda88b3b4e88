//! The command line: clap definitions of the subcommands and their arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Experiment runner for NLP transfer-learning ablations.
#[derive(Debug, Parser)]
#[command(name = "embedlab", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every cell x seed of the experiment (stages shared between runs run once).
    Run(RunArgs),
    /// Show cells, stages (with keys and the runs that share them) and the estimated cost; runs nothing.
    Plan(PlanArgs),
    /// Rebuild summary.csv, plots/*.svg and report.md from runs.csv and curves.csv in DIR (after shards).
    Report {
        /// A results folder, e.g. results/quickstart.
        dir: PathBuf,
    },
    /// Check a results folder: every stage against its manifest (sizes, sha256) and every run's
    /// row, folder and stages; lists what is damaged (exit status 1 if anything is).
    Verify {
        /// A results root (holding .stages), e.g. results, or one experiment's folder.
        dir: PathBuf,
    },
    /// Print the JSON Schema of the experiment file (for editor completion).
    Schema,
    /// Benchmark: MLM training-step and encode throughput at fixed shapes (prints figures).
    Bench(BenchArgs),
    /// Write a stage's ONNX graphs (train_step, eval, encode) to DIR, e.g. to view in Netron.
    Graph(GraphArgs),
    /// Write a run's final encoder (fine-tuned where it was; with --head the whole model) or a
    /// BERT-family model directory as a standalone ONNX model, with tokenizer.json beside it.
    Export(ExportArgs),
    /// Embed the lines of stdin: one vector per line on stdout.
    Embed(EmbedArgs),
    /// Predict with a finished run's model: texts from a file to a CSV of predicted labels and
    /// per-label probabilities (tags per word for a tagging run).
    Predict(PredictArgs),
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A run directory (`results/<experiment>/runs/<run_id>`) whose downstream stage saved its
    /// model.
    #[arg(value_name = "RUN_DIR")]
    pub run: PathBuf,
    /// The texts: one per line, or a .tsv, .csv (header row) or .jsonl file with the run's
    /// dataset text columns (`text`, and `text_pair` for pair tasks).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The CSV file to write (default: stdout).
    #[arg(long, value_name = "FILE.csv")]
    pub out: Option<PathBuf>,
    /// Texts per model run.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// ONNX Runtime intra-op threads (default: ONNX Runtime's choice).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PoolingArg {
    /// Mean over the real (unpadded) tokens.
    Mean,
    /// The [CLS] position.
    Cls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Comma-separated values, one line per vector.
    Csv,
    /// A JSON array per line.
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run directory (`results/<experiment>/runs/<run_id>`) or a BERT-family model directory
    /// (config.json, model.safetensors, tokenizer.json).
    #[arg(value_name = "RUN_DIR")]
    pub source: PathBuf,
    /// The .onnx file to write (tokenizer.json is written beside it), or with `--format hf` the
    /// directory to write.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// `onnx`: a standalone ONNX model. `hf`: a Hugging Face directory (a `BertModel` that is
    /// also a sentence-transformers model; with `--head`, the classifier as a Dense layer to the
    /// labels, or a `BertForTokenClassification` for tagging runs).
    #[arg(long, value_enum, default_value = "onnx")]
    pub format: ExportFormatArg,
    /// Pooling of the `pooled` output (default: the run's downstream pooling; mean for imports).
    #[arg(long, value_enum)]
    pub pooling: Option<PoolingArg>,
    /// Export the whole model of a run: also the outputs `logits` and `probabilities` of its
    /// trained head, with the label names in the model's metadata (`embedlab.labels`); with
    /// `--format hf`, the head as a sentence-transformers Dense layer (classify, pair) or a
    /// `BertForTokenClassification` (tag).
    #[arg(long, conflicts_with = "pooling")]
    pub head: bool,
    /// `int8`: dynamic quantization of the model's matrix products (int8 weights per output
    /// column, activations quantized by ONNX Runtime at run time). The command reports the
    /// embeddings' cosine to the f32 model and, with a trained classifier, the test accuracy
    /// delta, on the run's own test split. ONNX format only.
    #[arg(long, value_enum, value_name = "KIND")]
    pub quantize: Option<QuantizeArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QuantizeArg {
    Int8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormatArg {
    Onnx,
    Hf,
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// An exported .onnx (tokenizer.json beside it), a run directory, or a BERT-family model
    /// directory.
    #[arg(long, value_name = "PATH")]
    pub model: PathBuf,
    #[arg(long, value_enum, default_value = "mean")]
    pub pooling: PoolingArg,
    /// Scale every vector to unit L2 norm.
    #[arg(long)]
    pub normalize: bool,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FormatArg,
    /// Lines per model run.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_size: u32,
    /// ONNX Runtime intra-op threads (default: ONNX Runtime's choice).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BenchConfigArg {
    /// 2 layers, d 128, 2 heads, batch 32 x 64 tokens, vocabulary 8000.
    A,
    /// 4 layers, d 256, 4 heads, batch 32 x 128 tokens, vocabulary 8000.
    B,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[arg(long, value_enum, default_value = "a")]
    pub config: BenchConfigArg,
    /// Timed steps (after 3 warm-up steps); the median is reported.
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// ONNX Runtime intra-op threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// One JSON line instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write ONNX Runtime profiles (JSON, chrome://tracing) of the training steps with this prefix,
    /// and of the encode passes with PREFIX_encode.
    #[arg(long, value_name = "PREFIX")]
    pub profile: Option<PathBuf>,
    /// ONNX Runtime's CPU memory arena (default: as every embedlab session).
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    pub cpu_arena: Option<bool>,
    /// ONNX Runtime's memory pattern planning (default: as every embedlab session).
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    pub memory_pattern: Option<bool>,
}

fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, found '{s}'")),
    }
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// The stage: `pretrain.NAME` or `downstream.NAME`.
    #[arg(long)]
    pub stage: String,
    /// Folder for the .onnx files.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Results root whose finished stages (tokenizer, import) are read instead of computed.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub results: PathBuf,
}

/// The experiment input: files and overrides.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Experiment files, merged in order (later files override earlier ones).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Override a key: `--set encoder.depth=3` (the value is TOML; otherwise a string).
    /// Applied after the files and EMBEDLAB_* environment variables (EMBEDLAB_ENCODER__DEPTH=3).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Results root.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
    /// Independent stages executed at the same time; the intra-op threads (the experiment's
    /// `threads`, else all cores) are divided among them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Run only shard I of N (1-based, e.g. 2/4); defaults from SLURM_ARRAY_TASK_ID/COUNT.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Ignore cached stage outputs and run everything again.
    #[arg(long)]
    pub fresh: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Results root, to mark stages whose outputs are already cached.
    #[arg(long, default_value = "results", value_name = "DIR")]
    pub out: PathBuf,
}
