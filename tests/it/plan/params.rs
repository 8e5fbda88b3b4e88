//! The parameter count the cost model uses (`EncoderConfig::params`, also meant for validation's
//! size limit) against the parameters the encoder graph declares, over the embedding and layer
//! options that change it.
use embedlab::config::{Activation, WordEmbedding};
use embedlab::config::{EmbeddingsConfig, EncoderConfig, NormPlacement, PositionEmbedding};
use embedlab::experiment::encoder_spec;
use embedlab::graph::{DType, Graph};
use embedlab::model::{EncoderInputs, ModelBuilder, encoder};

/// Values in the parameters an encoder graph of these settings declares.
fn declared(enc: &EncoderConfig, emb: &EmbeddingsConfig, vocab: usize) -> usize {
    let spec = encoder_spec(enc, emb, vocab, false);
    let mut g = Graph::new("count");
    let mut m = ModelBuilder::new(&mut g, DType::F32, false, 0);
    let inp = EncoderInputs::declare(&mut m, &spec, 2, enc.max_len).unwrap();
    encoder(&mut m, &spec, &inp).unwrap();
    m.params.iter().map(|p| p.numel()).sum()
}

#[test]
fn the_count_is_what_the_encoder_declares() {
    let vocab = 37;
    let base = EncoderConfig {
        depth: 2,
        d_model: 8,
        heads: 2,
        ffn: 12,
        max_len: 6,
        ..EncoderConfig::default()
    };
    let encoders = [
        base.clone(),
        EncoderConfig {
            depth: 3,
            ffn: 20,
            activation: Activation::Relu,
            ..base.clone()
        },
    ];
    for enc in &encoders {
        for word in [
            WordEmbedding::Learned,
            WordEmbedding::Static,
            WordEmbedding::None,
        ] {
            for position in [
                PositionEmbedding::Learned,
                PositionEmbedding::Sinusoidal,
                PositionEmbedding::None,
            ] {
                for segment in [false, true] {
                    let emb = EmbeddingsConfig {
                        word,
                        position,
                        segment,
                    };
                    let count = enc.params(vocab, &emb);
                    assert_eq!(count, declared(enc, &emb, vocab) as f64, "{enc:?} {emb:?}");
                    // A pre-norm encoder's final layer norm (2d) is the one thing not counted.
                    let pre = EncoderConfig {
                        norm: NormPlacement::Pre,
                        ..enc.clone()
                    };
                    assert_eq!(
                        pre.params(vocab, &emb) + 2.0 * enc.d_model as f64,
                        declared(&pre, &emb, vocab) as f64,
                        "{pre:?} {emb:?}"
                    );
                }
            }
        }
    }
}
