//! Runs exported graphs through `embedlab::runtime` with owned host tensors (test convenience).
use embedlab::graph::Tensor;
use embedlab::runtime::{self, Feeds, Session, SessionOptions};

pub struct Exec(Session);

impl Exec {
    pub fn new(bytes: &[u8]) -> Exec {
        runtime::init().expect("ONNX Runtime library");
        let opts = SessionOptions {
            intra_threads: Some(2),
            ..Default::default()
        };
        Exec(Session::from_bytes("test", bytes, &opts).expect("session"))
    }
    /// Runs with the given feeds; returns every output in the graph's output order.
    pub fn run(&mut self, feeds: &[(String, Tensor)]) -> Vec<(String, Tensor)> {
        let mut f = Feeds::new();
        for (n, t) in feeds {
            f.tensor(n.clone(), t);
        }
        self.0.run(&f).expect("run").to_tensors().expect("outputs")
    }
}
