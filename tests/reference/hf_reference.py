#!/usr/bin/env python3
"""An independent float64 numpy forward pass of a Hugging Face directory written by
`embedlab export --format hf`, as Hugging Face and sentence-transformers define it.

It shares no code with embedlab: it reads config.json, model.safetensors (numpy alone, see
`read_safetensors`) and the sentence-transformers files, and tokenizes with the `tokenizers` pip
package from the directory's own tokenizer.json (its truncation and [CLS]/[SEP] template as
written). BERT as the paper and Hugging Face's BertModel define it: word + position + token-type
embeddings, LayerNorm, then post-LN layers (self-attention over the unpadded keys, exact erf GELU
or ReLU), LayerNorm eps from config.json.

- A directory with modules.json is run as sentence-transformers runs it: the Transformer's token
  features, then Pooling (cls or mean over the attention mask) and, when listed, Dense (a Linear
  with the identity activation): one vector per text (the logits, with a head).
- A BertForTokenClassification directory gives one logit vector per token.

    python3 tests/reference/hf_reference.py DIR INPUT.json

INPUT.json: {"texts": [...]} with optional "pairs": [...] (second texts) or "words": [[...]]
(pre-split words, for tagging). Prints JSON: the layout, the label names, and per input its ids,
token-type ids and logits.
"""

import json
import math
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    """safetensors: u64 little-endian header length, a JSON header, then the raw tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        arr = np.frombuffer(body[start:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        out[name] = arr.astype(np.float64)
    return out, header.get("__metadata__", {})


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


_erf = np.vectorize(math.erf)


def activation(name, x):
    if name == "gelu":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    if name == "relu":
        return np.maximum(x, 0.0)
    raise SystemExit(f"hidden_act {name!r} is not one this reference implements")


def bert(w, cfg, p, ids, types):
    """BertModel's last hidden state [T, d] for one unpadded sequence."""
    eps = cfg["layer_norm_eps"]
    h_n = cfg["num_attention_heads"]
    d = cfg["hidden_size"]
    dh = d // h_n
    t = len(ids)
    assert cfg.get("position_embedding_type", "absolute") == "absolute"
    x = w[p + "embeddings.word_embeddings.weight"][ids]
    x = x + w[p + "embeddings.position_embeddings.weight"][:t]
    x = x + w[p + "embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"], eps)

    def lin(name, v):
        return v @ w[name + ".weight"].T + w[name + ".bias"]

    for i in range(cfg["num_hidden_layers"]):
        L = f"{p}encoder.layer.{i}."
        q = lin(L + "attention.self.query", x).reshape(t, h_n, dh).transpose(1, 0, 2)
        k = lin(L + "attention.self.key", x).reshape(t, h_n, dh).transpose(1, 0, 2)
        v = lin(L + "attention.self.value", x).reshape(t, h_n, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        s = np.exp(s - s.max(-1, keepdims=True))
        a = s / s.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(1, 0, 2).reshape(t, d)
        x = layer_norm(
            x + lin(L + "attention.output.dense", ctx),
            w[L + "attention.output.LayerNorm.weight"],
            w[L + "attention.output.LayerNorm.bias"],
            eps,
        )
        f = lin(L + "output.dense", activation(cfg["hidden_act"], lin(L + "intermediate.dense", x)))
        x = layer_norm(x + f, w[L + "output.LayerNorm.weight"], w[L + "output.LayerNorm.bias"], eps)
    return x


def load_json(*parts):
    with open(os.path.join(*parts)) as f:
        return json.load(f)


def main():
    from tokenizers import Tokenizer

    d, input_path = sys.argv[1], sys.argv[2]
    inp = load_json(input_path)
    cfg = load_json(d, "config.json")
    assert cfg["model_type"] == "bert", cfg["model_type"]
    w, meta = read_safetensors(os.path.join(d, "model.safetensors"))
    assert meta.get("format") == "pt", meta
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    tok_cfg = load_json(d, "tokenizer_config.json")
    arch = cfg["architectures"][0]
    prefix = "bert." if arch == "BertForTokenClassification" else ""

    encodings = []
    for i, text in enumerate(inp["texts"]):
        if inp.get("words"):
            enc = tok.encode(inp["words"][i], is_pretokenized=True)
        elif inp.get("pairs"):
            enc = tok.encode(text, inp["pairs"][i])
        else:
            enc = tok.encode(text)
        encodings.append(enc)

    modules = None
    if os.path.exists(os.path.join(d, "modules.json")):
        modules = load_json(d, "modules.json")
    out = {
        "architecture": arch,
        "truncation": tok.truncation,
        "model_max_length": tok_cfg["model_max_length"],
        "modules": [m["type"].rsplit(".", 1)[-1] for m in modules or []],
        "labels": [cfg["id2label"][str(i)] for i in range(len(cfg.get("id2label", {})))],
        "rows": [],
    }
    stages = []
    for m in modules or []:
        kind = m["type"].rsplit(".", 1)[-1]
        if kind == "Transformer":
            assert m["path"] == "", "the Transformer is saved at the root"
            out["max_seq_length"] = load_json(d, "sentence_bert_config.json")["max_seq_length"]
        elif kind == "Pooling":
            pc = load_json(d, m["path"], "config.json")
            modes = [k for k, v in pc.items() if k.startswith("pooling_mode_") and v]
            assert len(modes) == 1, modes
            stages.append(("pool", modes[0]))
            out["pooling"] = modes[0]
        elif kind == "Dense":
            dc = load_json(d, m["path"], "config.json")
            assert dc["activation_function"] == "torch.nn.modules.linear.Identity", dc
            dw, _ = read_safetensors(os.path.join(d, m["path"], "model.safetensors"))
            stages.append(("dense", dw))
            out["dense_labels"] = load_json(d, m["path"], "labels.json")
        else:
            raise SystemExit(f"module {kind} is not one this reference implements")

    for enc in encodings:
        ids = np.array(enc.ids)
        types = np.array(enc.type_ids)
        feats = bert(w, cfg, prefix, ids, types)
        if arch == "BertForTokenClassification":
            logits = feats @ w["classifier.weight"].T + w["classifier.bias"]
        else:
            v = feats
            for kind, arg in stages:
                if kind == "pool":
                    if arg == "pooling_mode_cls_token":
                        v = v[0]
                    elif arg == "pooling_mode_mean_tokens":
                        # Unpadded: every position is a real token.
                        v = v.sum(0) / max(len(ids), 1e-9)
                    else:
                        raise SystemExit(f"pooling {arg} is not one this reference implements")
                else:
                    v = v @ arg["linear.weight"].T + arg["linear.bias"]
            logits = v
        out["rows"].append({"ids": enc.ids, "type_ids": enc.type_ids, "logits": logits.tolist()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
