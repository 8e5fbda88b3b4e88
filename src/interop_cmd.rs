//! `embedlab export` and `embedlab embed`: a trained or imported encoder as a standalone ONNX
//! model, and texts to vectors. Bad paths and models are invalid input (exit 2); a failure while
//! running the model is exit 1.

use crate::cli::{EmbedArgs, ExportArgs, FormatArg, PoolingArg};
use embedlab::experiment::artifacts::{ModelPath, resolve_model_path};
use embedlab::interop::{EmbedOptions, Embedder};
use embedlab::model::Pooling;
use std::io::{BufRead, Write};
use std::process::ExitCode;

const EXIT_FAILED: u8 = 1;
const EXIT_INVALID_INPUT: u8 = 2;

fn pooling(p: PoolingArg) -> Pooling {
    match p {
        PoolingArg::Mean => Pooling::Mean,
        PoolingArg::Cls => Pooling::Cls,
    }
}

fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

pub fn export(args: ExportArgs) -> ExitCode {
    let enc = match resolve_model_path(&args.source) {
        Ok(ModelPath::Encoder(e)) => e,
        Ok(ModelPath::Onnx { .. }) => {
            return fail(
                EXIT_INVALID_INPUT,
                format!(
                    "{}: already an ONNX model; export takes a run directory or a model directory",
                    args.source.display()
                ),
            );
        }
        Err(e) => return fail(EXIT_INVALID_INPUT, format!("{e:#}")),
    };
    if args.head && enc.head.is_none() {
        return fail(
            EXIT_INVALID_INPUT,
            format!(
                "{}: --head needs a run whose downstream stage saved its model ({} has no trained head; rerun it with this version)",
                args.source.display(),
                enc.described
            ),
        );
    }
    let exported = if args.head {
        enc.export_with_head()
    } else {
        enc.export(args.pooling.map(pooling))
    };
    let model = match exported {
        Ok(m) => m,
        Err(e) => return fail(EXIT_FAILED, format!("{e:#}")),
    };
    let tokenizer = args.out.with_file_name(embedlab::interop::TOKENIZER_FILE);
    let written = (|| -> anyhow::Result<()> {
        if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&args.out, &model.bytes)?;
        enc.tok.save_for_export(&tokenizer)?;
        Ok(())
    })();
    if let Err(e) = written {
        return fail(
            EXIT_FAILED,
            format!("writing {}: {e:#}", args.out.display()),
        );
    }
    let s = &enc.spec;
    let head = match (&enc.head, args.head) {
        (Some(h), true) => format!(", head over {} labels", h.labels.len()),
        _ => String::new(),
    };
    eprintln!(
        "wrote {} ({} layers, d_model {}{head}, {} parameters, sequence axis {}) and {}",
        args.out.display(),
        s.depth,
        s.d_model,
        enc.params.num_values(),
        if model.dynamic_sequence {
            "dynamic".to_string()
        } else {
            format!("fixed at {}", s.max_len)
        },
        tokenizer.display()
    );
    ExitCode::SUCCESS
}

pub fn embed(args: EmbedArgs) -> ExitCode {
    let loaded = resolve_model_path(&args.model).and_then(|m| match m {
        ModelPath::Onnx { model, tokenizer } => {
            let bytes = std::fs::read(&model)
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", model.display()))?;
            let tok = embedlab::data::Tok::load(&tokenizer)?;
            Embedder::new(&model.display().to_string(), &bytes, tok, args.threads)
        }
        ModelPath::Encoder(enc) => {
            let model = enc.export(None)?;
            Embedder::new(&enc.described, &model.bytes, enc.tok, args.threads)
        }
    });
    let mut embedder = match loaded {
        Ok(e) => e,
        Err(e) => return fail(EXIT_INVALID_INPUT, format!("{e:#}")),
    };
    let opts = EmbedOptions {
        pooling: pooling(args.pooling),
        normalize: args.normalize,
        batch_size: args.batch_size as usize,
    };
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut lines = stdin.lines();
    loop {
        // Read a batch of lines, embed, write: memory stays bounded for any input length.
        let mut batch = Vec::with_capacity(opts.batch_size);
        for line in lines.by_ref() {
            match line {
                Ok(l) => batch.push(l),
                Err(e) => return fail(EXIT_INVALID_INPUT, format!("reading stdin: {e}")),
            }
            if batch.len() == opts.batch_size {
                break;
            }
        }
        if batch.is_empty() {
            break;
        }
        let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
        let vectors = match embedder.embed(&refs, &opts) {
            Ok(v) => v,
            Err(e) => return fail(EXIT_FAILED, format!("{e:#}")),
        };
        for v in vectors {
            let line = match args.format {
                FormatArg::Csv => v
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                FormatArg::Jsonl => serde_json::to_string(&v).unwrap_or_default(),
            };
            if let Err(e) = writeln!(out, "{line}") {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
                return fail(EXIT_FAILED, format!("writing stdout: {e}"));
            }
        }
    }
    if let Err(e) = out.flush()
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return fail(EXIT_FAILED, format!("writing stdout: {e}"));
    }
    ExitCode::SUCCESS
}
