#!/usr/bin/env python3
"""Build data/wordnet/qa.tsv.gz, the extractive question-answering task (python3 stdlib only).

Called by scripts/build_data.sh after build_data.py:

    build_qa.py WORDNET_DICT_DIR OUT_DIR

For a noun synset whose definition contains a lemma of one of its hypernyms (as whole words,
case-insensitive), the question "what kind of thing is a <lemma>?" is asked over a context of
one to three glossary entries `<lemma>: <definition>.`, the synset's own among them at a
hash-chosen place; the answer is the hypernym lemma's first occurrence in the synset's
definition (e.g. "dog: a member of the genus Canis ..." → "canis"-type spans; "oak: a tree of
the genus Quercus" → "tree"). The other entries are definitions of other nouns, so the answer is
not always near the start and some contexts are longer than one window. The split is the
synset's split in supersense.tsv.gz (`split_of("supersense", key)`), so no dev or test
definition is in glosses.txt.gz, the pretraining corpus. At most QA_EXAMPLES rows, chosen and
ordered by a hash; deterministic, byte-identical on rebuild.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build_data import clean, h, parse_gloss, split_of, write_gz  # noqa: E402

QA_EXAMPLES = 4000


def read_nouns(dict_dir):
    """Noun synsets: offset -> (lemmas, definition, hypernym offsets)."""
    out = {}
    path = os.path.join(dict_dir, "data.noun")
    with open(path, encoding="utf-8", errors="strict") as f:
        for line in f:
            if line.startswith("  "):
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            offset, w_cnt = fields[0], int(fields[3], 16)
            words = [fields[4 + 2 * i].replace("_", " ") for i in range(w_cnt)]
            at = 4 + 2 * w_cnt
            p_cnt = int(fields[at])
            hypernyms = []
            for i in range(p_cnt):
                sym, target, pos = fields[at + 1 + 4 * i: at + 4 + 4 * i]
                if sym in ("@", "@i") and pos == "n":
                    hypernyms.append(target)
            definition, _ = parse_gloss(gloss.strip())
            if definition:
                out[offset] = (words, definition, hypernyms)
    return out


def find_lemma(definition, lemmas):
    """The first (leftmost) whole-word, case-insensitive occurrence of one of the lemmas:
    (start, text as it appears) or None."""
    best = None
    for lemma in lemmas:
        m = re.search(r"(?<![\w-])" + re.escape(lemma) + r"(?![\w-])", definition, re.IGNORECASE)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), m.group(0))
    return best


def entry(lemma, definition):
    return f"{lemma}: {definition}."


def build_qa(dict_dir, out_dir):
    nouns = read_nouns(dict_dir)
    keys = sorted(nouns)
    candidates = []
    for off in keys:
        words, definition, hypers = nouns[off]
        lemmas = [w for w in words if w.isascii()]
        if not lemmas:
            continue
        hyper_lemmas = [w for hyp in hypers if hyp in nouns for w in nouns[hyp][0]]
        found = find_lemma(definition, hyper_lemmas)
        if found:
            candidates.append((off, lemmas[0], definition, found))
    candidates.sort(key=lambda c: h("qa", c[0]))
    rows = ["question\tcontext\tanswer\tanswer_start\tsplit"]
    for off, lemma, definition, (start, answer) in candidates[:QA_EXAMPLES]:
        n_other = h("qa-others", off) % 3  # 0, 1 or 2 other entries
        others = []
        for k in range(n_other):
            o = keys[h("qa-other", off, str(k)) % len(keys)]
            if o != off:
                others.append(entry(nouns[o][0][0], nouns[o][1]))
        place = h("qa-place", off) % (len(others) + 1)
        before = others[:place]
        prefix = " ".join(before) + (" " if before else "")
        own = entry(lemma, definition)
        context = clean(" ".join(before + [own] + others[place:]))
        answer_start = len(prefix) + len(lemma) + 2 + start
        assert context[answer_start:answer_start + len(answer)] == answer, (off, context, answer)
        question = f"what kind of thing is a {lemma}?"
        split = split_of("supersense", "noun" + off)
        rows.append(f"{clean(question)}\t{context}\t{answer}\t{answer_start}\t{split}")
    write_gz(os.path.join(out_dir, "wordnet", "qa.tsv.gz"), rows)
    return len(rows) - 1


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    dict_dir, out_dir = sys.argv[1:]
    print(f"wordnet/qa.tsv.gz: {build_qa(dict_dir, out_dir)} rows")


if __name__ == "__main__":
    main()
