//! A prediction in two steps: `prepare` finds everything a user can get wrong (the run, its
//! trained head and configuration, the input file) before anything runs, and `Job::run` builds
//! the session, predicts and writes the CSV.

use super::error::PredictError;
use super::inputs::{Input, read_inputs, read_span_inputs};
use super::model::{RowModel, run_downstream};
use super::output::{PredictionWriter, destination};
use super::rows::predict_rows;
use super::span::SpanPrediction;
use super::windows;
use crate::config::{DownstreamConfig, LongInputs};
use crate::experiment::artifacts::{LoadedEncoder, run_encoder};
use crate::experiment::stage::SavedHead;
use anyhow::{Result, bail};
use std::path::PathBuf;

/// What `embedlab predict` was asked.
#[derive(Debug, Clone)]
pub struct PredictOptions {
    /// A run directory (`results/<experiment>/runs/<run_id>`) whose downstream stage saved its
    /// model.
    pub run: PathBuf,
    /// The texts (see `read_inputs`, `read_span_inputs`).
    pub input: PathBuf,
    /// The CSV file to write (`None`: stdout).
    pub out: Option<PathBuf>,
    /// Texts (for a span run: windows) per model run.
    pub batch_size: usize,
    /// ONNX Runtime intra-op threads (`None`: ONNX Runtime's choice).
    pub threads: Option<usize>,
}

/// What a prediction over many inputs reports as it goes (the command shows a bar on a
/// terminal). A span run reports nothing.
pub trait Progress {
    fn start(&mut self, _total: usize) {}
    fn advance(&mut self, _inputs: usize) {}
    fn finish(&mut self) {}
}

impl Progress for () {}

/// A prediction whose run and inputs have been read.
pub struct Job(Kind);

enum Kind {
    Rows(RowsPrediction),
    Span(SpanPrediction),
}

/// A classify, pair or tag run ready to predict.
struct RowsPrediction {
    enc: LoadedEncoder,
    head: SavedHead,
    inputs: Vec<Input>,
    downstream: DownstreamConfig,
}

/// Reads the run (its encoder, trained head and configuration) and the inputs. Every error is
/// invalid input: nothing has run.
pub fn prepare(opts: &PredictOptions) -> Result<Job, PredictError> {
    let prepared = (|| -> Result<Kind> {
        let enc = run_encoder(&opts.run)?;
        let Some(head) = enc.head.clone() else {
            bail!(
                "{} has no trained head: rerun it with this version so that its downstream stage saves its model",
                enc.described
            );
        };
        if head.task.windows_itself() {
            let (downstream, ds) = run_downstream(&opts.run)?;
            let inputs = read_span_inputs(&opts.input, &ds.question, &ds.context)?;
            return Ok(Kind::Span(SpanPrediction {
                enc,
                inputs,
                downstream,
            }));
        }
        let (downstream, ds) = run_downstream(&opts.run)?;
        let pair = head.task.needs_text_pair();
        let inputs = read_inputs(&opts.input, &ds.text, ds.text_pair.as_deref(), pair)?;
        Ok(Kind::Rows(RowsPrediction {
            enc,
            head,
            inputs,
            downstream,
        }))
    })();
    prepared.map(Job).map_err(PredictError::Invalid)
}

impl Job {
    /// How many inputs there are: the CSV's rows.
    pub fn input_count(&self) -> usize {
        match &self.0 {
            Kind::Rows(r) => r.inputs.len(),
            Kind::Span(s) => s.inputs.len(),
        }
    }

    /// Predicts every input and writes the CSV to `opts.out` (or stdout); returns how many
    /// rows it wrote.
    pub fn run(
        &self,
        opts: &PredictOptions,
        progress: &mut dyn Progress,
    ) -> Result<usize, PredictError> {
        let written = match &self.0 {
            Kind::Rows(r) => r.run(opts, progress),
            Kind::Span(s) => s.run(
                || destination(opts.out.as_deref()),
                opts.batch_size,
                opts.threads,
            ),
        };
        written
            .map(|()| self.input_count())
            .map_err(PredictError::Failed)
    }
}

impl RowsPrediction {
    fn run(&self, opts: &PredictOptions, progress: &mut dyn Progress) -> Result<()> {
        let (enc, head, inputs, downstream) =
            (&self.enc, &self.head, &self.inputs, &self.downstream);
        let mut model = RowModel::new(enc, opts.threads)?;
        let mut out = PredictionWriter::new(destination(opts.out.as_deref())?, head)?;
        progress.start(inputs.len());
        let chunk = opts.batch_size.max(1);
        let windows = downstream.long_inputs() == LongInputs::Windows;
        for part in inputs.chunks(chunk) {
            let predictions = if windows {
                part.iter()
                    .map(|i| {
                        let pair = i.pair.as_deref();
                        windows::predict(
                            &mut model,
                            &enc.tok,
                            &enc.params,
                            downstream,
                            &i.text,
                            pair,
                            chunk,
                        )
                    })
                    .collect::<Result<Vec<_>>>()?
            } else {
                predict_rows(&mut model, enc, head, part)?
            };
            for (input, p) in part.iter().zip(predictions) {
                out.write(input, p)?;
            }
            progress.advance(part.len());
        }
        progress.finish();
        out.finish()
    }
}
