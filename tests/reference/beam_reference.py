#!/usr/bin/env python3
"""Greedy and beam search written down from Hugging Face transformers' code, for
tests/it/generation/decode.rs.

An independent transcription (plain Python, float64, no torch) of transformers 5.x
`generation/utils.py`: `GenerationMixin._sample` without sampling (greedy), and `_beam_search` with
its helpers `_get_top_k_continuations`, `_get_running_beams_for_next_iteration`,
`_update_finished_beams`, `_check_early_stop_heuristic` and `_beam_search_has_unfinished_sequences`,
kept in their batched form (all prompts step together, -1e9 masks, static finished slots), plus
`NoRepeatNGramLogitsProcessor`, the EOS and max-length stopping criteria, and `generate()`'s
dispatch on `num_beams`. torch.topk's order among equal values is unspecified; here ties go to the
lower index, and every tie met at a selection is counted and reported.

    python3 tests/reference/beam_reference.py CASES.json

CASES.json: {"cases": [{"model": MODEL, "prompts": [[token, ...], ...], "config": {
"num_beams", "max_new_tokens", "length_penalty", "early_stopping" (false | true | "never"),
"no_repeat_ngram_size", "num_return_sequences", "eos_token_id" (int or null)}}, ...]}.
MODEL: {"kind": "table", "rows": [[sequence, log_probs], ...], "fallback": log_probs} (log_probs
after exactly `sequence`, prompt included; `fallback` after any other), or {"kind": "hash",
"vocab": V} (`hash_log_probs` below; the Rust test computes the same function).
Prints JSON: {"cases": [{"generate": [[[tokens, score, sum_logprobs], ...] per prompt],
"beam": [...same, beam search even with one beam...], "ties": n}, ...]}.
"""

import json
import sys

MASK = -1.0e9
M64 = (1 << 64) - 1
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def hash_log_probs(sequence, vocab):
    """A deterministic stand-in for a model: FNV-1a over the sequence, then per token a
    splitmix64 finalizer of (hash ^ token * golden ratio), whose top 20 bits give the value
    -(bits) / 2^16 in (-16, 0]; token 1 (EOS in the tests) is divided by 4 so hypotheses do
    finish. Exact in float32 and float64."""
    h = FNV_OFFSET
    for t in sequence:
        h = ((h ^ t) * FNV_PRIME) & M64
    row = []
    for v in range(vocab):
        z = h ^ ((v * 0x9E3779B97F4A7C15) & M64)
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        z ^= z >> 31
        value = -(z >> 44) / 65536.0
        row.append(value / 4.0 if v == 1 else value)
    return row


class Model:
    def __init__(self, spec):
        self.kind = spec["kind"]
        if self.kind == "table":
            self.rows = {tuple(s): lp for s, lp in spec["rows"]}
            self.fallback = spec["fallback"]
            self.vocab = len(self.fallback)
        else:
            self.vocab = spec["vocab"]

    def log_probs(self, sequence):
        if self.kind == "table":
            return list(self.rows.get(tuple(sequence), self.fallback))
        return hash_log_probs(sequence, self.vocab)


class Ties:
    count = 0


def topk(values, k):
    """Indices of the k largest values, largest first, ties to the lower index; counts ties
    that touch the selection (equal values inside it or across its boundary), ignoring masked
    and -inf values."""
    order = sorted(range(len(values)), key=lambda i: (-values[i], i))
    window = [values[i] for i in order[: k + 1]]
    for a, b in zip(window, window[1:]):
        if a == b and a > MASK / 2:
            Ties.count += 1
    return order[:k]


def no_repeat_ngram(sequence, log_probs, n):
    """NoRepeatNGramLogitsProcessor on one row: every n-gram of the sequence whose first n-1
    tokens equal the sequence's last n-1 bans its last token."""
    if n == 0 or len(sequence) < n:
        return log_probs
    prefix = sequence[len(sequence) + 1 - n :]
    out = list(log_probs)
    for i in range(len(sequence) - n + 1):
        window = sequence[i : i + n]
        if window[:-1] == prefix:
            out[window[-1]] = float("-inf")
    return out


def processed(model, sequence, cfg):
    return no_repeat_ngram(sequence, model.log_probs(sequence), cfg["no_repeat_ngram_size"])


def greedy(model, prompts, cfg):
    """_sample with do_sample=False: argmax of the processed scores (torch.argmax: the first
    maximum); a finished sequence takes pad tokens, which are not part of its output."""
    eos = cfg["eos_token_id"]
    seqs = [list(p) for p in prompts]
    sums = [0.0] * len(prompts)
    unfinished = [True] * len(prompts)
    for _ in range(cfg["max_new_tokens"]):
        for b, seq in enumerate(seqs):
            if not unfinished[b]:
                continue
            lp = processed(model, seq, cfg)
            best = max(range(len(lp)), key=lambda v: (lp[v], -v))
            seq.append(best)
            sums[b] += lp[best]
            if best == eos:
                unfinished[b] = False
        if not any(unfinished):
            break
    lp_exp = cfg["length_penalty"]
    out = []
    for seq, p, s in zip(seqs, prompts, sums):
        tokens = seq[len(p) :]
        out.append([[tokens, s / len(tokens) ** lp_exp, s]])
    return out


def beam(model, prompts, cfg):
    nb = cfg["num_beams"]
    eos = cfg["eos_token_id"]
    es = cfg["early_stopping"]
    lpen = cfg["length_penalty"]
    max_new = cfg["max_new_tokens"]
    vocab = model.vocab
    n_eos = 0 if eos is None else 1
    keep = max(2, 1 + n_eos) * nb
    batch = len(prompts)

    # Static placeholders, as in HF: running and finished slots per prompt. Sequences hold the
    # generated part only (the prompt is fixed per item); `sums` carries the running log-prob
    # sum of each finished slot so it can be reported.
    running = [[[] for _ in range(nb)] for _ in range(batch)]
    running_scores = [[0.0] + [MASK] * (nb - 1) for _ in range(batch)]
    finished = [[[] for _ in range(nb)] for _ in range(batch)]
    finished_scores = [[MASK] * nb for _ in range(batch)]
    finished_sums = [[MASK] * nb for _ in range(batch)]
    is_finished = [[False] * nb for _ in range(batch)]
    unsatisfied = [True] * batch
    cur = 0  # cur_len - decoder_prompt_len

    while True:
        all_hits = True
        new_running, new_running_scores = [], []
        for b in range(batch):
            # a-b: log-probabilities of every beam (done prompts too, as HF runs them), processed,
            # plus the running scores, flattened beam-major.
            acc = []
            for k in range(nb):
                lp = processed(model, list(prompts[b]) + running[b][k], cfg)
                acc.extend(running_scores[b][k] + x for x in lp)
            # c: top-k continuations.
            top = topk(acc, keep)
            cand_seq = [running[b][i // vocab] + [i % vocab] for i in top]
            cand_score = [acc[i] for i in top]
            # d: stopping criteria on the continued sequences (EOS, or max length reached).
            hits = [(s[-1] == eos) or (cur + 1 >= max_new) for s in cand_seq]
            all_hits = all_hits and all(hits)
            # e: next running beams, finished ones pushed down by the mask.
            masked = [s + (MASK if h else 0.0) for s, h in zip(cand_score, hits)]
            nxt = topk(masked, nb)
            new_running.append([cand_seq[i] for i in nxt])
            new_running_scores.append([masked[i] for i in nxt])
            # f: finished beams.
            did = [h and rank < nb for rank, h in enumerate(hits)]
            scored = [s / (cur + 1) ** lpen for s in cand_score]
            full = all(is_finished[b]) and es is True
            for i in range(keep):
                if full:
                    scored[i] += MASK
                if not unsatisfied[b]:
                    scored[i] += MASK
                if not did[i]:
                    scored[i] += MASK
            merged_seq = finished[b] + cand_seq
            merged_score = finished_scores[b] + scored
            merged_sum = finished_sums[b] + cand_score
            merged_done = is_finished[b] + did
            best = topk(merged_score, nb)
            finished[b] = [merged_seq[i] for i in best]
            finished_scores[b] = [merged_score[i] for i in best]
            finished_sums[b] = [merged_sum[i] for i in best]
            is_finished[b] = [merged_done[i] for i in best]
        running, running_scores = new_running, new_running_scores
        cur += 1
        # g: the early-stop heuristic, then the loop condition.
        for b in range(batch):
            if es == "never" and lpen > 0.0:
                length = max_new
            else:
                length = cur
            best_possible = running_scores[b][0] / length**lpen
            worst = min(finished_scores[b])
            slots = [worst if f else MASK for f in is_finished[b]]
            unsatisfied[b] = unsatisfied[b] and any(best_possible > w for w in slots)
        improvement_possible = any(unsatisfied)
        exists_open_beam = not (all(all(f) for f in is_finished) and es is True)
        valid_continuations = not all_hits
        if not (improvement_possible and exists_open_beam and valid_continuations):
            break

    nrs = cfg["num_return_sequences"]
    return [
        [[finished[b][j], finished_scores[b][j], finished_sums[b][j]] for j in range(nrs)]
        for b in range(batch)
    ]


def main(path):
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    out = []
    for case in cases:
        Ties.count = 0
        model = Model(case["model"])
        cfg = case["config"]
        beamed = beam(model, case["prompts"], cfg)
        generated = greedy(model, case["prompts"], cfg) if cfg["num_beams"] == 1 else beamed
        out.append({"generate": generated, "beam": beamed, "ties": Ties.count})
    json.dump({"cases": out}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
