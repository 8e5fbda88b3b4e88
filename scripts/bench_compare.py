#!/usr/bin/env python3
"""Side-by-side benchmark of embedlab against the PyTorch reference (issue #8).

    python3 scripts/bench_compare.py [--pairs 4] [--configs a,b]

1. Creates a virtual environment (default target/bench-venv, under the ignored target/) and
   pip-installs PyTorch, onnxruntime, onnx, onnxscript and numpy there. PyTorch is never a
   dependency of embedlab itself.
2. Builds embedlab in release mode.
3. Runs `embedlab bench --json` and bench/reference/torch_bert.py alternately, config by config,
   `--pairs` times (A B A B ...), writing every result line to OUT/results.jsonl.
4. Prints each ratio's median and range over the pairs, with the load average seen before each
   run: figures taken on a busy machine are not worth comparing.

Only the standard library is needed to run this file (python3 >= 3.9).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REFERENCE = os.path.join(ROOT, "bench", "reference", "torch_bert.py")
# The default `torch` wheel on PyPI for Linux x86-64 pulls the CUDA libraries too (about 5 GB
# installed); it runs on a CPU-only machine all the same. Pinned for reproducible figures.
PACKAGES = ["torch==2.15.0", "onnxruntime==1.32.0", "onnx", "onnxscript", "numpy"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def ensure_venv(venv, packages):
    py = venv_python(venv)
    if not os.path.exists(py):
        log(f"creating virtual environment {venv}")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    probe = "import torch, onnxruntime, onnx, onnxscript, numpy"
    if subprocess.run([py, "-c", probe], capture_output=True).returncode != 0:
        log(f"installing {' '.join(packages)} into {venv} (several GB, once)")
        subprocess.run([py, "-m", "pip", "install", "--progress-bar", "off", *packages], check=True)
    return py


# Instruction-set flags worth naming (from /proc/cpuinfo): vector widths, FMA, int8 dot
# products (VNNI) and matrix units (AMX), which decide ONNX Runtime's and PyTorch's kernels.
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
             "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")


def cpu_summary():
    """The processor model and its instruction-set flags (Linux /proc/cpuinfo)."""
    model, flags, cpus = "unknown processor", set(), 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name":
                    model = value.strip()
                    cpus += 1
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    have = [x for x in ISA_FLAGS if x in flags]
    return f"processor: {model} ({cpus} logical CPUs)\ninstruction sets: {' '.join(have) or 'unknown'}"


def build_embedlab():
    log("building embedlab (release)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    exe = os.path.join(target if os.path.isabs(target) else os.path.join(ROOT, target),
                       "release", "embedlab")
    if not os.path.exists(exe):
        raise SystemExit(f"embedlab binary not found at {exe}")
    return exe


def run_json(argv):
    load = os.getloadavg()[0]
    t0 = time.time()
    r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stderr[-4000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["load_before"] = load
    out["wall_s"] = time.time() - t0
    return out


def ratios(results, configs):
    """Per metric, the list of ratios over the pairs (pair i = the i-th embedlab and reference
    runs of a config)."""
    by = {}
    for r in results:
        by.setdefault((r["tool"], r["cfg"]), []).append(r)
    out = {}
    for c in configs:
        C = c.upper()
        pairs = list(zip(by.get(("embedlab", c), []), by.get(("torch", c), [])))
        hf_pairs = list(zip(by.get(("embedlab", c), []), by.get(("torch-hf", c), [])))
        out.setdefault(f"train {C}: embedlab / Hugging Face-style PyTorch (logits at every "
                       "position)", []).extend(
            e["train_tokens_per_s"] / t["train_tokens_per_s"] for e, t in hf_pairs)
        def add(name, f):
            out.setdefault(name, []).extend(f(e, t) for e, t in pairs)
        add(f"train {C}: embedlab / PyTorch eager",
            lambda e, t: e["train_tokens_per_s"] / t["train_tokens_per_s"])
        add(f"encode {C}: embedlab / PyTorch-exported ONNX in onnxruntime",
            lambda e, t: e["encode_tokens_per_s"] / t["encode_ort_tokens_per_s"])
        add(f"encode {C}: embedlab / PyTorch eager",
            lambda e, t: e["encode_tokens_per_s"] / t["encode_eager_tokens_per_s"])
        add(f"encode {C}: embedlab fused / embedlab unfused (same run)",
            lambda e, t: e["encode_tokens_per_s"] / e["encode_unfused_tokens_per_s"])
        add(f"encode {C}: exported int8 / exported f32 (embedlab export, same run)",
            lambda e, t: e["export_int8_tokens_per_s"] / e["export_f32_tokens_per_s"])
        add(f"train {C}: embedlab GFLOP/s / sgemm GFLOP/s",
            lambda e, t: e["train_gflops_per_s"] / t["sgemm_gflops_per_s"])
        add(f"train {C}: peak RSS embedlab / PyTorch",
            lambda e, t: e["peak_rss_train_mb"] / t["peak_rss_train_mb"])
    return out


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def summary(results, configs):
    lines = []
    rs = ratios(results, configs)
    lines.append("| ratio | median | range | pairs |")
    lines.append("|---|---|---|---|")
    for name, xs in rs.items():
        if xs:
            lines.append(f"| {name} | {median(xs):.2f} | {min(xs):.2f}-{max(xs):.2f} | {len(xs)} |")
    lines.append("")
    lines.append("| figure (median over runs) | " + " | ".join(
        f"{t} {c.upper()}" for c in configs for t in ("embedlab", "PyTorch")) + " |")
    lines.append("|---|" + "---|" * (2 * len(configs)))
    rows = [
        ("train tokens/s", "train_tokens_per_s", "train_tokens_per_s"),
        ("train ms/step", "train_step_ms", "train_step_ms"),
        ("train GFLOP/s", "train_gflops_per_s", "train_gflops_per_s"),
        ("encode tokens/s", "encode_tokens_per_s", "encode_eager_tokens_per_s"),
        ("encode tokens/s, exported ONNX in onnxruntime", None, "encode_ort_tokens_per_s"),
        ("encode tokens/s, embedlab export f32", "export_f32_tokens_per_s", None),
        ("encode tokens/s, embedlab export int8", "export_int8_tokens_per_s", None),
        ("sgemm GFLOP/s (numpy, config's FFN shapes)", None, "sgemm_gflops_per_s"),
        ("outside ONNX Runtime, share of a step", "outside_ort_share", None),
        ("peak RSS training, MB", "peak_rss_train_mb", "peak_rss_train_mb"),
        ("load average before the run (max)", "load_before", "load_before"),
    ]
    for label, ek, tk in rows:
        cells = []
        for c in configs:
            for tool, key in (("embedlab", ek), ("torch", tk)):
                xs = [r[key] for r in results if r["tool"] == tool and r["cfg"] == c and key]
                if not xs:
                    cells.append("")
                elif key == "load_before":
                    cells.append(f"{max(xs):.2f}")
                elif key == "outside_ort_share":
                    cells.append(f"{100 * median(xs):.1f}%")
                else:
                    cells.append(f"{median(xs):,.1f}" if median(xs) < 100 else f"{median(xs):,.0f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Config A's model (2 layers, d 128, rows of 32 x 64) pretrained by MLM on the shipped WordNet
# definitions, packed and unpacked: real (non-padding) tokens per second as runs.csv reports them.
PACKING_TOML = """name = "packing"
seeds = [1]

[corpus.wordnet]
path = "{data}/wordnet/glosses.txt.gz"

[dataset.supersense]
path = "{data}/wordnet/supersense.tsv.gz"
split = "split"
filter = {{ max_train = 100 }}
unseen_labels = "ignore"

[tokenizer]
kind = "wordpiece"
vocab_size = 8000
fit_on = ["wordnet"]

[encoder]
depth = 2
d_model = 128
heads = 2
ffn = 512
max_len = 64

[pretrain.A]
task = "mlm"
data = "wordnet"
steps = {steps}
batch_size = 32
seq_len = 64

[downstream.C]
data = "supersense"
from = "A"
transfer = "frozen"
epochs = 1
seq_len = 64

[sweep]
"pretrain.A.pack" = [true, false]
"""


def packing_figures(exe, out, steps):
    """Real tokens/s and padding share of MLM pretraining on the shipped corpus, packed and
    unpacked (one run each, the embedlab experiment runner itself)."""
    work = os.path.join(out, "packing")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    toml = os.path.join(work, "packing.toml")
    with open(toml, "w") as f:
        f.write(PACKING_TOML.format(data=os.path.join(ROOT, "data"), steps=steps))
    r = subprocess.run([exe, "run", toml, "--out", os.path.join(work, "out")], cwd=ROOT,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"the packing run failed ({r.returncode}):\n{r.stderr[-4000:]}")
    import csv
    rows = list(csv.DictReader(open(os.path.join(work, "out", "packing", "runs.csv"))))
    lines = ["| MLM pretraining on the WordNet definitions (config A's model) | real tokens/s | "
             "padding share |", "|---|---|---|"]
    for row in rows:
        lines.append(f"| pack = {row['pretrain.A.pack']} | "
                     f"{float(row['pretrain_real_tokens_per_second']):,.0f} | "
                     f"{100 * float(row['pretrain_padding_share']):.1f}% |")
    return "\n".join(lines)


def profile(exe, configs, threads, out):
    """Profiles one short `embedlab bench` per config (training steps and encode passes) and
    prints where the time goes (scripts/profile_summary.py). Not timed: profiling slows a run."""
    summarise = os.path.join(ROOT, "scripts", "profile_summary.py")
    for c in configs:
        prefix = os.path.join(out, f"profile-{c}")
        argv = [exe, "bench", "--config", c, "--json", "--steps", "3", "--threads", str(threads),
                "--profile", prefix]
        r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stderr[-4000:]}")
        for line in r.stderr.splitlines():
            what, sep, path = line.partition(" profile: ")
            if not sep:
                continue
            print(f"\nprofile, config {c.upper()}, {what} ({path.strip()}):")
            sys.stdout.flush()
            subprocess.run([sys.executable, summarise, path.strip()], cwd=ROOT, check=True)


def main():
    p = argparse.ArgumentParser(description="embedlab vs PyTorch, side by side (issue #8)")
    p.add_argument("--pairs", type=int, default=4, help="runs of each tool per config")
    p.add_argument("--quick", action="store_true",
                   help="one pair with fewer steps (--pairs 1 --steps 8 --ref-steps 5): a first look")
    p.add_argument("--configs", default="a,b")
    p.add_argument("--steps", type=int, default=20, help="embedlab's timed steps per run")
    p.add_argument("--ref-steps", type=int, default=10, help="the reference's timed steps per run")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--venv", default=os.path.join(ROOT, "target", "bench-venv"))
    p.add_argument("--out", default=os.path.join(ROOT, "target", "bench-compare"))
    p.add_argument("--profile", action="store_true",
                   help="after the timed runs, profile a training step and an encode per config "
                        "and print where the time goes")
    p.add_argument("--summary-only", metavar="RESULTS_JSONL",
                   help="print the summary of an earlier run's results.jsonl and exit")
    args = p.parse_args()
    configs = [c.strip().lower() for c in args.configs.split(",") if c.strip()]
    if args.quick:
        args.pairs, args.steps, args.ref_steps = 1, 8, 5
    print(cpu_summary())
    print()
    if args.summary_only:
        with open(args.summary_only) as f:
            results = [json.loads(l) for l in f if l.strip()]
        print(summary(results, configs))
        return
    if shutil.which("cargo") is None:
        raise SystemExit("cargo not found: install Rust first")
    py = ensure_venv(args.venv, PACKAGES)
    exe = build_embedlab()
    os.makedirs(args.out, exist_ok=True)
    onnx_dir = os.path.join(args.out, "onnx")
    results_path = os.path.join(args.out, "results.jsonl")
    results = []
    with open(results_path, "w") as f:
        for i in range(args.pairs):
            for c in configs:
                for tool, argv in (
                    ("embedlab", [exe, "bench", "--config", c, "--json",
                                  "--steps", str(args.steps), "--threads", str(args.threads)]),
                    ("torch", [py, REFERENCE, "--config", c, "--steps", str(args.ref_steps),
                               "--threads", str(args.threads), "--onnx-dir", onnx_dir,
                               "--sgemm"]),
                    ("torch-hf", [py, REFERENCE, "--config", c, "--steps", str(args.ref_steps),
                                  "--threads", str(args.threads), "--hf-logits"]),
                ):
                    r = run_json(argv)
                    r.update(tool=tool, cfg=c, pair=i)
                    results.append(r)
                    f.write(json.dumps(r) + "\n")
                    f.flush()
                    log(f"pair {i + 1}/{args.pairs} config {c.upper()} {tool}: "
                        f"train {r['train_tokens_per_s']:,.0f} tokens/s "
                        f"(load before {r['load_before']:.2f}, {r['wall_s']:.0f} s)")
    print(summary(results, configs))
    log("packing: MLM pretraining on the shipped corpus, packed and unpacked")
    loads_packing = os.getloadavg()[0]
    print()
    print(packing_figures(exe, args.out, 40 if args.quick else 100))
    print(f"(load before the packing runs: {loads_packing:.2f})")
    loads = [r["load_before"] for r in results]
    print(f"\nload average (1 min) before the runs: {min(loads):.2f}-{max(loads):.2f}"
          + ("  -- above 1.2: these timings are not trustworthy" if max(loads) > 1.2 else ""))
    print(f"results: {results_path}")
    if args.profile:
        profile(exe, configs, args.threads, args.out)


if __name__ == "__main__":
    main()
