//! sacrebleu's own BLEU test cases (test/test_bleu.py at 2.6.0), with its expected values and
//! tolerance; the 13a cases were printed by sacrebleu 2.6.0's `Tokenizer13a`.
use super::*;

/// test_bleu.py's `EPSILON`.
const EPSILON: f64 = 1e-8;

/// The README example: three hypotheses, two reference streams.
fn readme_segments(hyps: [&'static str; 3]) -> Vec<(&'static str, Vec<&'static str>)> {
    let refs = [
        ["The dog bit the man.", "The dog had bit the man."],
        ["It was not unexpected.", "No one was surprised."],
        ["The man bit him first.", "The man had bitten the dog."],
    ];
    hyps.into_iter().zip(refs.map(Vec::from)).collect()
}

const README_HYPS: [&str; 3] = [
    "The dog bit the man.",
    "It wasn't surprising.",
    "The man had just bitten him.",
];

/// `sacrebleu.raw_corpus_bleu`: no tokenization, floor smoothing, effective order.
fn raw(floor: f64) -> BleuConfig {
    BleuConfig {
        tokenizer: BleuTokenizer::Untokenized,
        smoothing: Smoothing::Floor(floor),
        effective_order: true,
        ..BleuConfig::default()
    }
}

#[test]
fn corpus_bleu_cases() {
    let default = BleuConfig::default();
    let cases: &[(BleuConfig, [&str; 3], f64)] = &[
        (default.clone(), README_HYPS, 48.530827),
        // Empty hypotheses are scored, not removed.
        (default.clone(), ["", "", ""], 0.0),
        (
            BleuConfig {
                tokenizer: BleuTokenizer::Untokenized,
                ..default.clone()
            },
            README_HYPS,
            49.1919566,
        ),
        (
            BleuConfig {
                smoothing: Smoothing::Off,
                ..default.clone()
            },
            README_HYPS,
            48.530827,
        ),
    ];
    for (config, hyps, want) in cases {
        let got = config.corpus_score_multi(&readme_segments(*hyps)).score;
        assert!((got - want).abs() < EPSILON, "{config:?}: {got} != {want}");
    }
}

#[test]
fn raw_and_effective_order_cases() {
    // (hypotheses, their references, BLEU / 100), all with raw_corpus_bleu(…, 0.01).
    let cases: &[(&[&str], &[&str], f64)] = &[
        // No match at any order: 0 (sacrebleu #141).
        (&["this is a test", "another test"], &["ref1", "ref2"], 0.0),
        (&["this is a test"], &["this is a test"], 1.0),
        (&["this is a fest"], &["this is a test"], 0.223606797749979),
        (&["test"], &["a test"], 0.3678794411714425),
        (&["a test"], &["a test"], 1.0),
        (&["a little test"], &["a test"], 0.03218297948685433),
    ];
    for (hyps, refs, want) in cases {
        let pairs: Vec<(&str, &str)> = hyps.iter().copied().zip(refs.iter().copied()).collect();
        let got = raw(0.01).corpus_score(&pairs).score / 100.0;
        assert!((got - want).abs() < EPSILON, "{pairs:?}: {got} != {want}");
    }
}

#[test]
fn statistics_and_offset() {
    let pair = [(
        "am I am a character sequence",
        "I am a symbol string sequence a a",
    )];
    let got = raw(0.01).corpus_score(&pair);
    assert_eq!(got.counts, [4.0, 2.0, 1.0, 0.0]);
    assert_eq!(got.totals, [6.0, 5.0, 4.0, 3.0]);
    // test_offset: a floor of 0 gives 0, sacrebleu's default floor (0.1) 0.1555722182.
    assert!((raw(0.0).corpus_score(&pair).score / 100.0).abs() < EPSILON);
    let with_offset = raw(0.1).corpus_score(&pair).score / 100.0;
    assert!(
        (with_offset - 0.1555722182).abs() < EPSILON,
        "{with_offset}"
    );
}

#[test]
fn scoring_from_statistics() {
    // test_scoring: compute_bleu's own default smoothing is `none`.
    let stats = BleuStats {
        sys_len: 11,
        ref_len: 11,
        correct: vec![9, 7, 5, 3],
        total: vec![10, 8, 6, 4],
    };
    let config = BleuConfig {
        smoothing: Smoothing::Off,
        ..BleuConfig::default()
    };
    let got = config.score_stats(&stats).score / 100.0;
    assert!((got - 0.8375922397).abs() < EPSILON, "{got}");
    // test_degenerate_statistics: floor smoothing, each exactly 0.
    // (correct, total, sys_len, ref_len, floor)
    type Degenerate = ([u64; 4], [u64; 4], u64, u64, f64);
    let degenerate: &[Degenerate] = &[
        ([0, 0, 0, 0], [4, 4, 2, 1], 0, 1, 0.0),
        ([0, 0, 0, 0], [10, 11, 12, 0], 14, 10, 0.0),
        ([0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.0),
        ([6, 5, 4, 0], [6, 5, 4, 3], 6, 6, 0.0),
        ([0, 0, 0, 0], [0, 0, 0, 0], 0, 0, 0.1),
        ([0, 0, 0, 0], [0, 0, 0, 0], 1, 5, 0.01),
    ];
    for (correct, total, sys_len, ref_len, floor) in degenerate {
        let stats = BleuStats {
            sys_len: *sys_len,
            ref_len: *ref_len,
            correct: correct.to_vec(),
            total: total.to_vec(),
        };
        let config = BleuConfig {
            smoothing: Smoothing::Floor(*floor),
            ..BleuConfig::default()
        };
        assert_eq!(config.score_stats(&stats).score, 0.0, "{stats:?}");
    }
}

#[test]
fn max_ngram_order_cases() {
    let want = ["77.65", "60.50", "53.93", "48.53", "46.14", "43.28"];
    for (order, want) in (1..=6).zip(want) {
        let config = BleuConfig {
            max_ngram_order: order,
            ..BleuConfig::default()
        };
        let got = config
            .corpus_score_multi(&readme_segments(README_HYPS))
            .score;
        assert_eq!(format!("{got:.2}"), want, "order {order}");
    }
}

#[test]
fn tokenizer_13a_cases() {
    let cases = [
        ("Hello, world!", "Hello , world !"),
        ("1,000.50 dollars.", "1,000.50 dollars ."),
        ("a-b 5-6 x-", "a-b 5 - 6 x-"),
        ("It's (fine)", "It's ( fine )"),
        ("&quot;x&quot; &amp;amp;", "\" x \" & amp ;"),
        ("a..b", "a . . b"),
        ("3.14, 2,5.", "3.14 , 2,5 ."),
        ("tab\there\u{1c}x", "tab here x"),
        ("<skipped>ok", "ok"),
        ("line-\nbreak\nnext", "linebreak next"),
    ];
    for (input, want) in cases {
        assert_eq!(tokenize_13a(input), want, "{input:?}");
    }
}

#[test]
fn signatures_are_sacrebleus() {
    assert_eq!(BleuConfig::default().signature(Some(1)), BLEU_SIGNATURE);
    assert!(BLEU_SIGNATURE.ends_with(SACREBLEU_VERSION));
    // Printed by sacrebleu 2.6.0's `BLEU(smooth_method='floor', effective_order=True,
    // lowercase=True).get_signature()` and `BLEU(smooth_method='add-k')`.
    let floor = BleuConfig {
        lowercase: true,
        smoothing: Smoothing::Floor(0.1),
        effective_order: true,
        ..BleuConfig::default()
    };
    assert_eq!(
        floor.signature(Some(1)),
        "nrefs:1|case:lc|eff:yes|tok:13a|smooth:floor[0.10]|version:2.6.0"
    );
    let add_k = BleuConfig {
        smoothing: Smoothing::AddK(1.0),
        ..BleuConfig::default()
    };
    assert_eq!(
        add_k.signature(None),
        "nrefs:var|case:mixed|eff:no|tok:13a|smooth:add-k[1.00]|version:2.6.0"
    );
}
