use embedlab::config::*;
#[test]
fn scratch() {
    let q = std::fs::read_to_string("experiments/quickstart.toml").unwrap();
    for extra in ["\n[encoder.x]\n", "", ] { let _ = extra; }
    let cases = [
        q.replace("depth = 2", "depht = 2"),
        q.replace("steps = 300", "steps = \"many\""),
        q.replace("from = \"A\"", "from = \"A\"\ntransfer = \"finetun\""),
        q.replace("[\"scratch\", \"frozen\", \"finetune\"]", "[\"scratch\", \"frozn\"]"),
        q.replace("data = \"kjv\"\n", ""),
        q.replace("heads = 2", "heads = 3"),
        q.clone(),
    ];
    for c in cases {
        match load_str(&[("experiments/quickstart.toml".into(), c)], &[], &[]) {
            Ok(l) => println!("OK {} points; {:?}", l.points.len(), l.points[0].experiment.corpus),
            Err(e) => println!("ERR {e}\n   {e:?}"),
        }
    }
}
