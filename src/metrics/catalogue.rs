//! The metric catalogue: every score and loss a stage reports, as a small type with its name (as
//! runs.csv and curves.csv spell it), its direction and a label for people; the splits it is
//! measured on; and the reading of a runs.csv column (`test_accuracy`, `dev_exact_match`,
//! `layer3_test_accuracy`, `C.test_f1`) as stage, layer, split and metric. Code that needs to
//! know what a column measures asks [`Column::parse`] instead of matching parts of its name.

use std::fmt;

/// Declares the metrics once: the enum and [`Metric::ALL`] come from the same list, and every
/// property below is an exhaustive `match`, so a new metric does not compile until it has them.
macro_rules! catalogue {
    ($(#[$meta:meta])* pub enum $ty:ident { $($(#[$vmeta:meta])* $name:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $ty {
            $($(#[$vmeta])* $name,)*
        }

        impl $ty {
            /// Every metric, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$name),*];
        }
    };
}

catalogue! {
    /// A metric a stage reports.
    pub enum Metric {
        /// Share of examples (or tokens, for tagging) whose label is predicted exactly.
        Accuracy,
        /// The mean of the per-class F1 scores over the classes present in the gold labels.
        MacroF1,
        /// conlleval's entity-level F1 of BIO tagging.
        SpanF1,
        /// conlleval's entity-level precision.
        SpanPrecision,
        /// conlleval's entity-level recall.
        SpanRecall,
        /// SQuAD v1.1 exact match: the share of questions whose answer equals a gold one.
        ExactMatch,
        /// SQuAD v1.1 token F1 against the best gold answer.
        F1,
        /// Mean cross-entropy.
        Loss,
        /// `exp` of a language model's dev loss.
        Perplexity,
        /// Linear CKA between a layer's states before and after training.
        Cka,
    }
}

impl Metric {
    /// The name as it appears in runs.csv (after the split: `test_macro_f1`) and curves.csv.
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::MacroF1 => "macro_f1",
            Metric::SpanF1 => "span_f1",
            Metric::SpanPrecision => "span_precision",
            Metric::SpanRecall => "span_recall",
            Metric::ExactMatch => "exact_match",
            Metric::F1 => "f1",
            Metric::Loss => "loss",
            Metric::Perplexity => "perplexity",
            Metric::Cka => "cka",
        }
    }

    /// Whether a larger value is better (burn-train's `Metric::higher_is_better`).
    pub const fn higher_is_better(self) -> bool {
        match self {
            Metric::Accuracy
            | Metric::MacroF1
            | Metric::SpanF1
            | Metric::SpanPrecision
            | Metric::SpanRecall
            | Metric::ExactMatch
            | Metric::F1
            | Metric::Cka => true,
            Metric::Loss | Metric::Perplexity => false,
        }
    }

    /// How a person reads it: an axis or table label.
    pub const fn label(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::MacroF1 => "macro-F1",
            Metric::SpanF1 => "span F1",
            Metric::SpanPrecision => "span precision",
            Metric::SpanRecall => "span recall",
            Metric::ExactMatch => "exact match",
            Metric::F1 => "token F1",
            Metric::Loss => "loss",
            Metric::Perplexity => "perplexity",
            Metric::Cka => "linear CKA",
        }
    }

    /// Whether it is a task's headline score, the kind report.md's tables and charts compare
    /// cells by: accuracy, macro-F1, span F1, exact match and token F1; not a loss, nor the span
    /// precision and recall behind span F1, nor CKA, which measures the encoder, not the task.
    pub const fn headline(self) -> bool {
        match self {
            Metric::Accuracy
            | Metric::MacroF1
            | Metric::SpanF1
            | Metric::ExactMatch
            | Metric::F1 => true,
            Metric::SpanPrecision
            | Metric::SpanRecall
            | Metric::Loss
            | Metric::Perplexity
            | Metric::Cka => false,
        }
    }

    /// The metric named `name` (`accuracy`, `exact_match`, ...).
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.name() == name)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The data a metric is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Dev,
    Test,
}

impl Split {
    pub const ALL: &'static [Split] = &[Split::Train, Split::Dev, Split::Test];

    /// The name as it appears in runs.csv (`dev_accuracy`) and curves.csv's `split` column.
    pub const fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }

    /// The split named `name`.
    pub fn from_name(name: &str) -> Option<Split> {
        Split::ALL.iter().copied().find(|s| s.name() == name)
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A runs.csv metric column read as its parts: `[<stage>.][layer<k>_][<split>_]<metric>`.
///
/// `stage` is the downstream stage's name, which prefixes its columns when a cell has several
/// (`C.test_accuracy`); `layer` is a `probe_layers` measurement (`layer3_test_accuracy`,
/// `layer3_cka`); a metric without a split is measured on no split of the task (`layer3_cka`).
/// Columns that are not a metric of the catalogue (`pretrain_loss`, `data.kjv.kept`,
/// `train_seconds`) do not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    pub stage: Option<&'a str>,
    pub layer: Option<usize>,
    pub split: Option<Split>,
    pub metric: Metric,
}

impl<'a> Column<'a> {
    /// The column of `metric` on `split` of the (only) downstream stage.
    pub const fn of(split: Option<Split>, metric: Metric) -> Column<'static> {
        Column {
            stage: None,
            layer: None,
            split,
            metric,
        }
    }

    /// Reads a runs.csv column name; `None` when it is not a metric of the catalogue.
    pub fn parse(name: &'a str) -> Option<Column<'a>> {
        let (stage, rest) = match name.rsplit_once('.') {
            Some((stage, rest)) => (Some(stage), rest),
            None => (None, name),
        };
        let (layer, rest) = match layer_prefix(rest) {
            Some((k, rest)) => (Some(k), rest),
            None => (None, rest),
        };
        let with_split = rest.split_once('_').and_then(|(split, metric)| {
            Some((Some(Split::from_name(split)?), Metric::from_name(metric)?))
        });
        let (split, metric) = match with_split {
            Some(found) => found,
            None => (None, Metric::from_name(rest)?),
        };
        Some(Column {
            stage,
            layer,
            split,
            metric,
        })
    }
}

/// `(k, rest)` of `layer<k>_<rest>`.
fn layer_prefix(name: &str) -> Option<(usize, &str)> {
    let (k, rest) = name.strip_prefix("layer")?.split_once('_')?;
    Some((k.parse().ok()?, rest))
}

impl fmt::Display for Column<'_> {
    /// The column's name in runs.csv.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(stage) = self.stage {
            write!(f, "{stage}.")?;
        }
        if let Some(k) = self.layer {
            write!(f, "layer{k}_")?;
        }
        if let Some(split) = self.split {
            write!(f, "{split}_")?;
        }
        f.write_str(self.metric.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        for &m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(m));
        }
        for &s in Split::ALL {
            assert_eq!(Split::from_name(s.name()), Some(s));
        }
    }

    #[test]
    fn columns_are_read_as_stage_layer_split_and_metric() {
        let cases = [
            (
                "test_accuracy",
                None,
                None,
                Some(Split::Test),
                Metric::Accuracy,
            ),
            (
                "dev_exact_match",
                None,
                None,
                Some(Split::Dev),
                Metric::ExactMatch,
            ),
            ("test_f1", None, None, Some(Split::Test), Metric::F1),
            (
                "test_span_f1",
                None,
                None,
                Some(Split::Test),
                Metric::SpanF1,
            ),
            ("train_loss", None, None, Some(Split::Train), Metric::Loss),
            (
                "layer3_test_accuracy",
                None,
                Some(3),
                Some(Split::Test),
                Metric::Accuracy,
            ),
            ("layer0_cka", None, Some(0), None, Metric::Cka),
            (
                "C.test_macro_f1",
                Some("C"),
                None,
                Some(Split::Test),
                Metric::MacroF1,
            ),
            (
                "C.layer1_dev_accuracy",
                Some("C"),
                Some(1),
                Some(Split::Dev),
                Metric::Accuracy,
            ),
        ];
        for (name, stage, layer, split, metric) in cases {
            let c = Column::parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(
                c,
                Column {
                    stage,
                    layer,
                    split,
                    metric
                },
                "{name}"
            );
            assert_eq!(c.to_string(), name);
        }
        for other in [
            "pretrain_loss",
            "pretrain_dev_accuracy",
            "start_dev_accuracy",
            "probe_dev_accuracy",
            "train_seconds",
            "data.kjv.kept",
            "tokenizer.unk_rate",
            "layer_decay",
            "encoder.depth",
        ] {
            assert_eq!(Column::parse(other), None, "{other}");
        }
    }
}
