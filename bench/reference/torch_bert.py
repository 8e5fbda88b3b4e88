#!/usr/bin/env python3
"""PyTorch reference for `embedlab bench` (issue #8): the same BERT-style MLM model at the same
shapes, trained and run the same way, timed the same way (median step after 3 warm-up steps).

    python torch_bert.py --config a|b [--steps N] [--threads 2] [--onnx-dir DIR]

prints one JSON line: train tokens/s, encode tokens/s (eager), peak RSS while training, and, in
fresh subprocesses, encode tokens/s of the encoder exported to ONNX and run in Python
onnxruntime, and sgemm GFLOP/s (numpy, i.e. OpenBLAS) at the config's largest matmul shapes.

The model mirrors src/model/encoder.rs and src/model/tasks.rs: learned word, position and segment
embeddings summed, LayerNorm, dropout; post-LN layers (fused QKV projection, scaled dot-product
attention with an additive -10000 padding bias, dropout on the probabilities and on each sublayer
output, GELU feed-forward); the MLM head (dense, GELU, LayerNorm, output tied to the word
embeddings plus a bias) only at the masked positions; AdamW (lr 1e-4, weight decay 0.01, none on
biases and LayerNorms), clipping at global norm 1, linear decay. LayerNorm eps 1e-12.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

CONFIGS = {
    # depth, d_model, heads, batch, seq
    "a": (2, 128, 2, 32, 64),
    "b": (4, 256, 4, 32, 128),
}
VOCAB = 8000
MASK_SHARE = 0.15


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def encoder_flops(depth, d, batch, seq):
    """Forward FLOPs of the encoder, counted as in src/bench/mod.rs."""
    tokens = batch * seq
    f = 4 * d
    per_layer = 2.0 * tokens * (4 * d * d + 2 * d * f) + 2.0 * 2.0 * tokens * seq * d
    return per_layer * depth


def build(torch, depth, d, heads, seq, hf_logits=False):
    nn = torch.nn
    F = torch.nn.functional

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(d, 3 * d)
            self.out = nn.Linear(d, d)
            self.attn_norm = nn.LayerNorm(d, eps=1e-12)
            self.up = nn.Linear(d, 4 * d)
            self.down = nn.Linear(4 * d, d)
            self.ffn_norm = nn.LayerNorm(d, eps=1e-12)
            self.drop = nn.Dropout(0.1)

        def forward(self, x, bias):
            b, t, _ = x.shape
            dh = d // heads
            q, k, v = self.qkv(x).split(d, dim=-1)
            q = q.view(b, t, heads, dh).transpose(1, 2)
            k = k.view(b, t, heads, dh).permute(0, 2, 3, 1)
            v = v.view(b, t, heads, dh).transpose(1, 2)
            scores = torch.matmul(q, k) * (1.0 / math.sqrt(dh)) + bias
            probs = self.drop(torch.softmax(scores, dim=-1))
            ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, d)
            h = self.attn_norm(x + self.drop(self.out(ctx)))
            f = self.down(F.gelu(self.up(h)))
            return self.ffn_norm(h + self.drop(f))

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Parameter(torch.randn(VOCAB, d) * 0.02)
            self.position = nn.Parameter(torch.randn(seq, d) * 0.02)
            self.segment = nn.Parameter(torch.randn(2, d) * 0.02)
            self.norm = nn.LayerNorm(d, eps=1e-12)
            self.drop = nn.Dropout(0.1)
            self.layers = nn.ModuleList([Layer() for _ in range(depth)])

        def forward(self, ids, mask, seg):
            x = F.embedding(ids, self.word) + self.position + F.embedding(seg, self.segment)
            x = self.drop(self.norm(x))
            bias = ((mask.to(x.dtype) - 1.0) * 10000.0)[:, None, None, :]
            for layer in self.layers:
                x = layer(x, bias)
            return x

    class Mlm(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()
            self.transform = nn.Linear(d, d)
            self.norm = nn.LayerNorm(d, eps=1e-12)
            self.bias = nn.Parameter(torch.zeros(VOCAB))

        def forward(self, ids, mask, seg, positions, labels):
            h = self.encoder(ids, mask, seg).reshape(-1, d)
            if hf_logits:
                # As Hugging Face's BertForMaskedLM: the head and the vocabulary projection at
                # every position, the loss over the masked ones (label -100 elsewhere).
                x = self.norm(F.gelu(self.transform(h)))
                logits = x @ self.encoder.word.t() + self.bias
                full = torch.full((h.shape[0],), -100, dtype=labels.dtype)
                full[positions] = labels
                return F.cross_entropy(logits, full, ignore_index=-100)
            x = self.norm(F.gelu(self.transform(h.index_select(0, positions))))
            logits = x @ self.encoder.word.t() + self.bias
            return F.cross_entropy(logits, labels)

    return Mlm()


def batches(torch, batch, seq, n_masked, count, seed=1):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(count):
        ids = torch.randint(5, VOCAB, (batch, seq), generator=g)
        mask = torch.ones(batch, seq, dtype=torch.long)
        seg = (torch.arange(seq) >= seq // 2).long().expand(batch, seq).contiguous()
        pos = torch.randperm(batch * seq, generator=g)[:n_masked].sort().values
        labels = ids.reshape(-1)[pos]
        out.append((ids, mask, seg, pos, labels))
    return out


def reference(args):
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    depth, d, heads, batch, seq = CONFIGS[args.config]
    tokens = batch * seq
    n_masked = round(tokens * MASK_SHARE)
    rss_import = peak_rss_mb()
    model = build(torch, depth, d, heads, seq, hf_logits=args.hf_logits)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "norm" in n)]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "norm" in n]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=1e-4, betas=(0.9, 0.999), eps=1e-8,
    )
    total = 1_000_000
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1.0 - s / total))
    data = batches(torch, batch, seq, n_masked, 4)

    def step(b):
        opt.zero_grad(set_to_none=True)
        loss = model(*b)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        return loss.item()

    model.train()
    for b in data[:3]:
        step(b)
    times = []
    for i in range(args.steps):
        t0 = time.perf_counter()
        step(data[i % len(data)])
        times.append(time.perf_counter() - t0)
    step_s = median(times)
    rss_train = peak_rss_mb()

    enc = model.encoder.eval()
    ids, mask, seg = data[0][:3]
    enc_times = []
    with torch.inference_mode():
        for i in range(args.steps + 2):
            t0 = time.perf_counter()
            enc(ids, mask, seg)
            if i >= 2:
                enc_times.append(time.perf_counter() - t0)
    enc_s = median(enc_times)

    head_fwd = 2.0 * n_masked * (d * d + d * VOCAB)
    train_flops = 3.0 * (encoder_flops(depth, d, batch, seq) + head_fwd)
    report = {
        "config": args.config.upper(),
        "torch": torch.__version__,
        "hf_logits": args.hf_logits,
        "params": n_params,
        "threads": args.threads,
        "train_tokens_per_s": tokens / step_s,
        "train_step_ms": step_s * 1e3,
        "train_gflops_per_s": train_flops / step_s / 1e9,
        "encode_eager_tokens_per_s": tokens / enc_s,
        "peak_rss_train_mb": rss_train,
        "rss_after_import_mb": rss_import,
    }

    if args.onnx_dir:
        os.makedirs(args.onnx_dir, exist_ok=True)
        path = os.path.join(args.onnx_dir, f"torch_encoder_{args.config}.onnx")
        if not os.path.exists(path):
            export(torch, enc, (ids, mask, seg), path)
        np_dir = os.path.join(args.onnx_dir, f"inputs_{args.config}")
        os.makedirs(np_dir, exist_ok=True)
        import numpy as np

        for name, t in zip(["input_ids", "attention_mask", "token_type_ids"], (ids, mask, seg)):
            np.save(os.path.join(np_dir, name + ".npy"), t.numpy())
        report.update(subprocess_json([sys.argv[0], "--ort-encode", path, "--inputs", np_dir,
                                       "--steps", str(args.steps), "--threads", str(args.threads)]))
        report["encode_ort_tokens_per_s"] = tokens / report.pop("ort_encode_s")
    if args.sgemm:
        report.update(subprocess_json([sys.argv[0], "--sgemm", args.config,
                                       "--threads", str(args.threads)]))
    return report


def export(torch, enc, inputs, path):
    """The encoder alone (eval mode: dropout off) to ONNX, with the new exporter when it works."""
    names = ["input_ids", "attention_mask", "token_type_ids"]
    try:
        torch.onnx.export(enc, inputs, path, input_names=names, output_names=["hidden"],
                          dynamo=True, opset_version=20, external_data=False)
    except Exception as e:  # older or newer exporters differ; fall back to the TorchScript one
        print(f"dynamo export failed ({type(e).__name__}: {e}); trying dynamo=False",
              file=sys.stderr)
        torch.onnx.export(enc, inputs, path, input_names=names, output_names=["hidden"],
                          dynamo=False, opset_version=17)


def subprocess_json(argv):
    r = subprocess.run([sys.executable] + argv, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def ort_encode(args):
    """Encode time of an exported model in onnxruntime: a process without torch in it."""
    import numpy as np
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(args.ort_encode, so, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        feeds[i.name] = np.load(os.path.join(args.inputs, i.name + ".npy"))
    times = []
    for i in range(args.steps + 2):
        t0 = time.perf_counter()
        sess.run(None, feeds)
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return {"ort_encode_s": median(times), "onnxruntime": ort.__version__}


def sgemm(args):
    """float32 matmul GFLOP/s in numpy (OpenBLAS) at the config's feed-forward shapes."""
    import numpy as np

    depth, d, heads, batch, seq = CONFIGS[args.sgemm]
    n = batch * seq
    rng = np.random.default_rng(0)
    figures = {}
    for label, (m, k, nn) in {"ffn_up": (n, d, 4 * d), "ffn_down": (n, 4 * d, d),
                              "square_1024": (1024, 1024, 1024)}.items():
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, nn), dtype=np.float32)
        c = np.empty((m, nn), dtype=np.float32)
        reps = max(3, int(2e9 / (2.0 * m * k * nn)))
        ts = []
        for _ in range(7):
            t0 = time.perf_counter()
            for _ in range(reps):
                np.matmul(a, b, out=c)
            ts.append((time.perf_counter() - t0) / reps)
        figures[label] = 2.0 * m * k * nn / median(ts) / 1e9
    # The figure the ratio uses: the best of the config's own shapes.
    return {"sgemm_gflops_per_s": max(figures["ffn_up"], figures["ffn_down"]),
            "sgemm_detail": figures, "numpy": np.__version__}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=sorted(CONFIGS), default="a")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--onnx-dir", help="export the encoder here and time it in onnxruntime")
    p.add_argument("--sgemm", nargs="?", const=True, default=False,
                   help="also measure sgemm (internal: with a config, only that)")
    p.add_argument("--hf-logits", action="store_true",
                   help="the MLM head at every position, as Hugging Face's BertForMaskedLM "
                        "(what most users run); default: only at the masked positions")
    p.add_argument("--ort-encode", help=argparse.SUPPRESS)
    p.add_argument("--inputs", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.ort_encode:
        out = ort_encode(args)
    elif isinstance(args.sgemm, str):
        os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
        out = sgemm(args)
    else:
        out = reference(args)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
