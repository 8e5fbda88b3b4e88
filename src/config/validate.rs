//! Cross-field rules of a fully resolved experiment (one sweep cell): ranges, references between
//! sections, and combinations that cannot run. Types and unknown keys are checked earlier, by
//! deserialisation.

use super::data::{FilterConfig, SPECIAL_TOKENS, TokenizerKind};
use super::error::Hint;
use super::experiment::{
    DownstreamTask, Experiment, Layers, OptimizerConfig, PositionEmbedding, PretrainTask, Transfer,
};

/// Upper bounds on sizes. Beyond them a run cannot fit in memory on any machine this targets
/// (or would abort in an allocation), so they are input mistakes, reported before compute.
pub mod limits {
    pub const THREADS: usize = 1024;
    pub const DEPTH: usize = 1024;
    pub const D_MODEL: usize = 1 << 16;
    pub const FFN: usize = 1 << 18;
    pub const MAX_LEN: usize = 1 << 16;
    pub const VOCAB_SIZE: usize = 1 << 22;
    pub const BATCH_SIZE: usize = 1 << 16;
    /// Tokens in one batch (batch_size × seq_len).
    pub const BATCH_TOKENS: usize = 1 << 22;
    /// Parameters of the encoder and its embeddings (f32: 8 GiB, before optimizer state).
    pub const PARAMS: u128 = 1 << 31;
}

/// A broken rule: the key path it is reported at and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub path: Vec<String>,
    pub message: String,
}

fn violation(path: &[&str], message: impl Into<String>) -> Violation {
    Violation {
        path: path.iter().map(|s| s.to_string()).collect(),
        message: message.into(),
    }
}

/// Checks every rule, returning the first violation in file-section order.
pub fn validate(exp: &Experiment) -> Result<(), Violation> {
    check_top(exp)?;
    check_names(exp)?;
    check_data(exp)?;
    check_tokenizer(exp)?;
    check_encoder(exp)?;
    check_pretrain(exp)?;
    check_downstream(exp)?;
    Ok(())
}

fn check_top(exp: &Experiment) -> Result<(), Violation> {
    let name_ok = !exp.name.is_empty()
        && !exp.name.starts_with('.')
        && exp
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if !name_ok {
        return Err(violation(
            &["name"],
            format!(
                "{:?} is not a usable name (letters, digits, '_', '-', '.'; it names the results folder)",
                exp.name
            ),
        ));
    }
    if exp.seeds.is_empty() {
        return Err(violation(&["seeds"], "needs at least one seed"));
    }
    for (i, s) in exp.seeds.iter().enumerate() {
        if exp.seeds[..i].contains(s) {
            return Err(violation(&["seeds"], format!("seed {s} appears twice")));
        }
    }
    if exp.threads == Some(0) {
        return Err(violation(
            &["threads"],
            "must be at least 1 (leave it out to use all cores)",
        ));
    }
    if let Some(t) = exp.threads
        && t > limits::THREADS
    {
        return Err(violation(
            &["threads"],
            format!("{t} is more than the limit of {}", limits::THREADS),
        ));
    }
    if exp.downstream.is_empty() {
        return Err(violation(
            &["downstream"],
            "the experiment has no [downstream.NAME] stage, so there is nothing to evaluate",
        ));
    }
    Ok(())
}

fn check_names(exp: &Experiment) -> Result<(), Violation> {
    let sections: [(&str, Vec<&String>); 4] = [
        ("corpus", exp.corpus.keys().collect()),
        ("dataset", exp.dataset.keys().collect()),
        ("pretrain", exp.pretrain.keys().collect()),
        ("downstream", exp.downstream.keys().collect()),
    ];
    for (section, names) in &sections {
        for name in names {
            let ok = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !matches!(name.as_str(), "none" | "all");
            if !ok {
                return Err(violation(
                    &[section, name],
                    "a name may hold only letters, digits, '_' and '-', and may not be 'none' or 'all'",
                ));
            }
        }
    }
    if let Some(name) = exp.corpus.keys().find(|n| exp.dataset.contains_key(*n)) {
        return Err(violation(
            &["dataset", name],
            format!(
                "'{name}' names both a corpus and a dataset; references to it would be ambiguous"
            ),
        ));
    }
    Ok(())
}

/// Filters, split ratios and the split column: what the data module would refuse when it reads
/// the file, found here so that the message points at the key.
fn check_data(exp: &Experiment) -> Result<(), Violation> {
    for (name, c) in &exp.corpus {
        check_filter("corpus", name, &c.filter)?;
    }
    for (name, d) in &exp.dataset {
        if let (Some(_), Some(_)) = (&d.split, &d.ratios) {
            return Err(violation(
                &["dataset", name, "ratios"],
                "give either a split column (split = \"COLUMN\") or ratios, not both",
            ));
        }
        if let Some(r) = d.ratios {
            let sum: f64 = r.iter().sum();
            if r.iter().any(|x| !(0.0..=1.0).contains(x)) || (sum - 1.0).abs() > 1e-6 || r[0] <= 0.0
            {
                return Err(violation(
                    &["dataset", name, "ratios"],
                    format!(
                        "{r:?}: expected three shares [train, dev, test] in [0, 1], train > 0, that sum to 1"
                    ),
                ));
            }
        }
        for (key, column) in [("text", &d.text), ("label", &d.label)] {
            if column.trim().is_empty() {
                return Err(violation(&["dataset", name, key], "names no column"));
            }
        }
        check_filter("dataset", name, &d.filter)?;
    }
    Ok(())
}

fn check_filter(section: &str, name: &str, f: &FilterConfig) -> Result<(), Violation> {
    let at = |key: &'static str| [section, name, "filter", key];
    if let (Some(lo), Some(hi)) = (f.min_chars, f.max_chars)
        && lo > hi
    {
        return Err(violation(
            &at("min_chars"),
            format!("{lo} is greater than max_chars = {hi}"),
        ));
    }
    if let (Some(lo), Some(hi)) = (f.min_words, f.max_words)
        && lo > hi
    {
        return Err(violation(
            &at("min_words"),
            format!("{lo} is greater than max_words = {hi}"),
        ));
    }
    for (key, share) in [
        ("min_cjk_share", f.min_cjk_share),
        ("min_latin_share", f.min_latin_share),
    ] {
        if let Some(v) = share
            && !(0.0..=1.0).contains(&v)
        {
            return Err(violation(
                &at(key),
                format!("{v} is not a share between 0 and 1"),
            ));
        }
    }
    if let Some(v) = f.fraction
        && !(v > 0.0 && v <= 1.0)
    {
        return Err(violation(&at("fraction"), format!("{v} is outside (0, 1]")));
    }
    for (key, pattern) in [("include", &f.include), ("exclude", &f.exclude)] {
        if let Some(p) = pattern
            && let Err(e) = regex::Regex::new(p)
        {
            // The regex crate's message spans lines (pattern, caret, reason); keep its last line.
            let reason = e.to_string();
            let reason = reason
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            return Err(violation(
                &at(key),
                format!("{p:?} is not a valid regular expression: {reason}"),
            ));
        }
    }
    Ok(())
}

fn check_tokenizer(exp: &Experiment) -> Result<(), Violation> {
    let t = &exp.tokenizer;
    if t.kind == TokenizerKind::File {
        if t.path.is_none() {
            return Err(violation(
                &["tokenizer", "path"],
                "kind = \"file\" needs path = \"tokenizer.json\"",
            ));
        }
        return Ok(());
    }
    if t.vocab_size <= SPECIAL_TOKENS {
        return Err(violation(
            &["tokenizer", "vocab_size"],
            format!(
                "{} is too small: it must be larger than the {SPECIAL_TOKENS} special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) every vocabulary starts with",
                t.vocab_size
            ),
        ));
    }
    if t.vocab_size > limits::VOCAB_SIZE {
        return Err(violation(
            &["tokenizer", "vocab_size"],
            format!(
                "{} is more than the limit of {}",
                t.vocab_size,
                limits::VOCAB_SIZE
            ),
        ));
    }
    if t.fit_on.is_empty() {
        return Err(violation(
            &["tokenizer", "fit_on"],
            "names no corpus or dataset to fit the tokenizer on",
        ));
    }
    for name in &t.fit_on {
        if !exp.corpus.contains_key(name) && !exp.dataset.contains_key(name) {
            let hint = data_hint(exp, name, true);
            return Err(violation(
                &["tokenizer", "fit_on"],
                format!("unknown corpus or dataset '{name}'{hint}"),
            ));
        }
    }
    Ok(())
}

fn check_encoder(exp: &Experiment) -> Result<(), Violation> {
    let e = &exp.encoder;
    if e.depth < 1 {
        return Err(violation(&["encoder", "depth"], "must be at least 1"));
    }
    if e.d_model < 1 {
        return Err(violation(&["encoder", "d_model"], "must be at least 1"));
    }
    if e.heads < 1 {
        return Err(violation(&["encoder", "heads"], "must be at least 1"));
    }
    if !e.d_model.is_multiple_of(e.heads) {
        return Err(violation(
            &["encoder", "heads"],
            format!("{} heads do not divide d_model = {}", e.heads, e.d_model),
        ));
    }
    if e.ffn < 1 {
        return Err(violation(&["encoder", "ffn"], "must be at least 1"));
    }
    if !(0.0..1.0).contains(&e.dropout) {
        return Err(violation(
            &["encoder", "dropout"],
            format!("{} is outside [0, 1)", e.dropout),
        ));
    }
    if e.max_len < 1 {
        return Err(violation(&["encoder", "max_len"], "must be at least 1"));
    }
    for (key, value, limit) in [
        ("depth", e.depth, limits::DEPTH),
        ("d_model", e.d_model, limits::D_MODEL),
        ("ffn", e.ffn, limits::FFN),
        ("max_len", e.max_len, limits::MAX_LEN),
    ] {
        if value > limit {
            return Err(violation(
                &["encoder", key],
                format!("{value} is more than the limit of {limit}"),
            ));
        }
    }
    // Embeddings (words, positions) and per layer attention (4 d²) and feed-forward (2 d·ffn).
    let vocab = if exp.tokenizer.kind == TokenizerKind::File {
        0
    } else {
        exp.tokenizer.vocab_size
    };
    let (d, f) = (e.d_model as u128, e.ffn as u128);
    let params =
        (vocab as u128 + e.max_len as u128) * d + e.depth as u128 * (4 * d * d + 2 * d * f);
    if params > limits::PARAMS {
        return Err(violation(
            &["encoder", "d_model"],
            format!(
                "the encoder would hold about {params} parameters, more than the limit of {} (hint: lower d_model, ffn, depth or tokenizer.vocab_size)",
                limits::PARAMS
            ),
        ));
    }
    Ok(())
}

fn check_batch(
    section: &str,
    name: &str,
    batch_size: usize,
    seq_len: usize,
) -> Result<(), Violation> {
    if batch_size < 1 {
        return Err(violation(
            &[section, name, "batch_size"],
            "must be at least 1",
        ));
    }
    if batch_size > limits::BATCH_SIZE {
        return Err(violation(
            &[section, name, "batch_size"],
            format!(
                "{batch_size} is more than the limit of {}",
                limits::BATCH_SIZE
            ),
        ));
    }
    if batch_size.saturating_mul(seq_len) > limits::BATCH_TOKENS {
        return Err(violation(
            &[section, name, "batch_size"],
            format!(
                "{batch_size} x seq_len {seq_len} tokens per batch is more than the limit of {}",
                limits::BATCH_TOKENS
            ),
        ));
    }
    Ok(())
}

fn check_optimizer(section: &str, name: &str, o: &OptimizerConfig) -> Result<(), Violation> {
    let at = |key: &'static str| [section, name, "optimizer", key];
    if !(o.lr.is_finite() && o.lr > 0.0) {
        return Err(violation(
            &at("lr"),
            format!("{} is not a positive learning rate", o.lr),
        ));
    }
    if !(o.weight_decay.is_finite() && o.weight_decay >= 0.0) {
        return Err(violation(&at("weight_decay"), "must be 0 or more"));
    }
    if !(0.0..1.0).contains(&o.momentum) {
        return Err(violation(
            &at("momentum"),
            format!("{} is outside [0, 1)", o.momentum),
        ));
    }
    if !(o.clip_norm.is_finite() && o.clip_norm >= 0.0) {
        return Err(violation(&at("clip_norm"), "must be 0 (off) or more"));
    }
    Ok(())
}

fn check_seq_len(
    exp: &Experiment,
    section: &str,
    name: &str,
    seq_len: usize,
) -> Result<(), Violation> {
    if seq_len < 2 {
        return Err(violation(&[section, name, "seq_len"], "must be at least 2"));
    }
    if seq_len > limits::MAX_LEN {
        return Err(violation(
            &[section, name, "seq_len"],
            format!("{seq_len} is more than the limit of {}", limits::MAX_LEN),
        ));
    }
    if seq_len > exp.encoder.max_len && exp.embeddings.position == PositionEmbedding::Learned {
        return Err(violation(
            &[section, name, "seq_len"],
            format!(
                "{seq_len} exceeds encoder.max_len = {}",
                exp.encoder.max_len
            ),
        ));
    }
    Ok(())
}

fn check_pretrain(exp: &Experiment) -> Result<(), Violation> {
    for (name, p) in &exp.pretrain {
        if p.task == PretrainTask::Import {
            if p.path.is_none() {
                return Err(violation(
                    &["pretrain", name, "path"],
                    "task = \"import\" needs path = \"DIR\" (a BERT-family model directory) or a params.safetensors file",
                ));
            }
            continue;
        }
        if p.data.is_empty() {
            return Err(violation(
                &["pretrain", name, "data"],
                format!(
                    "missing: task = \"{}\" needs data = \"NAME\" of a [corpus.NAME] or [dataset.NAME]",
                    serde_json::to_value(p.task)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                ),
            ));
        }
        let is_dataset = exp.dataset.contains_key(&p.data);
        if !is_dataset && !exp.corpus.contains_key(&p.data) {
            let hint = data_hint(exp, &p.data, p.task != PretrainTask::Classify);
            return Err(violation(
                &["pretrain", name, "data"],
                format!("unknown corpus or dataset '{}'{hint}", p.data),
            ));
        }
        if p.task == PretrainTask::Classify && !is_dataset {
            return Err(violation(
                &["pretrain", name, "data"],
                format!(
                    "task = \"classify\" needs a labeled dataset, but '{}' is a corpus",
                    p.data
                ),
            ));
        }
        if p.steps < 1 {
            return Err(violation(
                &["pretrain", name, "steps"],
                "must be at least 1",
            ));
        }
        check_seq_len(exp, "pretrain", name, p.seq_len)?;
        check_batch("pretrain", name, p.batch_size, p.seq_len)?;
        if p.task == PretrainTask::Mlm && !(p.mask_prob > 0.0 && p.mask_prob < 1.0) {
            return Err(violation(
                &["pretrain", name, "mask_prob"],
                format!("{} is outside (0, 1)", p.mask_prob),
            ));
        }
        check_optimizer("pretrain", name, &p.optimizer)?;
    }
    Ok(())
}

fn check_downstream(exp: &Experiment) -> Result<(), Violation> {
    for (name, d) in &exp.downstream {
        let at = |key: &'static str| ["downstream", name.as_str(), key];
        let Some(dataset) = exp.dataset.get(&d.data) else {
            let names: Vec<&String> = exp.dataset.keys().collect();
            let hint = Hint::closest(&d.data, &names);
            let extra = if exp.corpus.contains_key(&d.data) {
                " (it is a corpus; a downstream stage needs a labeled dataset)".to_string()
            } else {
                hint.to_string()
            };
            return Err(violation(
                &at("data"),
                format!("unknown dataset '{}'{extra}", d.data),
            ));
        };
        if d.task == DownstreamTask::Pair && dataset.text_pair.is_none() {
            return Err(violation(
                &at("task"),
                format!(
                    "task = \"pair\" needs two texts, but dataset '{}' has no text_pair column",
                    d.data
                ),
            ));
        }
        for (i, stage) in d.from.names().iter().enumerate() {
            if !exp.pretrain.contains_key(stage) {
                let names: Vec<&String> = exp.pretrain.keys().collect();
                let hint = Hint::closest(stage, &names);
                let hint = if names.is_empty() {
                    " (there is no [pretrain.NAME] stage)".to_string()
                } else {
                    hint.to_string()
                };
                return Err(violation(
                    &at("from"),
                    format!("unknown pretrain stage '{stage}'{hint}"),
                ));
            }
            if i > 0 && exp.pretrain[stage].task == PretrainTask::Import {
                return Err(violation(
                    &at("from"),
                    format!(
                        "pretrain stage '{stage}' imports a model, so it can only start a chain (it would replace what the stages before it trained)"
                    ),
                ));
            }
            if d.from.names()[..i].contains(stage) {
                return Err(violation(
                    &at("from"),
                    format!("pretrain stage '{stage}' appears twice in the chain"),
                ));
            }
        }
        if d.transfer != Transfer::Scratch && d.from.is_none() {
            let word = if d.transfer == Transfer::Frozen {
                "frozen"
            } else {
                "finetune"
            };
            return Err(violation(
                &at("transfer"),
                format!(
                    "transfer = \"{word}\" needs a pretraining stage, but from = \"none\" (hint: set from = \"NAME\" of a [pretrain.NAME] stage, or use transfer = \"scratch\")"
                ),
            ));
        }
        if let Layers::First(k) = d.layers {
            // layers = 0 transfers the embeddings alone. A scratch run ignores `layers`;
            // normalisation resets it.
            if d.transfer != Transfer::Scratch && k > exp.encoder.depth {
                return Err(violation(
                    &at("layers"),
                    format!("{k} exceeds encoder.depth = {}", exp.encoder.depth),
                ));
            }
        }
        if d.epochs < 1 {
            return Err(violation(&at("epochs"), "must be at least 1"));
        }
        check_seq_len(exp, "downstream", name, d.seq_len)?;
        check_batch("downstream", name, d.batch_size, d.seq_len)?;
        check_optimizer("downstream", name, &d.optimizer)?;
        if let Some(p) = &d.probe {
            if p.epochs == Some(0) {
                return Err(violation(
                    &["downstream", name, "probe", "epochs"],
                    "must be at least 1",
                ));
            }
            if let Some(lr) = p.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
                return Err(violation(
                    &["downstream", name, "probe", "lr"],
                    format!("{lr} is not a positive learning rate"),
                ));
            }
        }
    }
    Ok(())
}

fn data_hint(exp: &Experiment, name: &str, corpora_too: bool) -> Hint {
    let mut names: Vec<&String> = exp.dataset.keys().collect();
    if corpora_too {
        names.extend(exp.corpus.keys());
    }
    Hint::closest(name, &names)
}

/// Settings that are valid but probably not what was meant, over all grid points of a sweep
/// (each reported once): segment embeddings without pair input, pretraining no stage uses.
pub fn warnings<'e>(points: impl IntoIterator<Item = &'e Experiment> + Clone) -> Vec<Violation> {
    let mut out = Vec::new();
    let pair_input = |exp: &Experiment| {
        exp.downstream
            .values()
            .any(|d| d.task == DownstreamTask::Pair)
            || exp
                .pretrain
                .values()
                .any(|p| matches!(p.task, PretrainTask::Nsp | PretrainTask::Sop))
    };
    if points
        .clone()
        .into_iter()
        .any(|e| e.embeddings.segment && !pair_input(e))
    {
        out.push(violation(
            &["embeddings", "segment"],
            "segment embeddings matter only for pair input (a pair downstream task or nsp/sop pretraining)",
        ));
    }
    let mut unused: Vec<String> = Vec::new();
    for exp in points.clone() {
        for name in exp.pretrain.keys() {
            if !unused.contains(name) {
                unused.push(name.clone());
            }
        }
    }
    for exp in points {
        unused.retain(|name| {
            !exp.downstream
                .values()
                .any(|d| d.transfer != Transfer::Scratch && d.from.names().contains(name))
        });
    }
    for name in unused {
        out.push(violation(
            &["pretrain", &name],
            "no downstream stage starts from it (through `from`), so it will not run",
        ));
    }
    out
}
