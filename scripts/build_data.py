#!/usr/bin/env python3
"""Build embedlab's shipped data files from Debian packages (python3 stdlib only).

Called by scripts/build_data.sh, which downloads and unpacks the packages:

    build_data.py KJV_VERSES_TXT WORDNET_DICT_DIR OUT_DIR

KJV_VERSES_TXT is the output of `bible -f gen1:1-rev22:21` (one verse per line, each line
starting with its reference); WORDNET_DICT_DIR holds WordNet 3.0's data.{noun,verb,adj,adv}.
Everything is deterministic: selections and splits come from sha256 of stable keys, and the
gzip files are written with mtime 0 and no file name, so a rebuild is byte-identical.
"""

import gzip
import hashlib
import os
import re
import sys

# WordNet's lexicographer files, by number (lexnames(5WN)).
LEXNAMES = [
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather",
    "adj.ppl",
]

SUPERSENSE_PER_CLASS = 300
DEFPAIRS_POSITIVES = 3000
TAGGING_PER_CLASS = 250


def h(*parts):
    """Stable hash of a key, as an integer."""
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def split_of(*key):
    """Deterministic 80/10/10 split from a key."""
    r = h("split", *key) % 10
    return "train" if r < 8 else ("dev" if r == 8 else "test")


def clean(s):
    """One line, no tabs, single spaces."""
    return " ".join(s.replace("\t", " ").split())


def write_gz(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(data)


def build_kjv(verses_txt, out_dir):
    ref = re.compile(r"^\S+\d+:\d+ ")
    lines = []
    with open(verses_txt, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            m = ref.match(line)
            if not m:
                sys.exit(f"{verses_txt}:{n}: expected 'Book1:1 text', found {line[:40]!r}")
            lines.append(clean(line[m.end():]))
    if not 31000 <= len(lines) <= 31200:
        sys.exit(f"{verses_txt}: expected about 31102 verses, found {len(lines)}")
    write_gz(os.path.join(out_dir, "kjv.txt.gz"), lines)
    return len(lines)


class Synset:
    __slots__ = ("key", "lexname", "words", "definition", "examples")

    def __init__(self, key, lexname, words, definition, examples):
        self.key = key
        self.lexname = lexname
        self.words = words
        self.definition = definition
        self.examples = examples


def parse_gloss(gloss):
    """Split a gloss into its definition (text before the first quoted example) and examples."""
    examples = [clean(e) for e in re.findall(r'"([^"]*)"', gloss)]
    examples = [e for e in examples if e]
    q = gloss.find('"')
    definition = gloss if q < 0 else gloss[:q]
    definition = clean(definition).rstrip(";: ").strip()
    return definition, examples


def read_wordnet(dict_dir):
    synsets = []
    for pos in ("noun", "verb", "adj", "adv"):
        path = os.path.join(dict_dir, "data." + pos)
        with open(path, encoding="utf-8", errors="strict") as f:
            for n, line in enumerate(f, 1):
                if line.startswith("  "):
                    continue  # licence header
                head, sep, gloss = line.partition(" | ")
                if not sep:
                    sys.exit(f"{path}:{n}: no gloss separator")
                fields = head.split()
                offset, lexnum, w_cnt = fields[0], int(fields[1]), int(fields[3], 16)
                words = []
                for i in range(w_cnt):
                    w = fields[4 + 2 * i]
                    w = re.sub(r"\([a-z]+\)$", "", w)  # adjective markers (a), (p), (ip)
                    words.append(w.replace("_", " "))
                definition, examples = parse_gloss(gloss.strip())
                if not definition:
                    continue
                synsets.append(Synset(pos + offset, LEXNAMES[lexnum], words, definition, examples))
    return synsets


def build_supersense(synsets, out_dir):
    by_class = {}
    for s in synsets:
        by_class.setdefault(s.lexname, []).append(s)
    rows = []
    for label in sorted(by_class):
        chosen = sorted(by_class[label], key=lambda s: h("supersense", s.key))[:SUPERSENSE_PER_CLASS]
        rows.extend((h("order", s.key), s.definition, label, split_of("supersense", s.key)) for s in chosen)
    rows.sort()
    write_gz(os.path.join(out_dir, "wordnet", "supersense.tsv.gz"),
             ["text\tlabel\tsplit"] + [f"{t}\t{l}\t{sp}" for _, t, l, sp in rows])
    return len(rows), len(by_class)


def build_defpairs(synsets, out_dir):
    """Word + definition -> does the definition define the word? Negatives are definitions
    of synsets from the same lexicographer file that do not contain the word (hard negatives)."""
    by_class = {}
    for s in synsets:
        by_class.setdefault(s.lexname, []).append(s)
    for members in by_class.values():
        members.sort(key=lambda s: s.key)
    candidates = sorted(synsets, key=lambda s: h("defpairs", s.key))[:DEFPAIRS_POSITIVES]
    rows = []
    for s in candidates:
        word = s.words[h("word", s.key) % len(s.words)]
        split = split_of("defpairs", word.lower())  # a word never crosses splits
        rows.append((h("order", s.key, "1"), word, s.definition, "1", split))
        pool = by_class[s.lexname]
        start = h("negative", s.key) % len(pool)
        for k in range(len(pool)):
            other = pool[(start + k) % len(pool)]
            if other is s or word.lower() in (w.lower() for w in other.words):
                continue
            if other.definition == s.definition:
                continue
            rows.append((h("order", s.key, "0"), word, other.definition, "0", split))
            break
    rows.sort()
    write_gz(os.path.join(out_dir, "wordnet", "defpairs.tsv.gz"),
             ["text\ttext_pair\tlabel\tsplit"] + [f"{w}\t{d}\t{l}\t{sp}" for _, w, d, l, sp in rows])
    return len(rows)


PUNCT = "\"'`.,;:!?()[]{}"
SUFFIXES = ("", "s", "es", "ed", "d", "ing", "er", "est", "ly", "'s")


def tokenize(sentence):
    """Whitespace tokens with leading/trailing punctuation split off as tokens of their own."""
    out = []
    for raw in sentence.split():
        lead, trail = [], []
        while raw and raw[0] in PUNCT:
            lead.append(raw[0])
            raw = raw[1:]
        while raw and raw[-1] in PUNCT:
            trail.insert(0, raw[-1])
            raw = raw[:-1]
        out.extend(lead)
        if raw:
            out.append(raw)
        out.extend(trail)
    return out


def matches(token, word_part, last):
    t, w = token.lower(), word_part.lower()
    if t == w:
        return True
    if not last or not t.startswith(w):
        return False
    return t[len(w):] in SUFFIXES or (w.endswith("e") and t[len(w) - 1:] in ("ed", "er", "ing"))


def find_word(tokens, words):
    """First (start, length) where one of the synset's words occurs, longest words first."""
    for w in sorted(words, key=lambda w: (-len(w.split()), w)):
        parts = w.split()
        n = len(parts)
        for i in range(len(tokens) - n + 1):
            if all(matches(tokens[i + j], parts[j], j == n - 1) for j in range(n)):
                return i, n
    return None


def build_tagging(synsets, out_dir):
    by_class = {}
    for s in synsets:
        for k, ex in enumerate(s.examples):
            tokens = tokenize(ex)
            if len(tokens) < 3:
                continue
            found = find_word(tokens, s.words)
            if found is None:
                continue
            start, n = found
            tags = ["O"] * len(tokens)
            tags[start] = "B-" + s.lexname
            for j in range(start + 1, start + n):
                tags[j] = "I-" + s.lexname
            by_class.setdefault(s.lexname, []).append((s.key, str(k), " ".join(tokens), " ".join(tags)))
    rows = []
    for label in sorted(by_class):
        chosen = sorted(by_class[label], key=lambda r: h("tagging", r[0], r[1]))[:TAGGING_PER_CLASS]
        rows.extend((h("order", key, k), text, tags, split_of("tagging", key)) for key, k, text, tags in chosen)
    rows.sort()
    write_gz(os.path.join(out_dir, "wordnet", "tagging.tsv.gz"),
             ["text\tlabel\tsplit"] + [f"{t}\t{g}\t{sp}" for _, t, g, sp in rows])
    return len(rows)


def build_glosses(synsets, out_dir):
    """Unlabelled in-domain text for pretraining: the definition of every WordNet synset whose
    supersense split is `train`, so no definition of a supersense dev or test synset (nor any text
    equal to one) is in it. Ordered by a hash, one definition per line, duplicates dropped."""
    held_out = {s.definition for s in synsets if split_of("supersense", s.key) != "train"}
    seen, rows = set(), []
    for s in sorted(synsets, key=lambda s: h("glosses", s.key)):
        if split_of("supersense", s.key) != "train" or s.definition in held_out:
            continue
        if s.definition in seen:
            continue
        seen.add(s.definition)
        rows.append(s.definition)
    write_gz(os.path.join(out_dir, "wordnet", "glosses.txt.gz"), rows)
    return len(rows)


def build_synonyms(synsets, out_dir):
    """Synonym pairs for the intrinsic check of word vectors: two different one-word, lower-case,
    alphabetic lemmas of the same synset (e.g. `buy`, `purchase`), each unordered pair once,
    ordered by a hash."""
    pairs = set()
    for s in synsets:
        words = sorted({w for w in s.words if w.isalpha() and w.islower()})
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                pairs.add((a, b))
    rows = sorted(pairs, key=lambda p: h("synonyms", *p))
    write_gz(os.path.join(out_dir, "wordnet", "synonyms.tsv.gz"),
             ["word\tsynonym"] + [f"{a}\t{b}" for a, b in rows])
    return len(rows)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    verses, dict_dir, out_dir = sys.argv[1:]
    n = build_kjv(verses, out_dir)
    print(f"kjv.txt.gz: {n} verses")
    synsets = read_wordnet(dict_dir)
    n, c = build_supersense(synsets, out_dir)
    print(f"wordnet/supersense.tsv.gz: {n} rows, {c} classes")
    print(f"wordnet/defpairs.tsv.gz: {build_defpairs(synsets, out_dir)} rows")
    print(f"wordnet/tagging.tsv.gz: {build_tagging(synsets, out_dir)} rows")
    print(f"wordnet/glosses.txt.gz: {build_glosses(synsets, out_dir)} lines")
    print(f"wordnet/synonyms.tsv.gz: {build_synonyms(synsets, out_dir)} pairs")


if __name__ == "__main__":
    main()
