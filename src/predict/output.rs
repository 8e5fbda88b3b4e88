//! `predict`'s CSV, written with the `csv` crate: where it goes (a file, its folder created, or
//! stdout), the header and one row per input: the input's texts, then the predicted label and
//! one probability per label (`p_<label>`), or the tags of its words, or for a span run the
//! answer and its score.

use super::inputs::Input;
use super::prediction::{Prediction, argmax};
use crate::experiment::stage::SavedHead;
use crate::task::Target;
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// The CSV's destination: `path` (its folder created) or stdout.
pub fn destination(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            ))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}

fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().flexible(true).from_writer(out)
}

/// The CSV of a classify, pair or tag run: `text`, (`text_pair`), then `label` and `p_<label>`
/// per label, or `tags` (one per word, separated by spaces).
pub struct PredictionWriter<'h, W: Write> {
    csv: csv::Writer<W>,
    head: &'h SavedHead,
}

impl<'h, W: Write> PredictionWriter<'h, W> {
    /// Writes the header.
    pub fn new(out: W, head: &'h SavedHead) -> Result<Self> {
        let mut csv = csv_writer(out);
        let tagging = head.task.target() == Target::Tags;
        let mut header = vec!["text".to_string()];
        if head.task.needs_text_pair() {
            header.push("text_pair".into());
        }
        if tagging {
            header.push("tags".into());
        } else {
            header.push("label".into());
            header.extend(head.labels.iter().map(|l| format!("p_{l}")));
        }
        csv.write_record(&header)?;
        Ok(PredictionWriter { csv, head })
    }

    /// Writes the row of one input.
    pub fn write(&mut self, input: &Input, p: Prediction) -> Result<()> {
        let head = self.head;
        let mut fields = vec![input.text.clone()];
        if head.task.needs_text_pair() {
            fields.push(input.pair.as_deref().unwrap_or("").to_string());
        }
        match p {
            Prediction::Tags(tags) => {
                let names: Vec<&str> = tags.iter().map(|&t| head.labels[t].as_str()).collect();
                fields.push(names.join(" "));
            }
            Prediction::Label { logits, probs } => {
                fields.push(head.labels[argmax(&logits)].clone());
                fields.extend(probs.iter().map(|p| p.to_string()));
            }
        }
        self.csv.write_record(&fields)?;
        Ok(())
    }

    /// Flushes the CSV to its destination.
    pub fn finish(mut self) -> Result<()> {
        self.csv.flush()?;
        Ok(())
    }
}

/// The CSV of a span run: `question,context,answer,score` (score: start + end logit of the
/// answer; answer and score empty when no span was found).
pub struct SpanWriter<W: Write> {
    csv: csv::Writer<W>,
}

impl<W: Write> SpanWriter<W> {
    /// Writes the header.
    pub fn new(out: W) -> Result<Self> {
        let mut csv = csv_writer(out);
        csv.write_record(["question", "context", "answer", "score"])?;
        Ok(SpanWriter { csv })
    }

    /// Writes the row of one question.
    pub fn write(
        &mut self,
        question: &str,
        context: &str,
        answer: &str,
        score: &str,
    ) -> Result<()> {
        self.csv.write_record([question, context, answer, score])?;
        Ok(())
    }

    /// Flushes the CSV to its destination.
    pub fn finish(mut self) -> Result<()> {
        self.csv.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DownstreamTask, Pooling};

    fn head(task: DownstreamTask, labels: &[&str]) -> SavedHead {
        SavedHead {
            task,
            pooling: Pooling::Mean,
            seq_len: 8,
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    fn input(text: &str, pair: Option<&str>) -> Input {
        Input {
            text: text.into(),
            pair: pair.map(String::from),
        }
    }

    /// The quoting `predict` wrote by hand before it used the `csv` crate: the bytes stay.
    fn quoted(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }

    #[test]
    fn labels_and_probabilities_one_row_per_input() {
        let h = head(DownstreamTask::Pair, &["neg", "pos,itive"]);
        let mut out = Vec::new();
        let mut w = PredictionWriter::new(&mut out, &h).unwrap();
        let texts = [
            "plain",
            "a, comma",
            "a \"quote\"",
            "two\nlines",
            " space ",
            "",
        ];
        for t in texts {
            let p = Prediction::Label {
                logits: vec![0.5, 1.5],
                probs: vec![0.25, 0.75],
            };
            w.write(&input(t, Some("b")), p).unwrap();
        }
        w.finish().unwrap();
        let mut want = "text,text_pair,label,p_neg,\"p_pos,itive\"\n".to_string();
        for t in texts {
            want += &format!("{},b,\"pos,itive\",0.25,0.75\n", quoted(t));
        }
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }

    #[test]
    fn tags_one_per_word() {
        let h = head(DownstreamTask::Tag, &["O", "B-X", "I-X"]);
        let mut out = Vec::new();
        let mut w = PredictionWriter::new(&mut out, &h).unwrap();
        w.write(&input("the big cat", None), Prediction::Tags(vec![0, 1, 2]))
            .unwrap();
        w.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "text,tags\nthe big cat,O B-X I-X\n"
        );
    }

    #[test]
    fn span_answers_and_scores() {
        let mut out = Vec::new();
        let mut w = SpanWriter::new(&mut out).unwrap();
        w.write("what is it", "it is a stone, grey", "a stone", "3.5")
            .unwrap();
        w.write("who?", "nobody", "", "").unwrap();
        w.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "question,context,answer,score\nwhat is it,\"it is a stone, grey\",a stone,3.5\nwho?,nobody,,\n"
        );
    }
}
