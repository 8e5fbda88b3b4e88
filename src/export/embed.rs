//! `embed`: lines of text to vectors, one output line per input line (comma-separated values
//! written with the `csv` crate, or a JSON array). Lines are read, embedded and written a batch
//! at a time, so memory stays bounded for any input length; a closed output pipe
//! (`embedlab embed … | head`) ends the output quietly.

use crate::interop::{EmbedOptions, Embedder};
use std::io::{BufRead, ErrorKind, Write};

/// How each vector is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VectorFormat {
    /// Comma-separated values, one line per vector.
    Csv,
    /// A JSON array per line.
    Jsonl,
}

/// Why `embed_lines` stopped early.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The input could not be read (the command's stdin: invalid input).
    #[error("reading the lines: {0}")]
    Read(#[source] std::io::Error),
    /// The model failed on a batch.
    #[error("{0:#}")]
    Embed(anyhow::Error),
    /// The output could not be written (other than a closed pipe).
    #[error("writing the vectors: {0}")]
    Write(#[source] std::io::Error),
}

/// Vectors to an output, one line each.
enum VectorWriter<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W),
}

impl<W: Write> VectorWriter<W> {
    fn new(format: VectorFormat, out: W) -> Self {
        match format {
            VectorFormat::Csv => VectorWriter::Csv(Box::new(csv::Writer::from_writer(out))),
            VectorFormat::Jsonl => VectorWriter::Jsonl(out),
        }
    }

    fn write(&mut self, v: &[f32]) -> std::io::Result<()> {
        match self {
            VectorWriter::Csv(w) => w
                .write_record(v.iter().map(|x| x.to_string()))
                .map_err(csv_io),
            VectorWriter::Jsonl(w) => {
                writeln!(w, "{}", serde_json::to_string(v).unwrap_or_default())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            VectorWriter::Csv(w) => w.flush(),
            VectorWriter::Jsonl(w) => w.flush(),
        }
    }
}

/// A CSV writer's error as the I/O error it is (the writer writes only strings of numbers).
fn csv_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Embeds every line of `input` (a batch of `opts.batch_size` at a time) and writes one vector
/// per line to `output` in `format`.
pub fn embed_lines<R: BufRead, W: Write>(
    embedder: &mut Embedder,
    opts: &EmbedOptions,
    format: VectorFormat,
    input: R,
    output: W,
) -> Result<(), EmbedError> {
    let mut lines = input.lines();
    write_batches(
        || {
            let mut batch = Vec::with_capacity(opts.batch_size);
            for line in lines.by_ref() {
                batch.push(line.map_err(EmbedError::Read)?);
                if batch.len() == opts.batch_size {
                    break;
                }
            }
            Ok(batch)
        },
        |batch| {
            let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
            embedder.embed(&refs, opts).map_err(EmbedError::Embed)
        },
        VectorWriter::new(format, output),
    )
}

/// Reads a batch, embeds it, writes its vectors, until a batch is empty; a closed pipe ends
/// the output without an error.
fn write_batches<W: Write>(
    mut next_batch: impl FnMut() -> Result<Vec<String>, EmbedError>,
    mut embed: impl FnMut(&[String]) -> Result<Vec<Vec<f32>>, EmbedError>,
    mut out: VectorWriter<W>,
) -> Result<(), EmbedError> {
    loop {
        let batch = next_batch()?;
        if batch.is_empty() {
            break;
        }
        for v in embed(&batch)? {
            if let Err(e) = out.write(&v) {
                if e.kind() == ErrorKind::BrokenPipe {
                    return Ok(());
                }
                return Err(EmbedError::Write(e));
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(EmbedError::Write(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two batches of lines, each embedded as (its length, 0.5).
    fn run(format: VectorFormat, out: impl Write) -> Result<(), EmbedError> {
        let mut batches = vec![
            vec!["ab".to_string()],
            vec!["c".to_string(), "".to_string()],
        ];
        batches.reverse();
        write_batches(
            || Ok(batches.pop().unwrap_or_default()),
            |b| Ok(b.iter().map(|l| vec![l.len() as f32, 0.5]).collect()),
            VectorWriter::new(format, out),
        )
    }

    #[test]
    fn one_line_per_vector_as_csv_or_json() {
        let mut csv = Vec::new();
        run(VectorFormat::Csv, &mut csv).unwrap();
        assert_eq!(String::from_utf8(csv).unwrap(), "2,0.5\n1,0.5\n0,0.5\n");
        let mut jsonl = Vec::new();
        run(VectorFormat::Jsonl, &mut jsonl).unwrap();
        assert_eq!(
            String::from_utf8(jsonl).unwrap(),
            "[2.0,0.5]\n[1.0,0.5]\n[0.0,0.5]\n"
        );
    }

    /// A reader that went away: every write fails as a closed pipe does.
    struct Closed;

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_closed_pipe_ends_the_output_quietly() {
        assert!(run(VectorFormat::Jsonl, Closed).is_ok());
        assert!(run(VectorFormat::Csv, Closed).is_ok());
    }
}
