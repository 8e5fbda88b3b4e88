//! The stages of one run, each with its content key, its parents and its cost estimate:
//! the tokenizer, each downstream stage's pretraining chain, the downstream stages.

use super::cost::{baseline_cost, downstream_cost, pretrain_cost, tokenizer_cost, vectors_cost};
use super::keys::{
    baseline_material, downstream_material, pretrain_material, stage_key, tokenizer_material,
    vectors_material,
};
use super::types::{DataSource, NamedData, StageConfig, StageKind, StagePlan};
use crate::config::{CorpusConfig, DownstreamConfig, Experiment, PretrainConfig, Transfer};

/// The stages of one run, parents first: tokenizer, each downstream stage's pretraining chain,
/// the downstream stages. `seed = None` leaves the run seed out of the keys (cell signatures).
pub(super) fn run_stages(exp: &Experiment, seed: Option<u64>) -> Vec<StagePlan> {
    let mut out = Vec::new();
    let tokenizer = tokenizer_stage(exp);
    let tok_key = tokenizer.key.clone();
    // Static word vectors belong to the tokenizer: one stage per tokenizer and dimension, a
    // parent of every stage whose word embeddings they fill. Their key is fixed by the
    // tokenizer's key, the dimension and `[vectors]`, all in those stages' keys.
    let vectors = exp
        .embeddings
        .word
        .uses_vectors()
        .then(|| vectors_stage(exp, &tokenizer));
    out.push(tokenizer);
    let vectors_key = vectors.as_ref().map(|v| v.key.clone());
    out.extend(vectors);
    for (name, d) in &exp.downstream {
        let mut previous: Option<String> = None;
        let mut chain: Vec<String> = Vec::new();
        // A chain that starts with an imported model directory uses that model's tokenizer
        // (its stage folder holds the tokenizer.json) instead of the experiment's.
        let mut chain_tok = tok_key.clone();
        if d.transfer != Transfer::Scratch {
            for stage_name in d.from.names() {
                let Some(p) = exp.pretrain.get(stage_name) else {
                    continue;
                };
                chain.push(format!("pretrain.{stage_name}"));
                let stage = if crate::experiment::imports::imports_model_dir(p) {
                    let s = crate::experiment::imports::import_stage_plan(
                        p, stage_name, &chain, &tok_key,
                    );
                    chain_tok = s.key.clone();
                    s
                } else {
                    pretrain_stage(
                        exp,
                        stage_name,
                        p,
                        &chain_tok,
                        previous.as_deref(),
                        &chain,
                        seed,
                    )
                };
                previous = Some(stage.key.clone());
                out.push(stage);
            }
        }
        out.push(downstream_stage(
            exp,
            name,
            d,
            &chain_tok,
            previous.as_deref(),
            seed,
        ));
    }
    if let Some(vk) = &vectors_key {
        for s in out.iter_mut().filter(|s| {
            matches!(s.kind, StageKind::Pretrain | StageKind::Downstream)
                && s.parents.contains(&tok_key)
        }) {
            s.parents.push(vk.clone());
        }
    }
    // Runs whose every chain starts from an imported model do not fit the experiment's tokenizer.
    if !out
        .iter()
        .any(|s| s.kind != StageKind::Vectors && s.parents.contains(&tok_key))
    {
        out.retain(|s| s.key != tok_key && Some(&s.key) != vectors_key.as_ref());
    }
    out
}

fn vectors_stage(exp: &Experiment, tokenizer: &StagePlan) -> StagePlan {
    let StageConfig::Tokenizer { fit_on, .. } = &tokenizer.config else {
        unreachable!("the tokenizer stage's config")
    };
    let dim = exp.encoder.d_model;
    StagePlan {
        key: stage_key(&vectors_material(&tokenizer.key, dim, &exp.vectors)),
        kind: StageKind::Vectors,
        name: "vectors".into(),
        label: "vectors".into(),
        parents: vec![tokenizer.key.clone()],
        runs: Vec::new(),
        config: StageConfig::Vectors {
            tokenizer: tokenizer.key.clone(),
            fit_on: fit_on.clone(),
            dim,
            vectors: exp.vectors.clone(),
        },
        estimate: vectors_cost(dim),
        cached: false,
    }
}

fn data_of(exp: &Experiment, name: &str) -> NamedData {
    let source = match (exp.corpus.get(name), exp.dataset.get(name)) {
        (Some(c), _) => DataSource::Corpus(c.clone()),
        (None, Some(d)) => DataSource::Dataset(d.clone()),
        // Validation guarantees references resolve; an empty corpus keeps planning total.
        (None, None) => DataSource::Corpus(CorpusConfig {
            path: Default::default(),
            filter: Default::default(),
            document: Default::default(),
        }),
    };
    NamedData {
        name: name.to_string(),
        source,
    }
}

fn tokenizer_stage(exp: &Experiment) -> StagePlan {
    let fit_on: Vec<NamedData> = exp
        .tokenizer
        .fit_on
        .iter()
        .map(|n| data_of(exp, n))
        .collect();
    let material = tokenizer_material(exp, &fit_on);
    StagePlan {
        key: stage_key(&material),
        kind: StageKind::Tokenizer,
        name: "tokenizer".into(),
        label: "tokenizer".into(),
        parents: Vec::new(),
        runs: Vec::new(),
        config: StageConfig::Tokenizer {
            tokenizer: exp.tokenizer.clone(),
            fit_on,
        },
        estimate: tokenizer_cost(),
        cached: false,
    }
}

fn pretrain_stage(
    exp: &Experiment,
    name: &str,
    p: &PretrainConfig,
    tok_key: &str,
    previous: Option<&str>,
    chain: &[String],
    run_seed: Option<u64>,
) -> StagePlan {
    let seed = if p.replicate { run_seed } else { Some(p.seed) };
    let data = data_of(exp, &p.data);
    let material = pretrain_material(exp, p, &data, seed, tok_key, previous);
    let mut parents = vec![tok_key.to_string()];
    parents.extend(previous.filter(|k| *k != tok_key).map(str::to_string));
    StagePlan {
        key: stage_key(&material),
        kind: StageKind::Pretrain,
        name: name.to_string(),
        label: chain.join(" > "),
        parents,
        runs: Vec::new(),
        config: StageConfig::Pretrain {
            pretrain: p.clone(),
            encoder: exp.encoder.clone(),
            embeddings: exp.embeddings.clone(),
            data,
            seed: seed.unwrap_or(p.seed),
            tokenizer: tok_key.to_string(),
            previous: previous.map(str::to_string),
        },
        estimate: pretrain_cost(exp, p),
        cached: false,
    }
}

fn downstream_stage(
    exp: &Experiment,
    name: &str,
    d: &DownstreamConfig,
    tok_key: &str,
    pretrained: Option<&str>,
    seed: Option<u64>,
) -> StagePlan {
    let data = data_of(exp, &d.data);
    let material = downstream_material(exp, d, &data, seed, tok_key, pretrained);
    let mut parents = vec![tok_key.to_string()];
    parents.extend(pretrained.filter(|k| *k != tok_key).map(str::to_string));
    StagePlan {
        key: stage_key(&material),
        kind: StageKind::Downstream,
        name: name.to_string(),
        label: format!("downstream.{name}"),
        parents,
        runs: Vec::new(),
        config: StageConfig::Downstream {
            downstream: d.clone(),
            encoder: exp.encoder.clone(),
            embeddings: exp.embeddings.clone(),
            data,
            seed: seed.unwrap_or(0),
            tokenizer: tok_key.to_string(),
            pretrained: pretrained.map(str::to_string),
        },
        estimate: downstream_cost(exp, d),
        cached: false,
    }
}

/// The bag-of-words baseline of downstream stage `name`: no parents, no seed.
pub(super) fn baseline_stage(exp: &Experiment, name: &str, d: &DownstreamConfig) -> StagePlan {
    let data = data_of(exp, &d.data);
    StagePlan {
        key: stage_key(&baseline_material(d.task, &data)),
        kind: StageKind::Baseline,
        name: name.to_string(),
        label: format!("baseline.{name}"),
        parents: Vec::new(),
        runs: Vec::new(),
        config: StageConfig::Baseline { task: d.task, data },
        estimate: baseline_cost(exp, d),
        cached: false,
    }
}
