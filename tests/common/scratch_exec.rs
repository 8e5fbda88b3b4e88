// Temporary executor over ort until runtime lands (not committed).
use embedlab::graph::{Tensor, TensorData};
use ort::session::Session;
use ort::value::TensorRef;
use std::sync::OnceLock;

static ENV: OnceLock<ort::environment::Environment> = OnceLock::new();

fn env() -> &'static ort::environment::Environment {
    ENV.get_or_init(|| {
        ort::init_from("/tmp/ortwheel/onnxruntime/capi/libonnxruntime.so.1.32.0").unwrap().build().unwrap()
    })
}

pub struct Exec(Session);

impl Exec {
    pub fn new(bytes: &[u8]) -> Exec {
        let e = env();
        let s = Session::builder(e).unwrap().with_optimization_level(ort::session::builder::GraphOptimizationLevel::Disable).unwrap().with_intra_threads(2).unwrap().commit_from_memory(bytes).unwrap();
        Exec(s)
    }
    pub fn run(&mut self, feeds: &[(String, Tensor)]) -> Vec<(String, Tensor)> {
        let mut vals: Vec<(String, ort::session::SessionInputValue)> = Vec::new();
        for (n, t) in feeds {
            let v: ort::session::SessionInputValue = match &t.data {
                TensorData::F32(d) => TensorRef::from_array_view((t.shape.clone(), d.as_slice())).unwrap().into(),
                TensorData::F64(d) => TensorRef::from_array_view((t.shape.clone(), d.as_slice())).unwrap().into(),
                TensorData::I64(d) => TensorRef::from_array_view((t.shape.clone(), d.as_slice())).unwrap().into(),
                TensorData::Bool(d) => TensorRef::from_array_view((t.shape.clone(), d.as_slice())).unwrap().into(),
            };
            vals.push((n.clone(), v));
        }
        let names: Vec<String> = self.0.outputs().iter().map(|o| o.name().to_string()).collect();
        let out = self.0.run(vals).unwrap();
        names
            .iter()
            .map(|n| {
                let v = &out[n.as_str()];
                let t = if let Ok((s, d)) = v.try_extract_tensor::<f64>() {
                    Tensor::f64(s.iter().map(|&x| x as usize).collect::<Vec<_>>(), d.to_vec())
                } else if let Ok((s, d)) = v.try_extract_tensor::<f32>() {
                    Tensor::f32(s.iter().map(|&x| x as usize).collect::<Vec<_>>(), d.to_vec())
                } else if let Ok((s, d)) = v.try_extract_tensor::<i64>() {
                    Tensor::i64(s.iter().map(|&x| x as usize).collect::<Vec<_>>(), d.to_vec())
                } else {
                    let (s, d) = v.try_extract_tensor::<bool>().unwrap();
                    Tensor::bool(s.iter().map(|&x| x as usize).collect::<Vec<_>>(), d.to_vec())
                };
                (n.clone(), t)
            })
            .collect()
    }
}
