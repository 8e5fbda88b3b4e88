//! Beam and greedy search on scripted models, with expected results worked out by hand from
//! HF's algorithm (the derivation beside each case). tests/it/generation/decode.rs checks the
//! same cases, and many more, against tests/reference/beam_reference.py.
//!
//! Tokens: 0 = the prompt token, 1 = EOS, 2 = a, 3 = b, 4 = c, 5 = d. The scripted values are
//! dyadic fractions, exact in f32 and f64, so the expected sums below are exact; they need not be
//! normalised (the search only adds and compares them).
use super::*;
use crate::decode::{Call, ScriptedModel, generate, greedy_search};

const EOS: u32 = 1;
const PROMPT: [u32; 1] = [0];

fn config(num_beams: usize, max_new_tokens: usize) -> GenerationConfig {
    GenerationConfig {
        num_beams,
        max_new_tokens,
        eos_token_id: Some(EOS),
        ..GenerationConfig::default()
    }
}

/// Values for tokens [0, EOS, a, b, c, d].
fn row(values: [f32; 6]) -> Vec<f32> {
    values.to_vec()
}

fn best(model: &mut ScriptedModel, config: &GenerationConfig) -> Hypothesis {
    beam_search(model, &[PROMPT.to_vec()], config).unwrap()[0][0].clone()
}

/// Case A: beam search finds "b EOS", which greedy search misses.
pub(crate) fn case_a() -> ScriptedModel {
    ScriptedModel::table(row([-5.0, -5.0, -5.0, -5.0, -5.0, -5.0]))
        .with(&[0], row([-7.0, -4.0, -0.5, -0.75, -5.0, -6.0]))
        .with(&[0, 2], row([-7.0, -2.0, -3.0, -3.5, -4.0, -4.5]))
        .with(&[0, 3], row([-5.0, -0.25, -5.0, -5.0, -5.0, -5.0]))
}

#[test]
fn beam_search_beats_greedy() {
    // Greedy: a (-0.5), then EOS (-2.0): [a, EOS], sum -2.5, score -2.5 / 2 = -1.25.
    let greedy = greedy_search(&mut case_a(), &[PROMPT.to_vec()], &config(1, 3)).unwrap();
    assert_eq!(greedy[0].tokens, [2, EOS]);
    assert_eq!((greedy[0].sum_logprobs, greedy[0].score), (-2.5, -1.25));
    // Two beams. Step 1, from the first beam only: a -0.5, b -0.75, EOS -4 (rank 2, not among
    // the first two ranks, so not finished), c -5. Running: a, b.
    // Step 2: b+EOS -1.0 (rank 0, finished: -1.0 / 2 = -0.5), a+EOS -2.5 (rank 1, finished:
    // -1.25), a+a -3.5, a+b -4.0. The finished set is full; running: a a (-3.5), a b (-4.0).
    // Done: the best running beam at length 2, -3.5 / 2 = -1.75, is not above -1.25.
    let mut model = case_a();
    let h = best(&mut model, &config(2, 3));
    assert_eq!(h.tokens, [3, EOS]);
    assert_eq!((h.sum_logprobs, h.score), (-1.0, -0.5));
    // Two calls: the prompt once, then both beams, each extending row 0 of the first call.
    assert_eq!(model.calls.len(), 2);
    let call = |sequences: Vec<Vec<u32>>, parents| Call { sequences, parents };
    assert_eq!(model.calls[0], call(vec![vec![0]], None));
    assert_eq!(
        model.calls[1],
        call(vec![vec![0, 2], vec![0, 3]], Some(vec![0, 0]))
    );
    // Both hypotheses, best first.
    let both = beam_search(
        &mut case_a(),
        &[PROMPT.to_vec()],
        &GenerationConfig {
            num_return_sequences: 2,
            ..config(2, 3)
        },
    )
    .unwrap();
    let tokens: Vec<_> = both[0].iter().map(|h| h.tokens.clone()).collect();
    assert_eq!(tokens, [vec![3, EOS], vec![2, EOS]]);
    assert_eq!(both[0][1].score, -1.25);
}

/// Case B: an EOS below the first `num_beams` ranks is dropped, even where it would win.
pub(crate) fn case_b() -> ScriptedModel {
    ScriptedModel::table(row([-4.5, -2.0, -2.5, -3.0, -3.5, -4.0]))
        .with(&[0], row([-5.0, -0.375, -0.125, -0.25, -3.0, -4.0]))
}

#[test]
fn eos_outside_the_top_ranks_does_not_finish() {
    // Step 1: a -0.125, b -0.25, EOS -0.375 at rank 2 (of 4): not a hypothesis, although its
    // score (-0.375) would beat everything below. Running: a, b.
    // Step 2 = max_new_tokens: a+EOS -2.125, b+EOS -2.25 are the first two ranks, and at the
    // last step the first two ranks finish whatever their token: -1.0625 and -1.125.
    let h = best(&mut case_b(), &config(2, 2));
    assert_eq!(h.tokens, [2, EOS]);
    assert_eq!((h.sum_logprobs, h.score), (-2.125, -1.0625));
}

/// Case C: the length penalty decides between a short and a long hypothesis.
pub(crate) fn case_c() -> ScriptedModel {
    ScriptedModel::table(row([-2.4375, -1.5, -2.0, -2.125, -2.25, -2.375]))
        .with(&[0], row([-5.0, -1.0, -0.5, -2.0, -3.0, -4.0]))
        .with(
            &[0, 2],
            row([-3.25, -0.625, -3.0625, -3.125, -0.25, -3.1875]),
        )
        .with(
            &[0, 2, 4],
            row([-2.4375, -0.5, -2.0, -2.125, -2.25, -2.375]),
        )
}

#[test]
fn length_penalty_changes_the_result() {
    // Step 1: a -0.5 (rank 0), EOS -1.0 (rank 1: finished, [EOS] scores -1.0 for any penalty),
    // b -2.0, c -3.0. Running: a, b.
    // Step 2: a c -0.75, a EOS -1.125 (rank 1: finished), b EOS -3.5, a a -3.5625.
    // Step 3 = max_new_tokens, from a c: a c EOS -1.25 and a c a -2.75 finish.
    // Penalty 1: [EOS] -1.0, [a EOS] -1.125 / 2 = -0.5625; after step 2 the best running beam
    // (-0.75 / 2) can still beat -1.0, so step 3 runs: [a c EOS] -1.25 / 3 = -0.41667 wins.
    let h = best(&mut case_c(), &config(2, 3));
    assert_eq!(h.tokens, [2, 4, EOS]);
    assert_eq!(h.sum_logprobs, -1.25);
    assert!((h.score - -1.25 / 3.0).abs() < 1e-15);
    // Penalty 0 (raw sums): [EOS] -1.0 beats [a EOS] -1.125 and [a c EOS] -1.25.
    let raw = GenerationConfig {
        length_penalty: 0.0,
        ..config(2, 3)
    };
    let h = best(&mut case_c(), &raw);
    assert_eq!(h.tokens, [EOS]);
    assert_eq!((h.sum_logprobs, h.score), (-1.0, -1.0));
}

/// Case D: a model that repeats a.
pub(crate) fn case_d() -> ScriptedModel {
    ScriptedModel::table(row([-5.0, -4.0, -0.125, -1.0, -2.0, -3.0]))
}

#[test]
fn no_repeat_ngram_size_changes_the_result() {
    // Without bans: a a a a, sum -0.5, score -0.125.
    let h = greedy_search(&mut case_d(), &[PROMPT.to_vec()], &config(1, 4)).unwrap();
    assert_eq!(h[0].tokens, [2, 2, 2, 2]);
    assert_eq!(h[0].score, -0.125);
    // Bigrams banned, the prompt included: after [0 a] the bigram (a, a) is new, so a; after
    // [0 a a] it exists, so a is banned and b (-1.0) follows; after [0 a a b] nothing starts
    // with b, so a again: a a b a, sum -1.375, score -0.34375.
    let bigrams = GenerationConfig {
        no_repeat_ngram_size: 2,
        ..config(1, 4)
    };
    let h = greedy_search(&mut case_d(), &[PROMPT.to_vec()], &bigrams).unwrap();
    assert_eq!(h[0].tokens, [2, 2, 3, 2]);
    assert_eq!((h[0].sum_logprobs, h[0].score), (-1.375, -0.34375));
}

#[test]
fn greedy_equals_one_beam() {
    let configs = [
        config(1, 3),
        config(1, 2),
        GenerationConfig {
            length_penalty: 0.0,
            ..config(1, 3)
        },
        GenerationConfig {
            no_repeat_ngram_size: 2,
            ..config(1, 4)
        },
    ];
    for make in [case_a, case_b, case_c, case_d] {
        for c in &configs {
            let greedy = greedy_search(&mut make(), &[PROMPT.to_vec()], c).unwrap();
            let beam = beam_search(&mut make(), &[PROMPT.to_vec()], c).unwrap();
            assert_eq!(vec![greedy[0].clone()], beam[0], "{c:?}");
            // `generate` dispatches num_beams = 1 to greedy search.
            let generated = generate(&mut make(), &[PROMPT.to_vec()], c).unwrap();
            assert_eq!(generated, beam);
        }
    }
}

#[test]
fn prompts_in_one_batch_decode_as_alone() {
    // Case A's table, plus prompt [5] whose every row is the fallback.
    let prompts = [vec![0], vec![5], vec![0, 3]];
    let c = config(2, 3);
    let together = beam_search(&mut case_a(), &prompts, &c).unwrap();
    for (p, t) in prompts.iter().zip(&together) {
        assert_eq!(
            &beam_search(&mut case_a(), std::slice::from_ref(p), &c).unwrap()[0],
            t
        );
    }
    // [0, 3] ends at once with EOS: its first step's ranks are EOS (-0.25) and ties at -5,
    // broken by token id (0, then a).
    assert_eq!(together[2][0].tokens, [EOS]);
}

#[test]
fn early_stopping_when_full_stops_at_the_first_full_set() {
    // Case C with `WhenFull`: after step 2 the set {[EOS] -1.0, [a EOS] -0.5625} is full, so the
    // search stops before [a c EOS] is found.
    let c = GenerationConfig {
        early_stopping: EarlyStopping::WhenFull,
        ..config(2, 3)
    };
    let h = best(&mut case_c(), &c);
    assert_eq!(h.tokens, [2, EOS]);
    assert_eq!(h.score, -0.5625);
}

#[test]
fn bad_settings_and_model_answers_are_errors() {
    let err = |c: GenerationConfig| beam_search(&mut case_a(), &[vec![0]], &c).unwrap_err();
    let msg = err(GenerationConfig {
        num_return_sequences: 3,
        ..config(2, 3)
    })
    .to_string();
    assert!(msg.contains("num_return_sequences = 3"), "{msg}");
    let msg = err(GenerationConfig {
        eos_token_id: Some(6),
        ..config(2, 3)
    })
    .to_string();
    assert!(msg.contains("eos_token_id = 6"), "{msg}");
    let msg = err(config(2, 0)).to_string();
    assert!(msg.contains("max_new_tokens = 0"), "{msg}");
    let empty = beam_search(&mut case_a(), &[vec![0], vec![]], &config(2, 3)).unwrap_err();
    assert!(
        matches!(empty, DecodeError::EmptyPrompt { item: 1 }),
        "{empty}"
    );
    let mut narrow = ScriptedModel::from_fn(6, |_| vec![0.0; 5]);
    let shape = greedy_search(&mut narrow, &[vec![0]], &config(1, 3)).unwrap_err();
    assert!(
        matches!(shape, DecodeError::Shape { got: 5, .. }),
        "{shape}"
    );
    let mut nan = ScriptedModel::from_fn(6, |_| vec![f32::NAN; 6]);
    let nan = beam_search(&mut nan, &[vec![0]], &config(2, 3)).unwrap_err();
    assert!(
        matches!(nan, DecodeError::NotFinite { token: 0, .. }),
        "{nan}"
    );
}

#[test]
fn padded_fills_after_eos() {
    let hyps = [
        Hypothesis::new(vec![3, EOS], -1.0, 1.0),
        Hypothesis::new(vec![2, 2, 2], -1.0, 1.0),
    ];
    assert_eq!(
        crate::decode::padded(&hyps, 9),
        [vec![3, EOS, 9], vec![2, 2, 2]]
    );
}
