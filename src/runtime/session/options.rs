//! Session settings: threads, graph optimisation level, memory arena and pattern, profiling.

use std::path::PathBuf;

use ort::session::builder::GraphOptimizationLevel;

/// How much ONNX Runtime may rewrite the graph before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptimizationLevel {
    Disable,
    Basic,
    Extended,
    /// Everything, including MatMul+Add -> Gemm and Transpose+MatMul -> FusedMatMul; measured to
    /// keep our backward graphs correct (ARCHITECTURE §5).
    #[default]
    All,
}

impl From<OptimizationLevel> for GraphOptimizationLevel {
    fn from(level: OptimizationLevel) -> Self {
        match level {
            OptimizationLevel::Disable => GraphOptimizationLevel::Disable,
            OptimizationLevel::Basic => GraphOptimizationLevel::Level1,
            OptimizationLevel::Extended => GraphOptimizationLevel::Level2,
            OptimizationLevel::All => GraphOptimizationLevel::All,
        }
    }
}

/// Session settings. `Default` gives ONNX Runtime's thread defaults, optimisation level All, the
/// CPU arena on and the memory pattern off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// Threads inside one op; `None` lets ONNX Runtime choose (one per physical core).
    pub intra_threads: Option<usize>,
    /// Threads running independent ops in parallel; `None` runs ops sequentially.
    pub inter_threads: Option<usize>,
    pub optimization: OptimizationLevel,
    /// Ask kernels for deterministic algorithms where they have a choice.
    pub deterministic: bool,
    /// Write the graph as ONNX Runtime optimised it to this file (to inspect fusions in Netron).
    pub optimized_model_path: Option<PathBuf>,
    /// Profile every run; the JSON trace (named from this prefix) is written by
    /// [`Session::end_profiling`].
    pub profile_prefix: Option<PathBuf>,
    /// ONNX Runtime's CPU memory arena (a BFC arena that grows by powers of two and never
    /// returns memory). Off, intermediate tensors come from the system allocator.
    pub cpu_arena: bool,
    /// ONNX Runtime's memory pattern: after the first run, one block planned for all
    /// intermediates of a run at those input shapes. Off by default: with the arena on, that block
    /// comes on top of the arena chunks the first run already grew, which nearly doubles a
    /// training session's peak memory (config B of `embedlab bench`: 1,089 MB on, 606 MB off)
    /// for no measurable speed.
    pub memory_pattern: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            intra_threads: None,
            inter_threads: None,
            optimization: OptimizationLevel::All,
            deterministic: false,
            optimized_model_path: None,
            profile_prefix: None,
            cpu_arena: true,
            memory_pattern: false,
        }
    }
}
