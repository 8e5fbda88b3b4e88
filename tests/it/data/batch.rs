//! Batching shapes, padding rows, buckets, shuffling; MLM, CLM, NSP/SOP inputs; items.

use embedlab::config::{TokenizerConfig, TokenizerKind};
use embedlab::data::tokenizer::{self, CLS_ID, MASK_ID, NUM_SPECIAL, PAD_ID, SEP_ID, UNK_ID};
use embedlab::data::{
    Batch, BatchConfig, Batcher, Example, IGNORE_INDEX, Item, Labels, MlmConfig, PairObjective,
    Target, causal_lm_labels, class_items, encode_pair, encode_single, mask_tokens, sentence_pairs,
    tag_items,
};

const CLS: i64 = CLS_ID as i64;
const SEP: i64 = SEP_ID as i64;
const PAD: i64 = PAD_ID as i64;

#[test]
fn single_rows_pad_and_truncate() {
    let r = encode_single(&[10, 11, 12], 8).unwrap();
    assert_eq!(r.input_ids, [CLS, 10, 11, 12, SEP, PAD, PAD, PAD]);
    assert_eq!(r.attention_mask, [1, 1, 1, 1, 1, 0, 0, 0]);
    assert_eq!(r.token_type_ids, [0; 8]);
    let r = encode_single(&[10, 11, 12, 13, 14], 4).unwrap();
    assert_eq!(r.input_ids, [CLS, 10, 11, SEP]);
    assert!(
        encode_single(&[1], 1)
            .unwrap_err()
            .to_string()
            .contains("seq_len 1 is too short")
    );
}

#[test]
fn pair_rows_have_segments_and_truncate_longest_first() {
    let r = encode_pair(&[10, 11], &[20], 8).unwrap();
    assert_eq!(r.input_ids, [CLS, 10, 11, SEP, 20, SEP, PAD, PAD]);
    assert_eq!(r.token_type_ids, [0, 0, 0, 0, 1, 1, 0, 0]);
    assert_eq!(r.attention_mask, [1, 1, 1, 1, 1, 1, 0, 0]);
    let r = encode_pair(&[10, 11, 12, 13, 14, 15], &[20, 21], 8).unwrap();
    assert_eq!(r.input_ids, [CLS, 10, 11, 12, SEP, 20, 21, SEP]);
}

fn items(n: usize, len: usize) -> Vec<Item> {
    (0..n)
        .map(|i| Item {
            a: vec![10 + i as u32; len + i % 3],
            b: None,
            target: Target::Class((i % 2) as i64),
        })
        .collect()
}

#[test]
fn batcher_shapes_and_padding_rows() {
    let items = items(10, 4);
    let b = Batcher::new(&items, BatchConfig::new(4, 16)).unwrap();
    assert_eq!(b.batches_per_epoch(), 3);
    let batches: Vec<Batch> = b.epoch(0).collect();
    assert_eq!(batches.len(), 3);
    for batch in &batches {
        assert_eq!(batch.shape(), [4, 16]);
        assert_eq!(batch.input_ids.len(), 64);
        assert_eq!(batch.attention_mask.len(), 64);
        assert_eq!(batch.token_type_ids.len(), 64);
        assert_eq!(batch.row_mask.len(), 4);
    }
    let last = &batches[2];
    assert_eq!(last.row_mask, [1, 1, 0, 0]);
    assert_eq!(last.items, [Some(8), Some(9), None, None]);
    assert_eq!(
        last.labels,
        Labels::Class(vec![0, 1, IGNORE_INDEX, IGNORE_INDEX])
    );
    // A padding row is [CLS] [SEP] with those two attended.
    assert_eq!(&last.input_ids[32..35], &[CLS, SEP, PAD]);
    assert_eq!(&last.attention_mask[32..35], &[1, 1, 0]);
    assert_eq!(last.row_weights(), [1.0, 1.0, 0.0, 0.0]);
}

#[test]
fn batcher_buckets_pick_the_smallest_fit() {
    let items = vec![
        Item {
            a: vec![9; 5],
            b: None,
            target: Target::None,
        },
        Item {
            a: vec![9; 20],
            b: None,
            target: Target::None,
        },
        Item {
            a: vec![9; 200],
            b: None,
            target: Target::None,
        },
    ];
    let cfg = BatchConfig {
        buckets: vec![8, 32, 64],
        ..BatchConfig::new(1, 128)
    };
    let b = Batcher::new(&items, cfg).unwrap();
    assert_eq!(b.seq_lens(), [8, 32, 64, 128]);
    let lens: Vec<usize> = b.epoch(0).map(|x| x.seq_len).collect();
    assert_eq!(lens, [8, 32, 128]);
    let bad = BatchConfig {
        buckets: vec![32, 16],
        ..BatchConfig::new(1, 128)
    };
    assert!(
        Batcher::new(&items, bad)
            .unwrap_err()
            .to_string()
            .contains("ascending")
    );
    assert!(Batcher::new(&[], BatchConfig::new(1, 8)).is_err());
    assert!(Batcher::new(&items, BatchConfig::new(0, 8)).is_err());
}

#[test]
fn shuffling_is_seeded_per_epoch() {
    let items = items(50, 3);
    let cfg = |seed| BatchConfig {
        shuffle: true,
        seed,
        ..BatchConfig::new(8, 16)
    };
    let b1 = Batcher::new(&items, cfg(1)).unwrap();
    let b1_again = Batcher::new(&items, cfg(1)).unwrap();
    let b2 = Batcher::new(&items, cfg(2)).unwrap();
    assert_eq!(b1.order(0), b1_again.order(0));
    assert_ne!(b1.order(0), b1.order(1));
    assert_ne!(b1.order(0), b2.order(0));
    let mut seen = b1.order(3);
    seen.sort();
    assert_eq!(seen, (0..50).collect::<Vec<_>>());
    let unshuffled = Batcher::new(&items, BatchConfig::new(8, 16)).unwrap();
    assert_eq!(unshuffled.order(5), (0..50).collect::<Vec<_>>());
}

#[test]
fn token_labels_align_with_specials() {
    let items = vec![Item {
        a: vec![10, 11, 12],
        b: None,
        target: Target::Tokens(vec![3, IGNORE_INDEX, 5]),
    }];
    let batch = Batcher::new(&items, BatchConfig::new(2, 6))
        .unwrap()
        .epoch(0)
        .next()
        .unwrap();
    assert_eq!(
        batch.labels,
        Labels::Tokens(vec![
            IGNORE_INDEX,
            3,
            IGNORE_INDEX,
            5,
            IGNORE_INDEX,
            IGNORE_INDEX,
            IGNORE_INDEX,
            IGNORE_INDEX,
            IGNORE_INDEX,
            IGNORE_INDEX,
            IGNORE_INDEX,
            IGNORE_INDEX
        ])
    );
}

fn corpus_batch(rows: usize, len: usize, seq_len: usize) -> Batch {
    let items: Vec<Item> = (0..rows)
        .map(|r| Item {
            a: (0..len).map(|t| 5 + ((r * 7 + t) % 90) as u32).collect(),
            b: None,
            target: Target::None,
        })
        .collect();
    Batcher::new(&items, BatchConfig::new(rows + 1, seq_len))
        .unwrap()
        .epoch(0)
        .next()
        .unwrap()
}

#[test]
fn mlm_masking_statistics_and_determinism() {
    let batch = corpus_batch(64, 100, 128);
    let cfg = MlmConfig::default();
    let m = mask_tokens(&batch, 100, &cfg, 42).unwrap();
    assert_eq!(
        m,
        mask_tokens(&batch, 100, &cfg, 42).unwrap(),
        "same seed, same masks"
    );
    assert_ne!(m, mask_tokens(&batch, 100, &cfg, 43).unwrap());
    assert_eq!(m.input_ids.len(), batch.input_ids.len());
    assert_eq!(m.labels.len(), batch.input_ids.len());
    let chosen: Vec<usize> = (0..m.labels.len())
        .filter(|&p| m.labels[p] != IGNORE_INDEX)
        .collect();
    // Exactly 15 of each row's 100 maskable tokens; none on specials, padding or the padding row.
    assert_eq!(chosen.len(), 64 * 15);
    for &p in &chosen {
        assert!(batch.input_ids[p] >= NUM_SPECIAL as i64 && batch.attention_mask[p] == 1);
        assert_eq!(m.labels[p], batch.input_ids[p]);
    }
    assert_eq!(
        m.masked_positions,
        chosen.iter().map(|&p| p as i64).collect::<Vec<_>>()
    );
    assert_eq!(
        m.masked_labels,
        chosen
            .iter()
            .map(|&p| batch.input_ids[p])
            .collect::<Vec<_>>()
    );
    let masked = chosen
        .iter()
        .filter(|&&p| m.input_ids[p] == MASK_ID as i64)
        .count() as f64
        / chosen.len() as f64;
    let kept = chosen
        .iter()
        .filter(|&&p| m.input_ids[p] == batch.input_ids[p])
        .count() as f64
        / chosen.len() as f64;
    assert!((masked - 0.8).abs() < 0.05, "[MASK] share {masked}");
    // Kept: 10% kept on purpose plus random replacements that drew the same token (~1%).
    assert!((kept - 0.11).abs() < 0.04, "kept share {kept}");
    assert!(m.input_ids.iter().all(|i| (0..100).contains(i)));
    // Unchosen positions are untouched.
    for p in 0..m.input_ids.len() {
        if m.labels[p] == IGNORE_INDEX {
            assert_eq!(m.input_ids[p], batch.input_ids[p]);
        }
    }
}

#[test]
fn mlm_static_prediction_count() {
    let batch = corpus_batch(4, 20, 32);
    let cfg = MlmConfig {
        max_predictions: Some(5),
        ..MlmConfig::default()
    };
    let m = mask_tokens(&batch, 100, &cfg, 1).unwrap();
    assert_eq!(m.masked_positions.len(), 5);
    assert_eq!(
        m.labels.iter().filter(|&&l| l != IGNORE_INDEX).count(),
        5,
        "cut positions are restored"
    );
    let cfg = MlmConfig {
        max_predictions: Some(cfg.max_predictions_for(5, 32)),
        ..MlmConfig::default()
    };
    let m = mask_tokens(&batch, 100, &cfg, 1).unwrap();
    assert_eq!(m.masked_positions.len(), cfg.max_predictions.unwrap());
    assert_eq!(
        m.masked_labels
            .iter()
            .filter(|&&l| l != IGNORE_INDEX)
            .count(),
        4 * 3
    );
    // Short rows still get one masked token.
    let short = corpus_batch(3, 1, 8);
    let m = mask_tokens(&short, 100, &MlmConfig::default(), 9).unwrap();
    assert_eq!(m.labels.iter().filter(|&&l| l != IGNORE_INDEX).count(), 3);
}

#[test]
fn causal_lm_shifts_by_one() {
    let items = vec![Item {
        a: vec![10, 11],
        b: None,
        target: Target::None,
    }];
    let batch = Batcher::new(&items, BatchConfig::new(2, 6))
        .unwrap()
        .epoch(0)
        .next()
        .unwrap();
    let labels = causal_lm_labels(&batch);
    // Row 0: [CLS] 10 11 [SEP] PAD PAD -> 10 11 [SEP] -100 -100 -100; row 1 is padding.
    assert_eq!(
        &labels[..6],
        &[10, 11, SEP, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX]
    );
    assert_eq!(&labels[6..], &[IGNORE_INDEX; 6]);
}

#[test]
fn nsp_and_sop_pairs() {
    let lines: Vec<u32> = (0..1000).collect();
    let nsp = sentence_pairs(&lines, PairObjective::Nsp, 3).unwrap();
    assert_eq!(nsp.len(), 999);
    assert_eq!(nsp, sentence_pairs(&lines, PairObjective::Nsp, 3).unwrap());
    let positives = nsp.iter().filter(|p| p.label == 1).count();
    assert!((400..600).contains(&positives), "{positives}");
    for p in &nsp {
        if p.label == 1 {
            assert_eq!(p.b, p.a + 1)
        } else {
            assert!(p.b != p.a + 1 && p.b != p.a)
        }
    }
    let sop = sentence_pairs(&lines, PairObjective::Sop, 3).unwrap();
    for p in &sop {
        if p.label == 1 {
            assert_eq!(p.b, p.a + 1)
        } else {
            assert_eq!(p.a, p.b + 1)
        }
    }
    assert!(sentence_pairs(&lines[..2], PairObjective::Nsp, 0).is_err());
    assert!(sentence_pairs(&lines[..1], PairObjective::Sop, 0).is_err());
}

#[test]
fn items_from_examples() {
    let cfg = TokenizerConfig {
        kind: TokenizerKind::Wordpiece,
        vocab_size: 60,
        min_frequency: 1,
        ..Default::default()
    };
    let tok = tokenizer::fit(
        &cfg,
        &[
            "the cat sat on the mat",
            "the dog sat on the log",
            "a catalogue",
        ],
    )
    .unwrap();
    let labels = vec!["animal".to_string(), "thing".to_string()];
    let ex = vec![
        Example {
            text: "the cat".into(),
            text_pair: None,
            label: "animal".into(),
        },
        Example {
            text: "a log".into(),
            text_pair: Some("a mat".into()),
            label: "unseen".into(),
        },
    ];
    let items = class_items(&ex, &tok, &labels).unwrap();
    assert_eq!(items[0].target, Target::Class(0));
    assert_eq!(items[1].target, Target::Class(IGNORE_INDEX));
    assert!(items[1].b.is_some());
    let tags = vec!["O".to_string(), "B-noun.animal".to_string()];
    let tagged = vec![Example {
        text: "the catalogue cat".into(),
        text_pair: None,
        label: "O O B-noun.animal".into(),
    }];
    let items = tag_items(&tagged, &tok, &tags).unwrap();
    let Target::Tokens(t) = &items[0].target else {
        panic!("token targets")
    };
    assert_eq!(t.len(), items[0].a.len());
    assert_eq!(t[0], 0);
    assert_eq!(
        *t.last().unwrap(),
        1,
        "cat is one piece and carries B-noun.animal"
    );
    assert_eq!(
        t.iter().filter(|&&x| x != IGNORE_INDEX).count(),
        3,
        "one label per word"
    );
    assert!(!items[0].a.contains(&UNK_ID));
}
