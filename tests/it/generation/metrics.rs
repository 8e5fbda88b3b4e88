//! BLEU, chrF and ROUGE-L against the reference packages themselves: 200 (hypothesis, reference)
//! pairs made here from a seeded RNG (perturbed copies of reference sentences: deletions, swaps,
//! substitutions, case changes, punctuation, whitespace, entities, numbers, non-ASCII text) are
//! scored by `embedlab::metrics` and by sacrebleu and rouge-score
//! (tests/reference/gen_metrics_reference.py). Corpus BLEU, corpus chrF and mean ROUGE-L must
//! agree to 1e-6, and so must every pair's sentence BLEU, sentence chrF and ROUGE-L; the 13a
//! tokenization of all 400 strings and BLEU's n-gram counts must be identical.
//!
//! Skips (saying why) when python3 cannot import sacrebleu and rouge_score, unless
//! `EMBEDLAB_REQUIRE_EXTERNAL=1`; the versions are pinned in scripts/requirements-test.txt and
//! the test fails when the installed sacrebleu is not the one `SACREBLEU_VERSION` names.
use embedlab::metrics::{
    BLEU_SIGNATURE, BleuConfig, ChrfConfig, SACREBLEU_VERSION, corpus_bleu, corpus_chrf,
    corpus_rouge_l, rouge_l, tokenize_13a,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Agreement required of every score (BLEU and chrF on their 0–100 scale, ROUGE-L on 0–1).
const TOLERANCE: f64 = 1e-6;
const PAIRS: usize = 200;
const SEED: u64 = 28;

const REFERENCES: &[&str] = &[
    "The dog bit the man.",
    "It was not unexpected.",
    "The man had bitten the dog, and nobody was surprised.",
    "A large part of the budget (about 1,000.50 dollars) went to repairs.",
    "She said: \"We'll meet at 10:30 on the 3rd floor.\"",
    "Prices rose 3-4% in 2019; wages didn't.",
    "Rock &amp; roll never dies &lt;3",
    "Is this the real life? Is this just fantasy?",
    "Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich.",
    "Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
    "a word that names a small domesticated carnivorous mammal",
    "the act of moving something from one place to another",
    "an instrument for measuring temperature",
    "In 1998, the U.S. population was 270,298,524 people.",
    "e-mail me at someone@example.com or call 555-0100.",
    "Café owners—and their customers—disagree about the new rules.",
    "“Curly quotes” and ‘single ones’ are not ASCII.",
    "Tokens_with_underscores and CamelCase words stay whole.",
    "He paid $5.00 for 2 coffees, i.e. $2.50 each.",
    "Well... maybe; maybe not!",
    "Line one\twith a tab and\u{a0}a no-break space.",
    "the quick brown fox jumps over the lazy dog",
    "Numbers like 3.14159 and 2,718 should stay intact, but end.",
    "(parenthesised) [bracketed] {braced} <angled>",
];

const SUBSTITUTES: &[&str] = &[
    "the", "a", "dog", "cat", "man", "was", "not", "1,000", "3.5", "é", "über", "x-ray", "&amp;",
    "it's", "!", "?", "—",
];

const PUNCTUATION: &[&str] = &[
    ".", ",", "!", "?", "\"", "-", "'s", "(", ")", ":", ";", "...",
];

/// A hypothesis from a reference: 0–4 word-level edits, sometimes a spacing change.
fn perturb(rng: &mut ChaCha8Rng, reference: &str) -> String {
    let mut words: Vec<String> = reference.split(' ').map(str::to_string).collect();
    for _ in 0..rng.random_range(0..=4) {
        let i = rng.random_range(0..words.len().max(1));
        match rng.random_range(0..7) {
            0 if words.len() > 1 => {
                words.remove(i);
            }
            1 if i + 1 < words.len() => words.swap(i, i + 1),
            2 if !words.is_empty() => {
                words[i] = SUBSTITUTES[rng.random_range(0..SUBSTITUTES.len())].to_string()
            }
            3 if !words.is_empty() => {
                words[i] = match rng.random_range(0..3) {
                    0 => words[i].to_uppercase(),
                    1 => words[i].to_lowercase(),
                    _ => {
                        let mut c = words[i].chars();
                        c.next().map_or(String::new(), |f| {
                            f.to_uppercase()
                                .chain(c.flat_map(char::to_lowercase))
                                .collect()
                        })
                    }
                }
            }
            4 if !words.is_empty() => {
                let p = PUNCTUATION[rng.random_range(0..PUNCTUATION.len())];
                if rng.random_bool(0.5) {
                    words[i].push_str(p);
                } else {
                    words[i].retain(|c| c.is_alphanumeric());
                }
            }
            5 if !words.is_empty() => {
                let w = words[i].clone();
                words.insert(i, w);
            }
            _ => {}
        }
    }
    let mut out = words.join(" ");
    match rng.random_range(0..10) {
        0 => out = format!("  {out}  "),
        1 => out = out.replace(' ', "\t"),
        2 => out.push_str(" ."),
        _ => {}
    }
    out
}

/// The 200 pairs: mostly perturbed copies, a few exact copies, empty hypotheses and unrelated
/// sentences.
fn pairs() -> Vec<(String, String)> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    (0..PAIRS)
        .map(|i| {
            let reference = REFERENCES[rng.random_range(0..REFERENCES.len())];
            let hypothesis = match i % 25 {
                0 => reference.to_string(),
                1 => String::new(),
                2 => REFERENCES[rng.random_range(0..REFERENCES.len())].to_string(),
                _ => perturb(&mut rng, reference),
            };
            (hypothesis, reference.to_string())
        })
        .collect()
}

/// Whether python3 can import both packages; `Err(why)` when not.
fn packages_available() -> Result<(), String> {
    let out = Command::new("python3")
        .args(["-c", "import sacrebleu, rouge_score"])
        .output()
        .map_err(|e| format!("python3 not runnable: {e}"))?;
    if !out.status.success() {
        return Err("python3 cannot import sacrebleu and rouge_score \
             (bash scripts/test installs scripts/requirements-test.txt)"
            .into());
    }
    Ok(())
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

#[test]
fn bleu_chrf_and_rouge_l_equal_the_reference_packages() {
    if let Err(why) = packages_available() {
        crate::external::skip_or_fail("the generation metrics comparison with sacrebleu", &why);
        return;
    }
    let pairs = pairs();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pairs.json");
    std::fs::write(&input, serde_json::json!({ "pairs": pairs }).to_string()).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/gen_metrics_reference.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let py: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(
        py["versions"]["sacrebleu"], SACREBLEU_VERSION,
        "the installed sacrebleu is not the pinned one (scripts/requirements-test.txt)"
    );
    assert_eq!(py["bleu"]["signature"], BLEU_SIGNATURE);
    assert_eq!(
        py["chrf"]["signature"],
        ChrfConfig::default().signature(Some(1))
    );

    let bleu = corpus_bleu(&pairs);
    let bleu_diff = (bleu.score - f(&py["bleu"]["score"])).abs();
    let as_f64s = |v: &Value| v.as_array().unwrap().iter().map(f).collect::<Vec<_>>();
    assert_eq!(bleu.counts, as_f64s(&py["bleu"]["counts"]));
    assert_eq!(bleu.totals, as_f64s(&py["bleu"]["totals"]));
    assert_eq!(bleu.sys_len, py["bleu"]["sys_len"].as_u64().unwrap());
    assert_eq!(bleu.ref_len, py["bleu"]["ref_len"].as_u64().unwrap());
    let chrf_diff = (corpus_chrf(&pairs) - f(&py["chrf"]["score"])).abs();
    let rouge_diff = (corpus_rouge_l(&pairs) - f(&py["rouge_l_mean_f"])).abs();

    let sentence_bleu = BleuConfig {
        effective_order: true,
        ..BleuConfig::default()
    };
    let chrf = ChrfConfig::default();
    let (mut sb_max, mut sc_max, mut rl_max, mut tokens_equal) = (0.0f64, 0.0f64, 0.0f64, 0);
    for ((h, r), p) in pairs.iter().zip(py["pairs"].as_array().unwrap()) {
        let pair = [(h.as_str(), r.as_str())];
        for (ours, theirs) in [tokenize_13a(h), tokenize_13a(r)]
            .iter()
            .zip(p["tok13a"].as_array().unwrap())
        {
            assert_eq!(ours, theirs.as_str().unwrap(), "13a of {h:?} / {r:?}");
            tokens_equal += 1;
        }
        let sb = (sentence_bleu.corpus_score(&pair).score - f(&p["sentence_bleu"])).abs();
        let sc = (chrf.corpus_score(&pair) - f(&p["sentence_chrf"])).abs();
        let ours = rouge_l(h, r);
        let theirs = p["rouge_l"].as_array().unwrap();
        let rl = [ours.precision, ours.recall, ours.fmeasure]
            .iter()
            .zip(theirs)
            .map(|(a, b)| (a - f(b)).abs())
            .fold(0.0, f64::max);
        assert!(
            sb < TOLERANCE,
            "sentence BLEU of {h:?} / {r:?}: off by {sb}"
        );
        assert!(
            sc < TOLERANCE,
            "sentence chrF of {h:?} / {r:?}: off by {sc}"
        );
        assert!(rl < TOLERANCE, "ROUGE-L of {h:?} / {r:?}: off by {rl}");
        (sb_max, sc_max, rl_max) = (sb_max.max(sb), sc_max.max(sc), rl_max.max(rl));
    }
    eprintln!(
        "{PAIRS} pairs, sacrebleu {} / rouge-score {}: corpus BLEU {:.6} (|diff| {bleu_diff:e}), \
         chrF {:.6} (|diff| {chrf_diff:e}), mean ROUGE-L F {:.6} (|diff| {rouge_diff:e}); per pair \
         max |diff|: sentence BLEU {sb_max:e}, sentence chrF {sc_max:e}, ROUGE-L {rl_max:e}; \
         13a tokenizations equal: {tokens_equal}/{}",
        py["versions"]["sacrebleu"],
        py["versions"]["rouge-score"],
        bleu.score,
        f(&py["chrf"]["score"]),
        f(&py["rouge_l_mean_f"]),
        2 * PAIRS,
    );
    assert!(bleu_diff < TOLERANCE, "corpus BLEU off by {bleu_diff}");
    assert!(chrf_diff < TOLERANCE, "corpus chrF off by {chrf_diff}");
    assert!(rouge_diff < TOLERANCE, "mean ROUGE-L off by {rouge_diff}");
}
