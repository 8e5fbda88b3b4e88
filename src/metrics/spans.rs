//! Span scoring of BIO tag sequences with conlleval semantics.

/// Chunks of a BIO tag sequence as (start, end exclusive, type), conlleval style: a chunk starts
/// at `B-X`, or at `I-X` after anything but a `B-X`/`I-X` of the same type.
pub fn bio_chunks(tags: &[&str]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (i, t) in tags.iter().enumerate() {
        let (prefix, kind) = t.split_once('-').unwrap_or((t, ""));
        let continues = prefix == "I" && open.is_some_and(|(_, k)| k == kind);
        if !continues {
            if let Some((start, k)) = open.take() {
                out.push((start, i, k.to_string()));
            }
            if prefix == "B" || prefix == "I" {
                open = Some((i, kind));
            }
        }
    }
    if let Some((start, k)) = open {
        out.push((start, tags.len(), k.to_string()));
    }
    out
}

/// (correctly predicted chunks, predicted chunks, gold chunks) of one sequence.
pub fn span_counts(gold: &[&str], pred: &[&str]) -> (usize, usize, usize) {
    let g = bio_chunks(gold);
    let p = bio_chunks(pred);
    let correct = p.iter().filter(|c| g.contains(c)).count();
    (correct, p.len(), g.len())
}

/// Span counts summed over sequences, and the precision, recall and F1 they give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanCounts {
    pub correct: usize,
    pub predicted: usize,
    pub gold: usize,
}

impl SpanCounts {
    /// Adds one sequence's counts.
    pub fn add(&mut self, gold: &[&str], pred: &[&str]) {
        let (c, p, g) = span_counts(gold, pred);
        self.correct += c;
        self.predicted += p;
        self.gold += g;
    }

    /// (precision, recall, F1); 0 where a denominator is 0.
    pub fn precision_recall_f1(&self) -> (f64, f64, f64) {
        let prec = if self.predicted == 0 {
            0.0
        } else {
            self.correct as f64 / self.predicted as f64
        };
        let rec = if self.gold == 0 {
            0.0
        } else {
            self.correct as f64 / self.gold as f64
        };
        let f = if prec + rec == 0.0 {
            0.0
        } else {
            2.0 * prec * rec / (prec + rec)
        };
        (prec, rec, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_follow_conlleval() {
        let tags = [
            "B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-PER", "O", "B-X",
        ];
        assert_eq!(
            bio_chunks(&tags),
            vec![
                (0, 2, "PER".into()),
                (3, 5, "LOC".into()),
                (5, 6, "LOC".into()),
                (6, 7, "PER".into()),
                (8, 9, "X".into())
            ]
        );
        // A wrong boundary makes the whole chunk wrong.
        let gold = ["B-PER", "I-PER", "O", "B-LOC"];
        let pred = ["B-PER", "O", "O", "B-LOC"];
        assert_eq!(span_counts(&gold, &pred), (1, 2, 2));
        let mut c = SpanCounts::default();
        c.add(&gold, &pred);
        let (p, r, f) = c.precision_recall_f1();
        assert_eq!((p, r, f), (0.5, 0.5, 0.5));
    }
}
