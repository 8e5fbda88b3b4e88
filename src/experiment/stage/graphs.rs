//! The graphs a stage trains, built in one place from the stage's resolved shape, so that the
//! stages and `embedlab graph` build the same bytes. A shape is resolved from the configuration
//! plus what only the upstream stages know: the fitted vocabulary, an imported architecture, the
//! dataset's label set.

use super::vectors::STATIC_WORD;
use crate::config::{
    DownstreamConfig, EmbeddingsConfig, EncoderConfig, Layers, LongInputs, PretrainConfig,
    PretrainTask, Transfer, WordEmbedding,
};
use crate::data::MlmConfig;
use crate::experiment::convert::encoder_spec;
use crate::experiment::imports::imported_spec;
use crate::graph::DType;
use crate::model::{self, EncoderSpec, Head, Mode, PretrainHead, TaskGraph, TaskHead};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};

/// Everything that determines a stage's graphs.
#[derive(Debug, Clone)]
pub struct GraphShape {
    pub spec: EncoderSpec,
    pub head: Head,
    pub batch: usize,
    pub seq: usize,
    /// Parameter-name prefixes that get no gradient.
    pub frozen: Vec<String>,
    /// Feature extraction: the encoder runs once per example (`features` graph) and only a
    /// linear head trains on its output (`head_*` graphs).
    pub features_only: bool,
    /// `lp-ft`: the feature-extraction graphs first (the linear probe), then the whole model's.
    pub probe_first: bool,
    /// The seed of the graphs' dropout.
    pub seed: u64,
    /// `probe_layers`, resolved to indices (empty: unset). Feature extraction's `features` graph
    /// then outputs these layers too; a run that trains the encoder gets a `layer_features`
    /// graph for CKA.
    pub probe_layers: Vec<usize>,
}

/// What a pretraining stage's graphs depend on besides its configuration.
pub struct Upstream<'a> {
    /// The fitted tokenizer's vocabulary size.
    pub vocab: usize,
    /// The stage this one starts from (an import's architecture is read from it).
    pub previous: Option<&'a Path>,
    /// The label count of a classification dataset (`task = "classify"`; downstream stages).
    pub classes: Option<usize>,
    /// Whether static word vectors fill the word embeddings and stay fixed (`static`, not
    /// `static-tuned`).
    pub static_vectors: bool,
}

impl<'a> Upstream<'a> {
    /// What upstream stages tell a stage's graphs: the vocabulary, the stage it starts from, a
    /// dataset's label count, and whether word vectors fill the word table and stay fixed
    /// (`word = "static"` and a vectors stage to fill it).
    pub fn new(
        vocab: usize,
        previous: Option<&'a Path>,
        classes: Option<usize>,
        embeddings: &EmbeddingsConfig,
        has_vectors: bool,
    ) -> Upstream<'a> {
        Upstream {
            vocab,
            previous,
            classes,
            static_vectors: has_vectors && embeddings.word == WordEmbedding::Static,
        }
    }
}

/// The shape of a pretraining stage's graphs.
pub fn pretrain_shape(
    p: &PretrainConfig,
    enc: &EncoderConfig,
    emb: &EmbeddingsConfig,
    up: &Upstream,
    seed: u64,
) -> Result<GraphShape> {
    let seq = p.seq_len.min(enc.max_len);
    let causal = p.task == PretrainTask::Clm;
    let dropout = p.dropout.unwrap_or(enc.dropout);
    let spec = imported_spec(up.previous, dropout, causal)?
        .unwrap_or_else(|| encoder_spec(enc, emb, up.vocab, causal));
    let spec = EncoderSpec {
        tie_output: p.tie_output,
        dropout,
        masked_packing: p.task.packs() && p.pack.masks_documents(),
        ..spec
    };
    let head = match p.task {
        PretrainTask::Mlm => PretrainHead::Mlm {
            n_masked: MlmConfig {
                prob: p.mask_prob,
                ..Default::default()
            }
            .max_predictions_for(p.batch_size, seq),
        },
        PretrainTask::Clm => PretrainHead::Clm,
        PretrainTask::Nsp | PretrainTask::Sop => PretrainHead::Sequence { classes: 2 },
        PretrainTask::Classify => PretrainHead::Sequence {
            classes: up.classes.unwrap_or(0),
        },
        PretrainTask::Import => bail!("an import stage trains no graph"),
    };
    let head = Head::Pretrain(head);
    Ok(GraphShape {
        spec,
        head,
        batch: p.batch_size,
        seq,
        frozen: frozen_vectors(up.static_vectors),
        features_only: false,
        probe_first: false,
        seed,
        probe_layers: Vec::new(),
    })
}

fn frozen_vectors(static_vectors: bool) -> Vec<String> {
    if static_vectors {
        vec![STATIC_WORD.to_string()]
    } else {
        vec![]
    }
}

/// How a downstream stage uses its encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    /// The transfer mode in effect (`scratch` whenever nothing was pretrained).
    pub transfer: Transfer,
    /// How many encoder layers are transferred.
    pub layers: usize,
}

/// The shape of a downstream stage's graphs, and how it transfers. `causal` keeps the attention
/// of an encoder pretrained as a causal LM causal downstream too.
pub fn downstream_shape(
    d: &DownstreamConfig,
    enc: &EncoderConfig,
    emb: &EmbeddingsConfig,
    up: &Upstream,
    causal: bool,
    seed: u64,
) -> Result<(GraphShape, Protocol)> {
    let seq = d.seq_len.min(enc.max_len);
    let dropout = d.dropout.unwrap_or(enc.dropout);
    let spec = imported_spec(up.previous, dropout, causal)?
        .unwrap_or_else(|| encoder_spec(enc, emb, up.vocab, causal));
    let spec = EncoderSpec { dropout, ..spec };
    let classes = up.classes.unwrap_or(0);
    let windows = (d.long_inputs() == LongInputs::Windows).then(|| d.window_pool.into());
    let head = Head::Task(d.task.head(classes, d.pooling.into(), windows));
    let layers = match d.layers {
        Layers::All => spec.depth,
        Layers::First(k) => k,
    };
    // Frozen with nothing pretrained is the random-encoder control of `probe_layers` (the
    // checks allow it only there); any other mode without a pretraining is scratch.
    let transfer = match (up.previous, d.transfer) {
        (None, Transfer::Frozen) => Transfer::Frozen,
        (None, _) => Transfer::Scratch,
        (Some(_), t) => t,
    };
    let probe_layers = match &d.probe_layers {
        None => Vec::new(),
        Some(p) => p.indices(spec.depth).map_err(|k| {
            anyhow::anyhow!(
                "probe_layers: layer {k} exceeds the encoder's depth {} (0 is the embeddings)",
                spec.depth
            )
        })?,
    };
    let features_only = transfer == Transfer::Frozen && layers == spec.depth;
    let probe_first = transfer == Transfer::LpFt;
    let mut frozen = Vec::new();
    if transfer == Transfer::Frozen {
        frozen.push("embeddings.".to_string());
        frozen.extend((0..layers).map(|l| format!("encoder.layer{l}.")));
    }
    if d.freeze == Some(crate::config::Freeze::Embeddings) {
        frozen.push("embeddings.".to_string());
    }
    frozen.extend(frozen_vectors(up.static_vectors));
    let shape = GraphShape {
        spec,
        head,
        batch: d.batch_size,
        seq,
        frozen,
        features_only,
        probe_first,
        seed,
        probe_layers,
    };
    Ok((shape, Protocol { transfer, layers }))
}

/// What a graph of a stage is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The whole model's training step: loss and the gradients.
    TrainStep,
    /// The whole model's evaluation: loss and logits, no dropout.
    Eval,
    /// Feature extraction: the encoder alone (and `probe_layers`' layers), run once per example.
    Features,
    /// The head alone on extracted features: its training step.
    HeadTrainStep,
    /// The head alone on extracted features: its evaluation.
    HeadEval,
    /// Every probed layer's features, for CKA between the starting and the trained encoder.
    LayerFeatures,
}

impl Role {
    /// The role's name in graph file names (`<stem>.<role>.onnx`).
    pub fn name(self) -> &'static str {
        match self {
            Role::TrainStep => "train_step",
            Role::Eval => "eval",
            Role::Features => "features",
            Role::HeadTrainStep => "head_train_step",
            Role::HeadEval => "head_eval",
            Role::LayerFeatures => "layer_features",
        }
    }
}

/// A stage's graphs by role: `train_step` and `eval` (task graphs), or under feature
/// extraction `features` (encoder only), `head_train_step` and `head_eval` (the linear head on
/// the features).
pub struct StageGraphs {
    pub graphs: Vec<(Role, TaskGraph)>,
}

impl StageGraphs {
    /// The graph of `role`, taken out; an error names a role this stage did not build.
    pub fn take(&mut self, role: Role) -> Result<TaskGraph> {
        let Some(i) = self.graphs.iter().position(|(r, _)| *r == role) else {
            bail!("this stage built no {} graph", role.name());
        };
        Ok(self.graphs.remove(i).1)
    }
}

/// Builds the graphs of a stage of this shape.
pub fn stage_graphs(s: &GraphShape) -> Result<StageGraphs> {
    let train = Mode::Train {
        frozen_prefixes: s.frozen.clone(),
    };
    let seed = s.seed as i64;
    let mut graphs = Vec::new();
    let task_head = match s.head {
        Head::Task(h) => Some(h),
        Head::Pretrain(_) => None,
    };
    let pooling = task_head.and_then(TaskHead::pooling);
    if s.features_only || s.probe_first {
        let Some(head) = task_head else {
            bail!("feature extraction needs a downstream head")
        };
        let head_train = Mode::Train {
            frozen_prefixes: vec![],
        };
        let (d, p) = (s.spec.d_model, s.spec.dropout);
        let (b, t) = (s.batch, s.seq);
        let head_graph = |mode: &Mode| -> Result<TaskGraph> {
            Ok(model::task_head_graph(
                head,
                d,
                b,
                t,
                p,
                mode,
                DType::F32,
                seed,
            )?)
        };
        let features = if s.features_only && !s.probe_layers.is_empty() {
            model::layer_features_graph(&s.spec, b, t, pooling, &s.probe_layers, DType::F32)?
        } else {
            model::features_graph(&s.spec, b, t, pooling, DType::F32)?
        };
        graphs.extend([
            (Role::Features, features),
            (Role::HeadTrainStep, head_graph(&head_train)?),
            (Role::HeadEval, head_graph(&Mode::Eval)?),
        ]);
    }
    if !s.features_only && !s.probe_layers.is_empty() {
        graphs.push((
            Role::LayerFeatures,
            model::layer_features_graph(
                &s.spec,
                s.batch,
                s.seq,
                pooling,
                &s.probe_layers,
                DType::F32,
            )?,
        ));
    }
    if !s.features_only {
        graphs.extend([
            (
                Role::TrainStep,
                model::task_graph(&s.spec, s.head, s.batch, s.seq, &train, DType::F32, seed)?,
            ),
            (
                Role::Eval,
                model::task_graph(
                    &s.spec,
                    s.head,
                    s.batch,
                    s.seq,
                    &Mode::Eval,
                    DType::F32,
                    seed,
                )?,
            ),
        ]);
    }
    Ok(StageGraphs { graphs })
}

/// The environment variable that makes every stage write the graphs it trains into a folder, as
/// `<kind>_<name>.<role>.onnx` (the names `embedlab graph` writes).
pub const DUMP_GRAPHS_ENV: &str = "EMBEDLAB_DUMP_GRAPHS";

/// Writes `graphs` into `out` as `<stem>.<role>.onnx`; returns the paths.
pub fn write_graphs(graphs: &StageGraphs, stem: &str, out: &Path) -> Result<Vec<PathBuf>> {
    use anyhow::Context;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut files = Vec::new();
    for (role, tg) in &graphs.graphs {
        let path = out.join(format!("{stem}.{}.onnx", role.name()));
        std::fs::write(&path, crate::graph::to_onnx_bytes(&tg.graph)?)
            .with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    Ok(files)
}

/// Writes a stage's graphs where `EMBEDLAB_DUMP_GRAPHS` points, when it is set.
pub fn dump_if_asked(graphs: &StageGraphs, stem: &str) -> Result<()> {
    if let Some(dir) = std::env::var_os(DUMP_GRAPHS_ENV).filter(|v| !v.is_empty()) {
        write_graphs(graphs, stem, Path::new(&dir))?;
    }
    Ok(())
}
