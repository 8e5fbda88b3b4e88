#!/usr/bin/env python3
"""Compares the runs.csv files of two results folders value by value: the check that a
refactoring changed nothing (same experiment, same seeds, the binary from before and after).

    python3 scripts/compare_runs.py BEFORE_DIR AFTER_DIR

Every runs.csv under BEFORE_DIR is paired with the file at the same relative path under
AFTER_DIR; rows are matched by run_id. Columns that measure time or name the build
(`seconds`, `*_seconds`, `*_per_second`, `git_commit`, `embedlab_version`) are left out; every
other column is compared as text, stage keys and config hashes included. Prints each
difference and a closing count; exits 1 when anything differs or is missing.
"""
import csv
import glob
import os
import sys

SKIP = ("seconds", "per_second", "git_commit", "embedlab_version")


def rows(path):
    with open(path, newline="") as f:
        return {r["run_id"]: r for r in csv.DictReader(f)}


def main(before, after):
    compared = differences = 0
    for fa in sorted(glob.glob(os.path.join(before, "**", "runs.csv"), recursive=True)):
        rel = os.path.relpath(fa, before)
        fb = os.path.join(after, rel)
        if not os.path.exists(fb):
            print(f"{rel}: missing under {after}")
            differences += 1
            continue
        a, b = rows(fa), rows(fb)
        if set(a) != set(b):
            print(f"{rel}: run ids differ: {sorted(set(a) ^ set(b))}")
            differences += 1
        cols_a = set(next(iter(a.values()), {}))
        cols_b = set(next(iter(b.values()), {}))
        for c in sorted(cols_a ^ cols_b):
            print(f"{rel}: column {c} only in one file")
            differences += 1
        for run in sorted(set(a) & set(b)):
            for c in sorted(cols_a & cols_b):
                if any(s in c for s in SKIP):
                    continue
                compared += 1
                if a[run][c] != b[run][c]:
                    print(f"{rel} {run} {c}: {a[run][c]!r} vs {b[run][c]!r}")
                    differences += 1
    print(f"{compared} values compared, {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
