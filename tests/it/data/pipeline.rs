//! The quickstart's data path on the shipped files: corpus and dataset loading, tokenizer fitting,
//! items, batches, MLM masking.

use embedlab::config::{CorpusConfig, DatasetConfig, FilterConfig, TokenizerConfig, TokenizerKind};
use embedlab::data::{
    BatchConfig, Batcher, Labels, MlmConfig, class_items, corpus_items, derive_seed, load_corpus,
    load_dataset, mask_tokens, tokenizer,
};
use std::path::Path;

#[test]
fn quickstart_data_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = CorpusConfig {
        document: Default::default(),
        path: "data/kjv.txt.gz".into(),
        filter: FilterConfig {
            min_chars: Some(20),
            max_chars: Some(600),
            dedup: true,
            max_examples: Some(3000),
            ..Default::default()
        },
    };
    let (lines, report) = load_corpus(&corpus, root).unwrap();
    assert_eq!(lines.len(), 3000);
    assert_eq!(
        report.removed_by("max_examples")
            + 3000
            + report.removed_by("dedup")
            + report.removed_by("min_chars"),
        31102
    );
    let data = DatasetConfig {
        document: Default::default(),
        path: Some("data/wordnet/supersense.tsv.gz".into()),
        train: None,
        dev: None,
        test: None,
        text: "text".into(),
        text_pair: None,
        label: "label".into(),
        split: Some("split".into()),
        ratios: None,
        split_seed: 0,
        filter: FilterConfig {
            max_train: Some(2000),
            ..Default::default()
        },
        unseen_labels: Default::default(),
        question: "question".into(),
        context: "context".into(),
        answer: "answer".into(),
        answer_start: "answer_start".into(),
    };
    let (ds, _) = load_dataset(&data, root).unwrap();
    assert_eq!(ds.train.len(), 2000);

    let mut texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    texts.extend(ds.train_texts());
    let cfg = TokenizerConfig {
        kind: TokenizerKind::Wordpiece,
        vocab_size: 2000,
        ..Default::default()
    };
    let tok = tokenizer::fit(&cfg, &texts).unwrap();
    assert_eq!(tok.vocab_size(), 2000);
    let test_texts: Vec<&str> = ds.test.iter().map(|e| e.text.as_str()).collect();
    let stats = tok.stats(&test_texts).unwrap();
    assert!(stats.unk_rate < 0.01 && stats.avg_len > 5.0, "{stats:?}");

    let pretrain = corpus_items(&lines, &tok).unwrap();
    let batcher = Batcher::new(
        &pretrain,
        BatchConfig {
            buckets: vec![32, 64],
            shuffle: true,
            seed: 1,
            ..BatchConfig::new(32, 128)
        },
    )
    .unwrap();
    let mlm = MlmConfig {
        max_predictions: Some(MlmConfig::default().max_predictions_for(32, 128)),
        ..Default::default()
    };
    for (step, batch) in batcher.epoch(0).take(5).enumerate() {
        assert!(batcher.seq_lens().contains(&batch.seq_len));
        let m = mask_tokens(
            &batch,
            tok.vocab_size(),
            &mlm,
            derive_seed(1, &[0, step as u64]),
        )
        .unwrap();
        assert_eq!(m.masked_positions.len(), mlm.max_predictions.unwrap());
    }

    let train = class_items(&ds.train, &tok, &ds.labels).unwrap();
    let b = Batcher::new(&train, BatchConfig::new(64, 64)).unwrap();
    let first = b.epoch(0).next().unwrap();
    let Labels::Class(labels) = &first.labels else {
        panic!("class labels")
    };
    assert!(labels.iter().all(|&l| (0..45).contains(&l)));
}
