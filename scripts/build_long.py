#!/usr/bin/env python3
"""Builds data/wordnet/long.tsv.gz, the long-input control of experiments/long.toml, from
data/wordnet/supersense.tsv.gz (standard library only; byte-identical on every rebuild).

Each row is a supersense example whose definition comes after a prefix of 36 to 44 noise words
drawn from the words of the train definitions (the same distribution for every label), so the
label is decided only by text past the first 32 tokens: truncating at seq_len 32 leaves a model
nothing to learn from, reading the whole text in windows gives it the definition back. The
prefix is drawn by a random generator seeded with the definition's hash. At most 1,000 train
definitions (chosen by hash), every dev and test one.

Usage: scripts/build_long.py [DATA_DIR]   (default: data/ beside this script's folder)
"""
import gzip
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_control_tasks import key, write_gz  # noqa: E402  (the same hash order and gzip form)

TRAIN_CAP = 1000
PREFIX = (36, 44)


def main():
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "data"
    rows = []
    with gzip.open(data / "wordnet" / "supersense.tsv.gz", "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        assert header == ["text", "label", "split"], header
        for line in f:
            rows.append(tuple(line.rstrip("\n").split("\t")))
    # Noise words: every word of every train definition, as often as it occurs there.
    pool = [w for t, _, s in rows if s == "train" for w in t.split()]
    train = sorted((r for r in rows if r[2] == "train"), key=lambda r: key(r[0]))[:TRAIN_CAP]
    kept = set(train)
    out = ["text\tlabel\tsplit"]
    for text, label, split in rows:
        if split == "train" and (text, label, split) not in kept:
            continue
        rng = random.Random(int(key(text)[:16], 16))
        prefix = [rng.choice(pool) for _ in range(rng.randint(*PREFIX))]
        out.append(f"{' '.join(prefix)} {text}\t{label}\t{split}")
    write_gz(data / "wordnet" / "long.tsv.gz", out)
    print(f"long.tsv.gz: {len(out) - 1} rows")


if __name__ == "__main__":
    main()
