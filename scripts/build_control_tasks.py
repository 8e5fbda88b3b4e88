#!/usr/bin/env python3
"""Builds the two control tasks of experiments/embeddings.toml from data/wordnet/supersense.tsv.gz,
whose answers are known by construction (standard library only; byte-identical on every rebuild):

- order.tsv.gz (`text label split`): a definition with its words in order (`forward`) or reversed
  (`reversed`). Every definition appears once each way, in its own split, so the two classes hold
  exactly the same bags of words: a model that cannot see word order must sit at chance.
- sides.tsv.gz (`text text_pair label split`): a noun's definition and a verb's definition, as the
  pair's first and second text in both orders; the label says which side holds the verb's
  (`first`, `second`). Both orders of every pair appear, so the two classes hold the same tokens:
  without positions, only segment embeddings tell a model which side a token is on.

Usage: scripts/build_control_tasks.py [DATA_DIR]   (default: data/ beside this script's folder)
"""
import gzip
import hashlib
import io
import sys
from pathlib import Path

# Per split, at most this many source definitions (order) or pairs (sides).
CAP = {"train": 1000, "dev": 250, "test": 250}
MIN_WORDS = 4


def key(text):
    """A stable pseudo-random order that does not depend on file order."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_gz(path, lines):
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write("".join(line + "\n" for line in lines).encode("utf-8"))
    path.write_bytes(raw.getvalue())


def main():
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "data"
    rows = []
    with gzip.open(data / "wordnet" / "supersense.tsv.gz", "rt", encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        assert header == ["text", "label", "split"], header
        for line in f:
            text, label, split = line.rstrip("\n").split("\t")
            rows.append((text, label, split))
    order, sides = ["text\tlabel\tsplit"], ["text\ttext_pair\tlabel\tsplit"]
    for split in ("train", "dev", "test"):
        # Order: definitions of at least MIN_WORDS words whose reversal differs from them.
        pool = sorted(
            {t for t, _, s in rows if s == split and len(t.split()) >= MIN_WORDS},
            key=key,
        )
        kept = 0
        for text in pool:
            words = text.split()
            if words == words[::-1]:
                continue
            order.append(f"{text}\tforward\t{split}")
            order.append(f"{' '.join(reversed(words))}\treversed\t{split}")
            kept += 1
            if kept == CAP[split]:
                break
        # Sides: the i-th noun definition with the i-th verb definition, both orders.
        nouns = sorted({t for t, l, s in rows if s == split and l.startswith("noun.")}, key=key)
        verbs = sorted({t for t, l, s in rows if s == split and l.startswith("verb.")}, key=key)
        for noun, verb in list(zip(nouns, verbs))[: CAP[split]]:
            sides.append(f"{verb}\t{noun}\tfirst\t{split}")
            sides.append(f"{noun}\t{verb}\tsecond\t{split}")
    write_gz(data / "wordnet" / "order.tsv.gz", order)
    write_gz(data / "wordnet" / "sides.tsv.gz", sides)
    print(f"order.tsv.gz: {len(order) - 1} rows; sides.tsv.gz: {len(sides) - 1} rows")


if __name__ == "__main__":
    main()
