//! The catalogue of bad inputs: every case, what it changes in the base experiment and what
//! must come out.
use super::setup::{old_library, other_library, read_only_out, unreadable_data};
use super::{Case, Expect, LABELED};

/// `text` with `line` inserted so that it becomes line `n` (1-based).
fn insert_line(text: &str, n: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(n - 1, line);
    lines.join("\n") + "\n"
}

/// The fixture dataset without its test rows.
fn without_test_split() -> String {
    LABELED
        .lines()
        .filter(|l| !l.ends_with("\ttest"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Every case, in the order the catalogue prints them.
pub(super) fn catalogue() -> Vec<Case> {
    let invalid = Case::invalid;
    let tsv_row = |text: &str, label: &str, split: &str| format!("{text}\t{label}\t{split}");
    vec![
        // ---- malformed TOML ----
        invalid("toml_unclosed_table_header", &["invalid TOML"])
            .edit("[encoder]", "[encoder")
            .at("[encoder"),
        invalid("toml_duplicate_key", &["invalid TOML", "duplicate key"])
            .edit("depth = 2", "depth = 2\ndepth = 3")
            .at("depth = 3"),
        invalid("toml_unterminated_string", &["invalid TOML"])
            .edit("name = \"bad\"", "name = \"bad")
            .at("name = \"bad"),
        invalid("toml_bad_number", &["invalid TOML"])
            .edit("depth = 2", "depth = 2x")
            .at("depth = 2x"),
        invalid(
            "experiment_file_not_utf8",
            &["exp.toml", "cannot read", "UTF-8"],
        )
        .toml_bytes(b"name = \"\xff\xfe\"\n"),
        invalid("experiment_file_missing", &["nothere.toml", "cannot read"])
            .arg("{dir}/nothere.toml"),
        // ---- unknown keys ----
        invalid(
            "unknown_key_misspelt",
            &["encoder.depht: unknown key", "did you mean 'depth'"],
        )
        .edit("depth = 2", "depht = 2")
        .at("depht"),
        invalid(
            "unknown_section",
            &["encodr: unknown key", "did you mean 'encoder'"],
        )
        .edit("[encoder]", "[encodr]")
        .at("[encodr]"),
        invalid(
            "unknown_key_in_inline_table",
            &[
                "downstream.C.optimizer.lrr: unknown key",
                "did you mean 'lr'",
            ],
        )
        .append("optimizer = { lrr = 1e-3 }\n")
        .at("optimizer = {"),
        invalid(
            "unknown_top_level_key",
            &["seed: unknown key", "did you mean 'seeds'"],
        )
        .edit("seeds = [1]", "seed = [1]")
        .at("seed = [1]"),
        // ---- wrong types ----
        invalid(
            "string_for_integer",
            &["encoder.depth: expected a non-negative integer, found a string"],
        )
        .edit("depth = 2", "depth = \"two\"")
        .at("depth ="),
        invalid(
            "negative_integer",
            &["encoder.depth: expected a non-negative integer"],
        )
        .edit("depth = 2", "depth = -1")
        .at("depth ="),
        invalid("scalar_for_array", &["seeds: expected an array"])
            .edit("seeds = [1]", "seeds = 1")
            .at("seeds ="),
        invalid(
            "unknown_enum_value",
            &[
                "downstream.C.transfer: unknown value 'freeze'",
                "(expected one of: scratch, frozen, finetune, lp-ft)",
            ],
        )
        .edit("transfer = \"finetune\"", "transfer = \"freeze\"")
        .at("transfer ="),
        invalid("string_for_number", &["encoder.dropout: expected a number"])
            .edit("max_len = 16", "max_len = 16\ndropout = \"high\"")
            .at("dropout ="),
        // ---- out of range ----
        invalid("depth_zero", &["encoder.depth: must be at least 1"])
            .edit("depth = 2", "depth = 0")
            .at("depth ="),
        invalid(
            "heads_do_not_divide_d_model",
            &["encoder.heads: 3 heads do not divide d_model = 16"],
        )
        .edit("heads = 2", "heads = 3")
        .at("heads ="),
        invalid(
            "lr_zero",
            &["downstream.C.optimizer.lr: 0 is not a positive learning rate"],
        )
        .append("optimizer = { lr = 0.0 }\n")
        .at("optimizer ="),
        invalid(
            "lr_negative",
            &["downstream.C.optimizer.lr: -0.001 is not a positive learning rate"],
        )
        .append("optimizer = { lr = -1e-3 }\n")
        .at("optimizer ="),
        invalid(
            "probe_lr_zero",
            &["downstream.C.probe.lr: 0 is not a positive learning rate"],
        )
        .append("probe = { epochs = 50, lr = 0.0 }\n")
        .at("probe ="),
        invalid(
            "probe_epochs_zero",
            &["downstream.C.probe.epochs: must be at least 1"],
        )
        .append("probe = { epochs = 0 }\n")
        .at("probe ="),
        invalid("dropout_one", &["encoder.dropout: 1 is outside [0, 1)"])
            .edit("max_len = 16", "max_len = 16\ndropout = 1.0")
            .at("dropout ="),
        invalid(
            "vocab_size_too_small",
            &["tokenizer.vocab_size: 5 is too small", "5 special tokens"],
        )
        .edit("vocab_size = 120", "vocab_size = 5")
        .at("vocab_size ="),
        invalid(
            "seq_len_beyond_max_len",
            &["downstream.C.seq_len: 64 exceeds encoder.max_len = 16"],
        )
        .edit(
            "epochs = 1\nbatch_size = 8\nseq_len = 16",
            "epochs = 1\nbatch_size = 8\nseq_len = 64",
        )
        .at("seq_len = 64"),
        invalid(
            "batch_size_absurd",
            &["downstream.C.batch_size: 100000000000 is more than the limit"],
        )
        .edit(
            "epochs = 1\nbatch_size = 8",
            "epochs = 1\nbatch_size = 100000000000",
        )
        .at("batch_size = 100000000000"),
        invalid(
            "model_too_large",
            &["encoder.d_model", "parameters, more than the limit"],
        )
        .edit("d_model = 16", "d_model = 65536")
        .edit("ffn = 32", "ffn = 262144")
        .at("d_model ="),
        invalid("steps_zero", &["pretrain.A.steps: must be at least 1"])
            .edit("steps = 4", "steps = 0")
            .at("steps ="),
        invalid("no_seeds", &["seeds: needs at least one seed"])
            .edit("seeds = [1]", "seeds = []")
            .at("seeds ="),
        // ---- contradictions ----
        invalid(
            "frozen_without_pretraining",
            &[
                "downstream.C.transfer",
                "needs a pretraining stage",
                "from = \"none\"",
            ],
        )
        .edit(
            "from = \"A\"\ntransfer = \"finetune\"",
            "from = \"none\"\ntransfer = \"frozen\"",
        )
        .at("transfer ="),
        invalid(
            "layers_beyond_depth",
            &["downstream.C.layers: 3 exceeds encoder.depth = 2"],
        )
        .append("layers = 3\n")
        .at("layers ="),
        invalid(
            "cls_pooling_on_a_causal_encoder",
            &[
                "downstream.C.pooling",
                "sees only itself",
                "pooling = \"last\"",
            ],
        )
        .append("\n[pretrain.L]\ndata = \"text\"\ntask = \"clm\"\nsteps = 2\nseq_len = 16\n")
        .edit("from = \"A\"", "from = \"L\""),
        invalid(
            "pair_task_on_single_text_data",
            &[
                "downstream.C.task",
                "needs two texts",
                "no text_pair column",
            ],
        )
        .append("task = \"pair\"\n")
        .at("task = \"pair\""),
        invalid(
            "tag_task_on_data_without_tags",
            &[
                "downstream.C",
                "task = \"tag\" needs one tag per word",
                "labeled.tsv:2",
                "1 tag(s) for 9 word(s)",
            ],
        )
        .append("task = \"tag\"\n"),
        invalid(
            "sweep_over_unknown_key",
            &["sweep.\"encoder.depht\"", "did you mean 'depth'"],
        )
        .append("\n[sweep]\n\"encoder.depht\" = [1, 2]\n")
        .at("\"encoder.depht\""),
        invalid(
            "sweep_value_out_of_range",
            &[
                "encoder.depth: must be at least 1",
                "in sweep cell encoder.depth = 0",
            ],
        )
        .append("\n[sweep]\n\"encoder.depth\" = [1, 0]\n")
        .at("\"encoder.depth\" = [1, 0]"),
        invalid(
            "downstream_on_unknown_dataset",
            &[
                "downstream.C.data: unknown dataset 'wrds'",
                "did you mean 'words'",
            ],
        )
        .edit("data = \"words\"", "data = \"wrds\"")
        .at("data = \"wrds\""),
        invalid(
            "split_column_and_ratios",
            &["dataset.words.ratios", "either a split column"],
        )
        .edit(
            "split = \"split\"",
            "split = \"split\"\nratios = [0.8, 0.1, 0.1]",
        )
        .at("ratios ="),
        invalid(
            "ratios_not_summing_to_one",
            &["dataset.words.ratios", "sum to 1"],
        )
        .edit("split = \"split\"", "ratios = [0.8, 0.3, 0.1]")
        .at("ratios ="),
        invalid(
            "invalid_regex_filter",
            &[
                "dataset.words.filter.include",
                "not a valid regular expression",
                "unclosed group",
            ],
        )
        .edit(
            "split = \"split\"",
            "split = \"split\"\nfilter = { include = \"(\" }",
        )
        .at("filter ="),
        // ---- data files ----
        invalid(
            "data_empty_after_filtering_in_one_sweep_cell",
            &[
                "dataset.words",
                "nothing left after filtering",
                "(in sweep cell dataset.words.filter.min_chars = 10000)",
            ],
        )
        .append("\n[sweep]\n\"dataset.words.filter.min_chars\" = [1, 10000]\n"),
        invalid(
            "data_file_missing",
            &["dataset.words.path", "labeled.tsv does not exist"],
        )
        .remove("labeled.tsv"),
        invalid(
            "data_file_unreadable",
            &[
                "dataset.words",
                "labeled.tsv",
                "cannot read",
                "ermission denied",
            ],
        )
        .setup(unreadable_data),
        invalid(
            "data_path_is_a_directory",
            &["dataset.words", "labeled.tsv", "cannot read", "directory"],
        )
        .remove("labeled.tsv")
        .file("labeled.tsv/keep", ""),
        invalid(
            "data_file_empty",
            &["dataset.words", "labeled.tsv: no data"],
        )
        .file("labeled.tsv", ""),
        invalid(
            "data_file_header_only",
            &[
                "dataset.words",
                "labeled.tsv: no data (the file holds no rows after the header)",
            ],
        )
        .file("labeled.tsv", "text\tlabel\tsplit\n"),
        invalid(
            "corpus_blank_lines_only",
            &[
                "corpus.text",
                "corpus.txt: no data (the file holds no non-blank lines)",
            ],
        )
        .file("corpus.txt", "\n  \n\n"),
        invalid(
            "data_empty_after_filtering",
            &[
                "dataset.words",
                "nothing left after filtering",
                "min_chars 72",
            ],
        )
        .edit(
            "split = \"split\"",
            "split = \"split\"\nfilter = { min_chars = 10000 }",
        ),
        invalid(
            "data_ragged_tsv",
            &[
                "dataset.words",
                "labeled.tsv:5: expected 3 fields like the header, found 2",
            ],
        )
        .file(
            "labeled.tsv",
            insert_line(LABELED, 5, "a ragged row\tanimal"),
        ),
        invalid(
            "data_not_utf8",
            &["dataset.words", "labeled.tsv:3: invalid UTF-8"],
        )
        .file("labeled.tsv", {
            let mut b = insert_line(LABELED, 3, "caf\u{e9}\tanimal\ttrain").into_bytes();
            let at = b.windows(2).position(|w| w == "\u{e9}".as_bytes()).unwrap();
            b.splice(at..at + 2, [0xe9]);
            b
        }),
        invalid(
            "data_missing_column",
            &[
                "dataset.words",
                "labeled.tsv:1: column 'lable' (label) not found",
                "did you mean 'label'",
            ],
        )
        .edit("split = \"split\"", "split = \"split\"\nlabel = \"lable\""),
        invalid(
            "data_unknown_split_value",
            &[
                "dataset.words",
                "labeled.tsv:4: split 'tset' is not one of train, dev",
            ],
        )
        .file(
            "labeled.tsv",
            insert_line(LABELED, 4, &tsv_row("a new row", "animal", "tset")),
        ),
        invalid(
            "data_bad_gzip",
            &["dataset.words", "labeled.tsv.gz: not a valid gzip file"],
        )
        .edit("path = \"labeled.tsv\"", "path = \"labeled.tsv.gz\"")
        .file("labeled.tsv.gz", b"\x1f\x8b\x08\x00garbage".to_vec()),
        invalid(
            "unknown_label_in_test",
            &[
                "downstream.C",
                "label 'animall'",
                "labeled.tsv:74",
                "(test split)",
                "never occurs in train",
                "did you mean 'animal'",
                "unseen_labels = \"ignore\"",
            ],
        )
        .file(
            "labeled.tsv",
            format!(
                "{LABELED}{}\n",
                tsv_row("a word for a mule in the land", "animall", "test")
            ),
        ),
        invalid(
            "no_test_examples",
            &["downstream.C", "dataset 'words' has no test examples"],
        )
        .file("labeled.tsv", without_test_split()),
        invalid(
            "tokenizer_file_missing",
            &["tokenizer.path", "tok.json does not exist"],
        )
        .edit(
            "kind = \"wordpiece\"",
            "kind = \"file\"\npath = \"tok.json\"",
        ),
        // ---- ONNX Runtime library ----
        invalid(
            "ort_library_missing",
            &[
                "could not load the ONNX Runtime library",
                "ORT_DYLIB_PATH",
                "/nonexistent/libonnxruntime.so",
                "no such file",
            ],
        )
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so"),
        invalid(
            "ort_library_not_a_library",
            &[
                "could not load the ONNX Runtime library",
                "libonnxruntime.so",
                "not a loadable library",
            ],
        )
        .file("libonnxruntime.so", "this is not a shared library\n")
        .env("ORT_DYLIB_PATH", "{dir}/libonnxruntime.so"),
        invalid(
            "ort_library_too_old",
            &[
                "could not load the ONNX Runtime library",
                "libonnxruntime.so.1.10.0",
                "ONNX Runtime 1.10.0 is too old",
                "needs >= 1.",
            ],
        )
        .setup(old_library),
        invalid(
            "ort_library_of_another_kind",
            &[
                "could not load the ONNX Runtime library",
                "libz.so",
                "not an ONNX Runtime library",
            ],
        )
        .setup(other_library),
        // ---- output folder ----
        invalid(
            "output_under_a_regular_file",
            &["--out", "cannot write results there", "ot a directory"],
        )
        .file("plain.txt", "x")
        .out("plain.txt/results"),
        invalid(
            "output_dir_read_only",
            &["--out", "cannot write results there", "ermission denied"],
        )
        .setup(read_only_out)
        .out("ro/results"),
        // ---- command line and environment ----
        invalid(
            "set_without_equals",
            &["--set encoder.depth", "expected KEY=VALUE"],
        )
        .arg("--set")
        .arg("encoder.depth"),
        invalid(
            "set_out_of_range",
            &["--set encoder.depth=0", "encoder.depth: must be at least 1"],
        )
        .arg("--set")
        .arg("encoder.depth=0"),
        invalid(
            "env_wrong_type",
            &[
                "environment variable EMBEDLAB_ENCODER__DEPTH",
                "encoder.depth: expected a non-negative integer",
            ],
        )
        .env("EMBEDLAB_ENCODER__DEPTH", "deep"),
        invalid("shard_out_of_range", &["--shard \"3/2\"", "expected I/N"])
            .arg("--shard")
            .arg("3/2"),
        // ---- found only mid-grid: a failed run with its reason, the grid goes on ----
        Case::new(
            "non_finite_loss_downstream",
            Expect::FailedRuns { ok: 1 },
            &["downstream.C", "non-finite loss", "at step"],
        )
        .edit("transfer = \"finetune\"", "transfer = \"scratch\"")
        .append("\n[sweep]\n\"downstream.C.optimizer.lr\" = [3e-3, 1e30]\n"),
        Case::new(
            "non_finite_loss_pretraining",
            Expect::FailedRuns { ok: 1 },
            &["pretrain.A", "non-finite", "at step"],
        )
        .edit(
            "steps = 4",
            "steps = 4\noptimizer = { lr = 1e30, clip_norm = 0.0 }",
        )
        .append("\n[sweep]\n\"downstream.C.transfer\" = [\"scratch\", \"finetune\"]\n"),
    ]
}
