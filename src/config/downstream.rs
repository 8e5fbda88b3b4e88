//! `[downstream.NAME]`: a supervised stage, its transfer mode and its `probe` schedule.

use super::layers::Layers;
use super::limits;
use super::optimizer::OptimizerConfig;
use super::pretrain::{default_batch_size, default_seq_len};
use super::probe_layers::ProbeLayers;
use super::stage_ref::StageRef;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[downstream.NAME]`: a supervised task trained and evaluated on a dataset. An experiment needs
/// at least one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownstreamConfig {
    /// The kind of prediction; a linear head on the encoder's features makes it.
    #[serde(default)]
    pub task: DownstreamTask,
    /// The NAME of the `[dataset.NAME]` to train and evaluate on.
    pub data: String,
    /// The pretraining chain this stage starts from, run in order, each stage continuing from
    /// the one before (an `import` stage only first).
    #[serde(default)]
    pub from: StageRef,
    /// How the pretrained encoder enters this stage.
    #[serde(default)]
    pub transfer: Transfer,
    /// How many of the encoder's layers are transferred with the embeddings (the rest start
    /// random); 0 transfers the embeddings alone.
    #[serde(default)]
    pub layers: Layers,
    /// Passes over the train split; the parameters of the epoch with the best dev accuracy are
    /// the ones tested.
    #[serde(default = "default_epochs")]
    #[schemars(range(min = 1))]
    pub epochs: u32,
    /// Examples per batch; `batch_size` × `seq_len` may not exceed 2^22 tokens.
    #[serde(default = "default_batch_size")]
    #[schemars(range(min = 1, max = limits::BATCH_SIZE))]
    pub batch_size: usize,
    /// Tokens per example, special tokens included (longer inputs are truncated); at most
    /// `encoder.max_len` with learned positions.
    #[serde(default = "default_seq_len")]
    #[schemars(range(min = 2, max = limits::MAX_LEN))]
    pub seq_len: usize,
    /// How a sequence's token features become one vector for `classify` and `pair` (`tag`
    /// labels every token).
    #[serde(default)]
    pub pooling: Pooling,
    /// The stage's optimizer and learning-rate schedule (see `optimizer = { ... }`).
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Stop after this many epochs without a better dev score; 0 never stops early.
    #[serde(default)]
    pub patience: u32,
    /// `baseline = true`: add a bag-of-words cell for this stage, trained on the same splits and
    /// reported beside the encoder's cells (runs.csv rows with `transfer = "bow"`): TF-IDF
    /// features and a logistic regression whose C is picked on dev for `classify`, the same with
    /// each word marked by its side for `pair`, the most frequent tag of each word for `tag`.
    /// Deterministic: one fit, shared by every seed's row.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[schemars(extend("default" = false))]
    pub baseline: bool,
    /// `freeze = "embeddings"`: fine-tune the encoder layers with the (transferred) embeddings
    /// kept fixed. Read by `transfer = "finetune"` and `"lp-ft"`; the other modes ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze: Option<Freeze>,
    /// The head's own schedule in feature extraction (`transfer = "frozen"` with every layer
    /// transferred, and `lp-ft`'s probe), which runs on features computed once and so can afford
    /// far more epochs than fine-tuning (see `probe = { ... }`). Unset: the stage's own settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
    /// The encoder's dropout rate in this stage (`encoder.dropout` otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0), extend("exclusiveMaximum" = 1.0))]
    pub dropout: Option<f64>,
    /// Peak learning rate of the encoder (embeddings and layers) when it trains; the head keeps
    /// `optimizer.lr`. A pretrained encoder usually wants a smaller rate than a random head.
    /// Unset: `optimizer.lr` for every parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0.0))]
    pub encoder_lr: Option<f64>,
    /// Layer-wise learning-rate decay (ELECTRA, Clark et al. 2020): the top encoder layer trains
    /// at the encoder's rate × `layer_decay`, each layer below at one more factor, the
    /// embeddings at `layer_decay`^(depth + 1); the head keeps its own rate. 1 turns it off.
    #[serde(default = "default_layer_decay", skip_serializing_if = "is_one")]
    #[schemars(extend("default" = 1.0, "exclusiveMinimum" = 0.0, "maximum" = 1.0))]
    pub layer_decay: f64,
    /// What happens to an example longer than `seq_len`: `"truncate"` keeps its first `seq_len`
    /// tokens; `"windows"` reads all of it in overlapping windows of `seq_len` tokens that start
    /// `stride` tokens apart (`classify` and `pair` pool the windows' features with
    /// `window_pool` before the head; `tag` and `span` map each token back from the window that
    /// holds it furthest from an edge). With windows, `batch_size` counts window rows, and a
    /// `classify` or `pair` batch holds whole examples, so an example keeps at most `batch_size`
    /// windows (what that leaves out is counted as cut). `plan` and runs.csv
    /// (`data.NAME.truncated_examples`, `cut_token_share`, `windows_per_example`) say what each
    /// way reads. Unset: `"windows"` for `span`, `"truncate"` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long: Option<LongInputs>,
    /// With windows: how many tokens each window starts after the one before (BERT's
    /// `doc_stride`), at least 1 and at most the tokens of text one window holds. Unset: half of
    /// them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub stride: Option<usize>,
    /// With windows, for `classify` and `pair`: how the windows' pooled features become one
    /// vector for the head.
    #[serde(default, skip_serializing_if = "WindowPool::is_default")]
    #[schemars(extend("default" = "mean"))]
    pub window_pool: WindowPool,
    /// Layer-wise measurements: `"all"` or a list of layer indices (0 is the embeddings' output,
    /// k the output of encoder layer k), pooled as the head pools (`pooling`; every token for
    /// `tag`). Feature extraction (`transfer = "frozen"` with every layer) trains one linear
    /// probe per layer on the `probe` schedule, from one forward pass per example, and writes
    /// `layer<k>_dev_accuracy`, `layer<k>_test_accuracy`, `layer<k>_dev_macro_f1` and
    /// `layer<k>_test_macro_f1`. A run that trains the encoder (`finetune`, `lp-ft`, `scratch`)
    /// writes `layer<k>_cka`: linear CKA between each layer's features of the dev texts under
    /// the starting encoder (scratch: its random initialisation) and under the trained one.
    /// With `probe_layers`, `from = "none"` is the random-encoder control: `frozen` probes the
    /// encoder at its seed's initialisation, kept fixed, and `finetune` / `lp-ft` become
    /// `scratch` (so a sweep over `from` may include `"none"`). Read with `transfer = "frozen"`
    /// only with `layers = "all"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_layers: Option<ProbeLayers>,
    /// For `span`: the longest answer decoded, in tokens (a predicted span has end ≥ start and
    /// end − start < `max_answer_tokens`).
    #[serde(
        default = "default_max_answer_tokens",
        skip_serializing_if = "is_default_max_answer_tokens"
    )]
    #[schemars(range(min = 1), extend("default" = 30))]
    pub max_answer_tokens: usize,
}

fn default_max_answer_tokens() -> usize {
    30
}
fn is_default_max_answer_tokens(n: &usize) -> bool {
    *n == default_max_answer_tokens()
}

/// `downstream.NAME.long`: what an example longer than `seq_len` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LongInputs {
    /// Keep the first `seq_len` tokens (counted in `plan` and runs.csv as cut text).
    Truncate,
    /// Overlapping windows of `seq_len` tokens, `stride` apart.
    Windows,
}

/// `downstream.NAME.window_pool`: how the windows of one example become one feature vector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WindowPool {
    /// The mean of the windows' features.
    #[default]
    Mean,
    /// The element-wise maximum of the windows' features.
    Max,
}

impl WindowPool {
    fn is_default(&self) -> bool {
        *self == WindowPool::Mean
    }
}

fn default_layer_decay() -> f64 {
    1.0
}
fn is_one(x: &f64) -> bool {
    *x == 1.0
}

/// `probe = { ... }`: the schedule of a downstream stage's feature-extraction runs
/// (`transfer = "frozen"`, every layer transferred) and of `lp-ft`'s first phase, whose head trains on features computed once
/// and so can afford far more epochs than fine-tuning; for example
/// `probe = { epochs = 100, patience = 10, lr = 1e-2 }`. A key given replaces the stage's own for
/// those runs only; a key left out keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// Epochs of the head's training (the stage's `epochs` otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub epochs: Option<u32>,
    /// Early-stopping patience of the head's training (the stage's `patience` otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience: Option<u32>,
    /// Peak learning rate of the head (the stage's `optimizer.lr` otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0.0))]
    pub lr: Option<f64>,
}

impl DownstreamConfig {
    /// The settings a feature-extraction run trains its head with: `probe`'s over the stage's.
    pub fn with_probe(&self) -> DownstreamConfig {
        let mut d = self.clone();
        if let Some(p) = &self.probe {
            d.epochs = p.epochs.unwrap_or(d.epochs);
            d.patience = p.patience.unwrap_or(d.patience);
            d.optimizer.lr = p.lr.unwrap_or(d.optimizer.lr);
        }
        d
    }

    /// `long` as set, or its default for the task.
    pub fn long_inputs(&self) -> LongInputs {
        self.long.unwrap_or(self.task.default_long())
    }
}

/// What a fine-tuned downstream stage keeps fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Freeze {
    /// Word, position and segment embeddings and their LayerNorm.
    Embeddings,
}

fn default_epochs() -> u32 {
    3
}

/// `downstream.NAME.task`: what the head predicts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DownstreamTask {
    /// One text, one label.
    #[default]
    Classify,
    /// Two texts (the dataset's `text` and `text_pair` columns), one label.
    Pair,
    /// One tag per token (the label column: space-separated BIO tags, one per word of the text).
    Tag,
    /// Extractive question answering: the question (segment A) and a window of the context
    /// (segment B) in, the answer's start and end token out. Read from a SQuAD v1.1 JSON file or
    /// a table with the dataset's `question`, `context`, `answer` and `answer_start` columns;
    /// scored by SQuAD's exact match and token F1.
    Span,
}

/// How the pretrained encoder enters the downstream stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transfer {
    /// Random initialisation; `from` and `layers` are ignored.
    Scratch,
    /// Pretrained encoder kept fixed; only the head trains.
    Frozen,
    /// Pretrained encoder trained further with the head.
    #[default]
    Finetune,
    /// Linear probing, then fine-tuning (Kumar et al. 2022): the head first trains on the
    /// frozen encoder's features (the `probe` schedule), then everything trains from that head
    /// (the stage's own schedule), so a random head does not distort the pretrained features.
    #[serde(rename = "lp-ft")]
    LpFt,
}

impl Transfer {
    /// The mode's name in experiment files and results.
    pub fn name(self) -> &'static str {
        match self {
            Transfer::Scratch => "scratch",
            Transfer::Frozen => "frozen",
            Transfer::Finetune => "finetune",
            Transfer::LpFt => "lp-ft",
        }
    }
}

/// `downstream.NAME.pooling`: how token features become one vector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The first token's (`[CLS]`) features.
    #[default]
    Cls,
    /// Mean over non-padding tokens.
    Mean,
    /// The last real token's features: what a causal (GPT-style, `clm`-pretrained) encoder
    /// has read the whole input by (Radford et al. 2018); its position 0 sees only itself, so
    /// `"cls"` is refused there.
    Last,
}
