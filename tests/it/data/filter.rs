//! Filters: each one alone, their order and reports, CJK/Latin shares, config errors.

use embedlab::config::FilterConfig;
use embedlab::data::filter::{Filters, cjk_share, filter_corpus, latin_share, normalized_key};
use embedlab::data::{Example, read_text};
use std::path::Path;

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn run(cfg: FilterConfig, input: &[&str]) -> (Vec<String>, Vec<(String, usize)>) {
    let (out, report) = Filters::new(&cfg)
        .unwrap()
        .apply_corpus(lines(input))
        .unwrap();
    assert_eq!(report.kept, out.len());
    assert_eq!(report.kept + report.removed_total(), input.len());
    (out, report.removed)
}

fn removed(name: &str, n: usize) -> Vec<(String, usize)> {
    vec![(name.to_string(), n)]
}

#[test]
fn length_filters() {
    let input = ["a", "abc def", "abcdefghij klm", "one two three four"];
    let (out, r) = run(
        FilterConfig {
            min_chars: Some(3),
            ..Default::default()
        },
        &input,
    );
    assert_eq!((out.len(), r), (3, removed("min_chars", 1)));
    let (out, r) = run(
        FilterConfig {
            max_chars: Some(7),
            ..Default::default()
        },
        &input,
    );
    assert_eq!(
        (out, r),
        (lines(&["a", "abc def"]), removed("max_chars", 2))
    );
    let (out, r) = run(
        FilterConfig {
            min_words: Some(2),
            max_words: Some(3),
            ..Default::default()
        },
        &input,
    );
    assert_eq!(out, lines(&["abc def", "abcdefghij klm"]));
    assert_eq!(r, vec![("min_words".into(), 1), ("max_words".into(), 1)]);
    // Characters, not bytes.
    let (out, _) = run(
        FilterConfig {
            max_chars: Some(3),
            ..Default::default()
        },
        &["天地人", "天地人和"],
    );
    assert_eq!(out, lines(&["天地人"]));
}

#[test]
fn dedup_exact_and_normalized() {
    let input = [
        "Hello, world!",
        "Hello, world!",
        "hello world",
        "HELLO -- World",
        "other",
    ];
    let (out, r) = run(
        FilterConfig {
            dedup: true,
            ..Default::default()
        },
        &input,
    );
    assert_eq!((out.len(), r), (4, removed("dedup", 1)));
    let (out, r) = run(
        FilterConfig {
            dedup_normalized: true,
            ..Default::default()
        },
        &input,
    );
    assert_eq!(
        (out, r),
        (
            lines(&["Hello, world!", "other"]),
            removed("dedup_normalized", 3)
        )
    );
    assert_eq!(normalized_key("  HELLO -- World! "), "hello world");
}

#[test]
fn shares() {
    assert_eq!(cjk_share("天地玄黄，宇宙洪荒。"), 1.0);
    assert_eq!(cjk_share("我爱北京 Beijing 天安门"), 0.5);
    assert_eq!(latin_share("Résumé café"), 1.0);
    assert_eq!(cjk_share("   "), 0.0);
    assert!((latin_share("Hello 世界") - 5.0 / 7.0).abs() < 1e-12);
}

#[test]
fn mixed_script_corpus_by_cjk_share() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/mixed_script.txt");
    let text = read_text(&fixture).unwrap().lines;
    let input: Vec<&str> = text.iter().map(String::as_str).collect();
    let (out, r) = run(
        FilterConfig {
            min_cjk_share: Some(0.5),
            ..Default::default()
        },
        &input,
    );
    assert_eq!(
        out,
        lines(&[
            "天地玄黄，宇宙洪荒。",
            "我爱北京 Beijing 天安门",
            "東京は日本の首都です。",
            "한국어 문장입니다"
        ])
    );
    assert_eq!(r, removed("min_cjk_share", 4));
    let (out, _) = run(
        FilterConfig {
            min_cjk_share: Some(0.9),
            ..Default::default()
        },
        &input,
    );
    assert_eq!(
        out,
        lines(&[
            "天地玄黄，宇宙洪荒。",
            "東京は日本の首都です。",
            "한국어 문장입니다"
        ])
    );
    let (out, r) = run(
        FilterConfig {
            min_latin_share: Some(0.9),
            ..Default::default()
        },
        &input,
    );
    assert_eq!(
        out,
        lines(&[
            "The quick brown fox jumps over the lazy dog.",
            "Résumé of the café déjà vu"
        ])
    );
    assert_eq!(r, removed("min_latin_share", 6));
}

#[test]
fn regex_include_exclude() {
    let input = [
        "And God said",
        "and the earth",
        "Let there be light",
        "And it was so",
    ];
    let (out, r) = run(
        FilterConfig {
            include: Some("^And ".into()),
            ..Default::default()
        },
        &input,
    );
    assert_eq!(
        (out, r),
        (
            lines(&["And God said", "And it was so"]),
            removed("include", 2)
        )
    );
    let (out, r) = run(
        FilterConfig {
            include: Some("(?i)^and".into()),
            exclude: Some("God|light".into()),
            ..Default::default()
        },
        &input,
    );
    assert_eq!(out, lines(&["and the earth", "And it was so"]));
    assert_eq!(r, vec![("include".into(), 1), ("exclude".into(), 1)]);
}

#[test]
fn fraction_is_exact_seeded_and_ordered() {
    let input: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
    let refs: Vec<&str> = input.iter().map(String::as_str).collect();
    let cfg = |seed| FilterConfig {
        fraction: Some(0.25),
        fraction_seed: seed,
        ..Default::default()
    };
    let (a, r) = run(cfg(7), &refs);
    let (b, _) = run(cfg(7), &refs);
    let (c, _) = run(cfg(8), &refs);
    assert_eq!(a.len(), 25);
    assert_eq!(r, removed("fraction", 75));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let pos: Vec<usize> = a
        .iter()
        .map(|l| input.iter().position(|x| x == l).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "order kept");
}

#[test]
fn caps_and_order_of_filters() {
    let input = ["x", "aaa", "aaa", "bbb", "ccc", "ddd"];
    let cfg = FilterConfig {
        min_chars: Some(2),
        dedup: true,
        max_examples: Some(2),
        ..Default::default()
    };
    let (out, r) = run(cfg, &input);
    assert_eq!(out, lines(&["aaa", "bbb"]));
    assert_eq!(
        r,
        vec![
            ("min_chars".into(), 1),
            ("dedup".into(), 1),
            ("max_examples".into(), 2)
        ]
    );
}

fn ex(text: &str, label: &str) -> Example {
    Example {
        text: text.into(),
        text_pair: None,
        label: label.into(),
    }
}

#[test]
fn dataset_splits_dedup_across_splits_and_cap_per_split() {
    let train = vec![
        ex("one", "a"),
        ex("two", "b"),
        ex("three", "a"),
        ex("four", "b"),
    ];
    let dev = vec![ex("one", "a"), ex("five", "b")];
    let test = vec![ex("six", "a"), ex("seven", "a")];
    let cfg = FilterConfig {
        dedup: true,
        max_train: Some(3),
        max_test: Some(1),
        ..Default::default()
    };
    let ([tr, dv, ts], report) = Filters::new(&cfg)
        .unwrap()
        .apply_splits([train, dev, test])
        .unwrap();
    assert_eq!(tr.len(), 3);
    assert_eq!(
        dv,
        vec![ex("five", "b")],
        "a dev copy of a train example is removed"
    );
    assert_eq!(ts, vec![ex("six", "a")]);
    assert_eq!(
        report.summary(),
        "kept 5; removed dedup 1, max_train 1, max_test 1"
    );
    // fraction only subsamples train.
    let cfg = FilterConfig {
        fraction: Some(0.5),
        ..Default::default()
    };
    let ([tr, dv, _], _) = Filters::new(&cfg)
        .unwrap()
        .apply_splits([vec![ex("a", "x"); 4], vec![ex("b", "x"); 4], vec![]])
        .unwrap();
    assert_eq!((tr.len(), dv.len()), (2, 4));
}

#[test]
fn pairs_filter_on_both_texts() {
    let e = Example {
        text: "word".into(),
        text_pair: Some("a long definition".into()),
        label: "1".into(),
    };
    let cfg = FilterConfig {
        min_words: Some(3),
        ..Default::default()
    };
    let ([tr, _, _], _) = Filters::new(&cfg)
        .unwrap()
        .apply_splits([vec![e], vec![], vec![]])
        .unwrap();
    assert_eq!(tr.len(), 1);
}

#[test]
fn errors() {
    let e = filter_corpus(
        "kjv",
        lines(&["short"]),
        &FilterConfig {
            min_chars: Some(20),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "kjv: nothing left after filtering (kept 0; removed min_chars 1) (hint: loosen the filter)"
    );
    let bad = [
        (
            FilterConfig {
                include: Some("(".into()),
                ..Default::default()
            },
            "filter.include: invalid regular expression \"(\"",
        ),
        (
            FilterConfig {
                min_chars: Some(5),
                max_chars: Some(2),
                ..Default::default()
            },
            "min_chars (5) is greater than max_chars (2)",
        ),
        (
            FilterConfig {
                min_words: Some(5),
                max_words: Some(2),
                ..Default::default()
            },
            "min_words (5) is greater",
        ),
        (
            FilterConfig {
                fraction: Some(0.0),
                ..Default::default()
            },
            "fraction = 0: expected a number in (0, 1]",
        ),
        (
            FilterConfig {
                min_cjk_share: Some(1.5),
                ..Default::default()
            },
            "min_cjk_share = 1.5",
        ),
        (
            FilterConfig {
                max_train: Some(5),
                ..Default::default()
            },
            "max_train applies to datasets",
        ),
    ];
    for (cfg, want) in bad {
        let e = Filters::new(&cfg)
            .and_then(|f| f.apply_corpus(lines(&["x"])))
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}\n  expected: {want}");
    }
    let e = Filters::new(&FilterConfig {
        max_examples: Some(5),
        ..Default::default()
    })
    .unwrap()
    .apply_splits([vec![], vec![], vec![]])
    .unwrap_err()
    .to_string();
    assert!(e.contains("max_examples applies to corpora"), "{e}");
}

#[test]
fn report_as_metrics() {
    let (_, report) = Filters::new(&FilterConfig {
        dedup: true,
        ..Default::default()
    })
    .unwrap()
    .apply_corpus(lines(&["a", "a", "b"]))
    .unwrap();
    assert_eq!(
        report.metrics("data.kjv."),
        vec![
            ("data.kjv.kept".to_string(), 2.0),
            ("data.kjv.removed.dedup".to_string(), 1.0)
        ]
    );
}
