//! Transfer of the first k layers: `layers = 1` of a depth-2 model takes the embeddings and layer
//! 0 exactly from the pretrained checkpoint and draws layer 1 (and the head) afresh.
use embedlab::experiment::stage::initial_params;
use embedlab::graph::DType;
use embedlab::model::{self, EncoderSpec, Head, Mode, Pooling, TaskHead};
use embedlab::runtime::{self, Metadata};
use embedlab::train::init_params;

#[test]
fn first_layer_is_transferred_second_is_reinitialised() {
    let spec = EncoderSpec::tiny(30);
    let tg = model::task_graph(
        &spec,
        Head::Task(TaskHead::Classify {
            classes: 3,
            pooling: Pooling::Cls,
            windows: None,
        }),
        2,
        8,
        &Mode::Eval,
        DType::F32,
        1,
    )
    .unwrap();
    // A "pretrained" checkpoint: the same architecture drawn with another seed.
    let pretrained = init_params(&tg.params, 99).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("params.safetensors");
    runtime::save_checkpoint(&ckpt, &pretrained, None, &Metadata::new()).unwrap();

    let fresh = init_params(&tg.params, 1).unwrap();
    let (got, n) = initial_params(&tg.params, 1, Some(&ckpt), 1).unwrap();
    let mut from_ckpt = 0;
    for p in got.iter() {
        let want = if p.name.starts_with("embeddings.") || p.name.starts_with("encoder.layer0.") {
            from_ckpt += 1;
            pretrained.get(p.name).unwrap()
        } else {
            fresh.get(p.name).unwrap()
        };
        assert_eq!(p.data, want, "{}", p.name);
        let random = tg
            .params
            .iter()
            .any(|d| d.name == p.name && matches!(d.init, model::Init::Normal(_)));
        if random {
            // Otherwise the comparison above could not tell the two sources apart.
            assert_ne!(
                pretrained.get(p.name),
                fresh.get(p.name),
                "seeds must differ for {}",
                p.name
            );
        }
    }
    assert_eq!(n, from_ckpt);
    assert!(got.names().any(|n| n.starts_with("encoder.layer1.")));

    // layers = all takes every encoder tensor; no checkpoint takes none.
    let (all, n_all) = initial_params(&tg.params, 1, Some(&ckpt), 2).unwrap();
    assert_eq!(
        all.get("encoder.layer1.ffn.up.weight"),
        pretrained.get("encoder.layer1.ffn.up.weight")
    );
    assert!(n_all > n);
    // layers = 0 takes the embeddings alone.
    let (emb, n_emb) = initial_params(&tg.params, 1, Some(&ckpt), 0).unwrap();
    for p in emb.iter() {
        let want = if p.name.starts_with("embeddings.") {
            pretrained.get(p.name)
        } else {
            fresh.get(p.name)
        };
        assert_eq!(Some(p.data), want, "{}", p.name);
    }
    assert_eq!(
        n_emb,
        tg.params
            .iter()
            .filter(|d| d.name.starts_with("embeddings."))
            .count()
    );
    let (none, n_none) = initial_params(&tg.params, 1, None, 2).unwrap();
    assert_eq!(n_none, 0);
    assert_eq!(none.checksum(), fresh.checksum());
}
