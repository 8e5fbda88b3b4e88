//! `predict` of a span (extractive QA) run: each input's question and context, cut into the
//! windows the stage used (its `seq_len`, `stride` and `long`), through the exported model with
//! its span head; the best span of context tokens over the windows (end ≥ start, at most
//! `max_answer_tokens`) is mapped back to the context's characters (ARCHITECTURE §7).

use super::model::RowModel;
use super::output::SpanWriter;
use crate::config::{DownstreamConfig, LongInputs};
use crate::data::{self, SpanExample, SpanItem, SpanRow};
use crate::experiment::artifacts::LoadedEncoder;
use crate::interop::LOGITS;
use anyhow::Result;
use std::io::Write;

/// A span run ready to predict: its encoder and head, the inputs, and how it windows.
pub(crate) struct SpanPrediction {
    pub enc: LoadedEncoder,
    pub inputs: Vec<(String, String)>,
    pub downstream: DownstreamConfig,
}

impl SpanPrediction {
    /// Predicts every input's answer into the CSV `out` (opened once the model is ready);
    /// `batch_size` windows run at a time.
    pub fn run(
        &self,
        out: impl FnOnce() -> Result<Box<dyn Write>>,
        batch_size: usize,
        threads: Option<usize>,
    ) -> Result<()> {
        let enc = &self.enc;
        let mut model = RowModel::new(enc, threads)?;
        let seq = model.seq;
        let all_windows = self.downstream.long_inputs() == LongInputs::Windows;
        let mut out = SpanWriter::new(out()?)?;
        for (question, context) in &self.inputs {
            let example = SpanExample {
                id: String::new(),
                question: question.clone(),
                context: context.clone(),
                answers: vec![],
            };
            let item: SpanItem = data::span_item(&example, &enc.tok)?;
            let rows: Vec<SpanRow> =
                data::span_rows(&item, seq, self.downstream.stride, all_windows)?;
            let mut best = None;
            for chunk in rows.chunks(batch_size.max(1)) {
                let o = model.run(chunk.iter().map(|r| &r.row))?;
                // [b, seq, 2]: the start and end logit of every token.
                let logits = o.f32(LOGITS)?;
                for (r, row) in chunk.iter().enumerate() {
                    let at = r * seq * 2;
                    let tok = &logits.data[at..at + seq * 2];
                    let start: Vec<f32> = tok.iter().step_by(2).copied().collect();
                    let end: Vec<f32> = tok.iter().skip(1).step_by(2).copied().collect();
                    let d =
                        data::best_in_window(&start, &end, row, self.downstream.max_answer_tokens);
                    best = data::best_over_windows([best, d]);
                }
            }
            let (answer, score) = match best {
                Some(d) => (
                    data::answer_text(context, &item.offsets, &d),
                    d.score.to_string(),
                ),
                None => (String::new(), String::new()),
            };
            out.write(question, context, &answer, &score)?;
        }
        out.finish()
    }
}
