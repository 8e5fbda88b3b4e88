//! `embedlab export` and `embedlab embed`: a trained or imported encoder as a standalone ONNX
//! model or a Hugging Face directory, and texts to vectors. Bad paths and models, and encoders
//! that the Hugging Face layout cannot express, are invalid input (exit 2); a failure while
//! running the model or writing files is exit 1.

use crate::cli::{EmbedArgs, ExportArgs, ExportFormatArg, FormatArg, PoolingArg, QuantizeArg};
use embedlab::config::DownstreamTask;
use embedlab::experiment::artifacts::{LoadedEncoder, ModelPath, resolve_model_path};
use embedlab::interop::{EmbedOptions, Embedder, HfError, HfHead, HfModel};
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
    if args.format == ExportFormatArg::Hf {
        if args.quantize.is_some() {
            return fail(
                EXIT_INVALID_INPUT,
                "--quantize applies to --format onnx only (a Hugging Face directory holds f32 \
                 weights)",
            );
        }
        return export_hf(&args, &enc);
    }
    let exported = if args.head {
        enc.export_with_head()
    } else {
        enc.export(args.pooling.map(pooling))
    };
    let mut model = match exported {
        Ok(m) => m,
        Err(e) => return fail(EXIT_FAILED, format!("{e:#}")),
    };
    if let Some(QuantizeArg::Int8) = args.quantize {
        let quantized = embedlab::interop::quantize_int8(&model.bytes).and_then(|q| {
            let check = crate::quantize_cmd::check(&args.source, &enc, &model.bytes, &q.bytes)?;
            Ok((q, check))
        });
        match quantized {
            Ok((q, check)) => {
                eprintln!(
                    "int8: {} matrix products, {} weights quantized per output column",
                    q.matmuls, q.weights
                );
                eprintln!("{check}");
                model.bytes = q.bytes;
            }
            Err(e) => return fail(EXIT_FAILED, format!("quantizing to int8: {e:#}")),
        }
    }
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

/// `export --format hf`: the encoder (and with `--head` its trained head) as a Hugging Face
/// directory whose tokenizer truncates to the run's sequence length.
fn export_hf(args: &ExportArgs, enc: &LoadedEncoder) -> ExitCode {
    if args.head
        && enc
            .head
            .as_ref()
            .is_some_and(|h| h.task == DownstreamTask::Span)
    {
        return fail(
            EXIT_INVALID_INPUT,
            "a span (question answering) head has no Hugging Face layout here (hint: export it with --format onnx)",
        );
    }
    let head = match (&enc.head, args.head) {
        (Some(h), true) => Some(match h.task {
            DownstreamTask::Classify | DownstreamTask::Pair => {
                HfHead::Sequence { labels: &h.labels }
            }
            DownstreamTask::Tag | DownstreamTask::Span => HfHead::Tokens { labels: &h.labels },
        }),
        _ => None,
    };
    let seq_len = enc.head.as_ref().map_or(enc.spec.max_len, |h| h.seq_len);
    let pooling = match (&enc.head, args.head) {
        (Some(h), true) if h.task != DownstreamTask::Tag => h.pooling.into(),
        _ => args.pooling.map(pooling).unwrap_or(enc.pooling),
    };
    let model = HfModel {
        spec: &enc.spec,
        params: &enc.params,
        tok: &enc.tok,
        seq_len,
        pooling,
        head,
    };
    match embedlab::interop::write_hf_dir(&args.out, &model) {
        Ok(w) => {
            let s = &enc.spec;
            let labels = match head {
                Some(HfHead::Sequence { labels } | HfHead::Tokens { labels }) => {
                    format!(", head over {} labels", labels.len())
                }
                None => String::new(),
            };
            eprintln!(
                "wrote {} ({}: {} layers, d_model {}{labels}, tokenizer truncating to {} tokens; {} files)",
                args.out.display(),
                w.layout,
                s.depth,
                s.d_model,
                seq_len.min(s.max_len),
                w.files.len()
            );
            ExitCode::SUCCESS
        }
        Err(e @ HfError::Inexpressible { .. }) => {
            fail(EXIT_INVALID_INPUT, format!("{}: {e}", enc.described))
        }
        Err(e) => fail(
            EXIT_FAILED,
            format!("exporting {} to {}: {e}", enc.described, args.out.display()),
        ),
    }
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
