//! `embedlab export` and `embedlab embed`: the arguments as the library's options, and what it
//! did printed to stderr.

use super::cli::{EmbedArgs, ExportArgs, ExportFormatArg, FormatArg, PoolingArg, QuantizeArg};
use super::failure::{Failure, invalid};
use embedlab::export::{self, VectorFormat};
use embedlab::interop::EmbedOptions;
use embedlab::model::Pooling;

fn pooling(p: PoolingArg) -> Pooling {
    match p {
        PoolingArg::Mean => Pooling::Mean,
        PoolingArg::Cls => Pooling::Cls,
    }
}

pub fn export(args: ExportArgs) -> Result<(), Failure> {
    let enc = export::source_encoder(&args.source, args.head)?;
    let pooling = args.pooling.map(pooling);
    if args.format == ExportFormatArg::Hf {
        if args.quantize.is_some() {
            return Err(invalid(
                "--quantize applies to --format onnx only (a Hugging Face directory holds f32 \
                 weights)",
            ));
        }
        let written = export::hf_export(&enc, &args.out, args.head, pooling)?;
        eprintln!("{written}");
        return Ok(());
    }
    let int8 = args.quantize == Some(QuantizeArg::Int8);
    let model = export::onnx_export(&enc, &args.source, args.head, pooling, int8)?;
    if let Some(int8) = &model.int8 {
        eprintln!("{int8}");
    }
    let written = model.write(&enc, &args.out)?;
    eprintln!("{written}");
    Ok(())
}

pub fn embed(args: EmbedArgs) -> Result<(), Failure> {
    let mut embedder = export::embedder(&args.model, args.threads)?;
    let opts = EmbedOptions {
        pooling: pooling(args.pooling),
        normalize: args.normalize,
        batch_size: args.batch_size as usize,
    };
    let format = match args.format {
        FormatArg::Csv => VectorFormat::Csv,
        FormatArg::Jsonl => VectorFormat::Jsonl,
    };
    let stdin = std::io::stdin().lock();
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    export::embed_lines(&mut embedder, &opts, format, stdin, stdout)?;
    Ok(())
}
