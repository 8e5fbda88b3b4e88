"""scikit-learn's side of tests/baseline_sklearn.rs: TfidfVectorizer (defaults) +
LogisticRegression (lbfgs, multinomial) on the splits the Rust test wrote, for every C.

Usage: python3 bow_sklearn.py SPLITS.json
SPLITS.json: {"train": [[text, label], ...], "dev": [...], "test": [...],
              "cs": [C, ...], "max_iter": N, "tol": T}
Prints JSON: {"sklearn": version, "features": n, "chosen_c": C,
              "per_c": [{"c", "dev_accuracy", "test_accuracy", "n_iter", "seconds"}]}
The chosen C is the first C of the grid with the best dev accuracy, as in the Rust baseline.
"""
import json
import sys
import time

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    texts = {s: [t for t, _ in spec[s]] for s in ("train", "dev", "test")}
    labels = {s: [l for _, l in spec[s]] for s in ("train", "dev", "test")}
    vec = TfidfVectorizer()  # lowercase, token_pattern r"(?u)\b\w\w+\b", smooth_idf, l2
    x_train = vec.fit_transform(texts["train"])
    x_dev = vec.transform(texts["dev"])
    x_test = vec.transform(texts["test"])
    per_c = []
    for c in spec["cs"]:
        start = time.perf_counter()
        model = LogisticRegression(C=c, max_iter=spec["max_iter"], tol=spec["tol"])
        model.fit(x_train, labels["train"])
        seconds = time.perf_counter() - start
        per_c.append({
            "c": c,
            "dev_accuracy": float(model.score(x_dev, labels["dev"])),
            "test_accuracy": float(model.score(x_test, labels["test"])),
            "n_iter": int(max(model.n_iter_)),
            "seconds": seconds,
        })
    best = max(r["dev_accuracy"] for r in per_c)
    chosen = next(r["c"] for r in per_c if r["dev_accuracy"] == best)
    json.dump({
        "sklearn": sklearn.__version__,
        "features": len(vec.vocabulary_),
        "chosen_c": chosen,
        "per_c": per_c,
    }, sys.stdout)


if __name__ == "__main__":
    main()
