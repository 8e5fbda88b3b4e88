#!/usr/bin/env python3
"""Builds data/kjv_chapters.tsv.gz, the long-document task of experiments/packing.toml, from the
output of `bible -f gen1:1-rev22:21` (one verse per line, each starting with its reference such
as `Ge1:1`; scripts/build_data.sh makes it from Debian's bible-kjv packages). Standard library
only; byte-identical on every rebuild.

One row per chapter (1,189): `text label split book chapter`. `text` is the chapter's verses in
order, joined by single spaces (several hundred words: a document far longer than a row);
`label` is the chapter's book group, one of six conventional divisions of the Protestant canon:

    law       Genesis-Deuteronomy
    history   Joshua-Esther, and Acts
    poetry    Job-Song of Solomon
    prophets  Isaiah-Malachi, and Revelation
    gospels   Matthew-John
    letters   Romans-Jude

`split` is 70/15/15 by a hash of the chapter's reference (a small set: 15% gives about 180 dev and
180 test chapters); rows are ordered by a hash, so consecutive chapters come from unrelated books,
as in a shuffled corpus. `book` is the `bible` reader's abbreviation (`Ge`, `Mat`, ...), `chapter`
the chapter's number.

Usage: scripts/build_kjv_chapters.py VERSES_TXT [DATA_DIR]   (default: data/ beside this script's folder)
"""
import hashlib
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_control_tasks import write_gz  # noqa: E402  (the same gzip form)

# The `bible` reader's book abbreviations, in canonical order, by group.
GROUPS = [
    ("law", "Ge Exo Lev Num Deu"),
    ("history", "Josh Jdgs Ruth 1Sm 2Sm 1Ki 2Ki 1Chr 2Chr Ezra Neh Est"),
    ("poetry", "Job Psa Prv Eccl SSol"),
    ("prophets", "Isa Jer Lam Eze Dan Hos Joel Amos Obad Jonah Mic Nahum Hab Zep Hag Zec Mal"),
    ("gospels", "Mat Mark Luke John"),
    ("history", "Acts"),
    ("letters", "Rom 1Cor 2Cor Gal Eph Phi Col 1Th 2Th 1Tim 2Tim Titus Phmn Heb Jas 1Pet 2Pet 1Jn 2Jn 3Jn Jude"),
    ("prophets", "Rev"),
]
GROUP = {book: group for group, books in GROUPS for book in books.split()}
CANON = [book for _, books in GROUPS for book in books.split()]


def h(*parts):
    """A stable hash of a key, as an integer."""
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")


def split_of(book, chapter):
    r = h("kjv-chapters", "split", book, str(chapter)) % 20
    return "train" if r < 14 else ("dev" if r < 17 else "test")


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    verses = Path(sys.argv[1])
    data = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).resolve().parent.parent / "data"
    ref = re.compile(r"^(\d?[A-Za-z]+)(\d+):(\d+) (.*)$")
    chapters = {}  # (book, chapter) -> verses, in file order
    order = []
    for n, line in enumerate(verses.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        m = ref.match(line)
        if not m or m.group(1) not in GROUP:
            sys.exit(f"{verses}:{n}: expected 'Book1:1 text' with a known book, found {line[:40]!r}")
        key = (m.group(1), int(m.group(2)))
        if key not in chapters:
            chapters[key] = []
            order.append(key)
        chapters[key].append(" ".join(m.group(4).replace("\t", " ").split()))
    if len(chapters) != 1189 or {b for b, _ in chapters} != set(CANON):
        sys.exit(f"{verses}: expected the 1,189 chapters of the 66 books, found {len(chapters)}")
    rows = sorted(order, key=lambda k: h("kjv-chapters", "order", k[0], str(k[1])))
    out = ["text\tlabel\tsplit\tbook\tchapter"]
    for book, chapter in rows:
        text = " ".join(chapters[(book, chapter)])
        out.append(f"{text}\t{GROUP[book]}\t{split_of(book, chapter)}\t{book}\t{chapter}")
    write_gz(data / "kjv_chapters.tsv.gz", out)
    print(f"kjv_chapters.tsv.gz: {len(out) - 1} chapters")


if __name__ == "__main__":
    main()
