#!/usr/bin/env python3
"""Generation metrics as the reference packages compute them, for tests/it/generation/metrics.rs.

sacrebleu (corpus BLEU with its defaults: 13a, exp smoothing, 4-grams, case-sensitive; corpus
chrF with its defaults: 6 character n-grams, no word n-grams, beta 2, whitespace removed) and
rouge-score (`RougeScorer(["rougeL"], use_stemmer=False)`), at the versions pinned in
scripts/requirements-test.txt. Nothing here is embedlab's code.

    python3 tests/reference/gen_metrics_reference.py INPUT.json

INPUT.json: {"pairs": [[hypothesis, reference], ...]}. Prints JSON: the package versions, the
corpus BLEU (score, counts, totals, lengths, signature), the corpus chrF (score, signature), the
mean ROUGE-L F, and per pair the 13a tokenization of both sides, sentence BLEU with effective
order, sentence chrF and ROUGE-L precision, recall and F.
"""

import json
import logging
import sys
from importlib.metadata import version

from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU, CHRF
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a


def main(path):
    with open(path, encoding="utf-8") as f:
        pairs = json.load(f)["pairs"]
    hyps = [h for h, _ in pairs]
    refs = [r for _, r in pairs]
    # Sentence BLEU without effective order logs a warning per call; we ask for it explicitly.
    logging.getLogger("sacrebleu").setLevel(logging.ERROR)

    bleu = BLEU()
    corpus = bleu.corpus_score(hyps, [refs])
    chrf = CHRF()
    corpus_chrf = chrf.corpus_score(hyps, [refs])
    sentence_bleu = BLEU(effective_order=True)
    tok = Tokenizer13a()
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)

    per_pair = []
    for h, r in pairs:
        rl = scorer.score(r, h)["rougeL"]
        per_pair.append(
            {
                "tok13a": [tok(h), tok(r)],
                "sentence_bleu": sentence_bleu.sentence_score(h, [r]).score,
                "sentence_chrf": chrf.sentence_score(h, [r]).score,
                "rouge_l": [rl.precision, rl.recall, rl.fmeasure],
            }
        )
    fs = [p["rouge_l"][2] for p in per_pair]
    out = {
        "versions": {"sacrebleu": version("sacrebleu"), "rouge-score": version("rouge-score")},
        "bleu": {
            "score": corpus.score,
            "counts": corpus.counts,
            "totals": corpus.totals,
            "sys_len": corpus.sys_len,
            "ref_len": corpus.ref_len,
            "signature": str(bleu.get_signature()),
        },
        "chrf": {"score": corpus_chrf.score, "signature": str(chrf.get_signature())},
        "rouge_l_mean_f": sum(fs) / len(fs),
        "pairs": per_pair,
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
