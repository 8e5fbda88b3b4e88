//! What every stage needs besides its own configuration: the context it is computed in and the
//! metrics it returns.

use crate::experiment::plan::Plan;
use crate::runtime::SessionOptions;
use crate::train::Progress;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Metrics of a stage, by name (`test_accuracy`, `pretrain_loss`, `data.kjv.kept`, ...).
pub type Metrics = BTreeMap<String, f64>;

/// The environment a stage is computed in.
pub struct StageContext<'a> {
    /// The plan the stage belongs to (to look up the stages it reads).
    pub plan: &'a Plan,
    /// The folder holding every finished stage by key (`<results>/.stages`).
    pub stages: &'a Path,
    /// Where this stage writes its outputs; the caller renames it into place on success.
    pub dir: &'a Path,
    /// Where a long stage keeps its periodic checkpoint until it completes.
    pub resume_dir: &'a Path,
    /// Intra-op threads for ONNX Runtime; every core when `None`.
    pub threads: Option<usize>,
    /// Static word vectors (`embeddings.word = "static"`), `[vocab, d_model]`, from the stage's
    /// vectors parent.
    pub vectors: Option<&'a [f32]>,
    /// `<kind>_<name>` (`pretrain_A`): the stem of the files its graphs are dumped to.
    pub stem: &'a str,
    pub progress: &'a dyn Progress,
}

impl StageContext<'_> {
    /// The folder of the finished stage `key`.
    pub fn stage_dir(&self, key: &str) -> PathBuf {
        self.stages.join(key)
    }

    /// Session options with this stage's intra-op threads.
    pub fn session_options(&self) -> SessionOptions {
        SessionOptions {
            intra_threads: Some(thread_count(self.threads)),
            ..Default::default()
        }
    }
}

/// Intra-op threads: the experiment's `threads`, else every core the process may use.
pub fn thread_count(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    })
}
