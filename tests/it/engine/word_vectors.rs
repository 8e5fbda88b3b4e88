//! Static word vectors (skip-gram with negative sampling, trained through the engine) learn
//! something: on KJV verses, the nearest neighbours of "thou" include another archaic pronoun
//! or verb form. Prints the neighbours of a few frequent words.
use embedlab::config::{CorpusConfig, FilterConfig, TokenizerConfig, TokenizerKind};
use embedlab::train::skipgram::{VectorsSpec, nearest, train_vectors};
use std::path::Path;

#[test]
fn kjv_word_vectors_have_sensible_neighbours() {
    let cfg = CorpusConfig {
        document: Default::default(),
        path: "data/kjv.txt.gz".into(),
        filter: FilterConfig {
            max_examples: Some(12000),
            ..Default::default()
        },
    };
    let (lines, _) = embedlab::data::load_corpus(&cfg, Path::new("")).unwrap();
    let tcfg = TokenizerConfig {
        kind: TokenizerKind::Word,
        vocab_size: 3000,
        ..Default::default()
    };
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let tok = embedlab::data::fit(&tcfg, &refs).unwrap();
    let seqs: Vec<Vec<u32>> = refs.iter().map(|l| tok.encode(l).unwrap()).collect();
    let spec = VectorsSpec::new(48, 1);
    let (vectors, loss) = train_vectors(&seqs, tok.vocab_size(), &spec, 2).unwrap();
    println!("skip-gram loss {loss:.4}");
    let mut thou = Vec::new();
    for w in [
        "lord", "king", "god", "son", "land", "thou", "said", "house",
    ] {
        let id = tok.id(w).unwrap();
        let nn: Vec<String> = nearest(&vectors, spec.dim, id, 8)
            .into_iter()
            .map(|(i, s)| format!("{} {s:.2}", tok.token(i).unwrap()))
            .collect();
        println!("{w}: {}", nn.join(", "));
        if w == "thou" {
            thou = nearest(&vectors, spec.dim, id, 10)
                .into_iter()
                .map(|(i, _)| tok.token(i).unwrap())
                .collect();
        }
    }
    let related = [
        "thee", "thy", "thine", "ye", "art", "hast", "shalt", "wilt", "dost",
    ];
    assert!(
        thou.iter().any(|t| related.contains(&t.as_str())),
        "neighbours of 'thou': {thou:?}"
    );
}
