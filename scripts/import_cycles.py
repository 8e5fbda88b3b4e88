#!/usr/bin/env python3
"""Import circles among the files of one Rust module folder.

    python3 scripts/import_cycles.py src/report [src/experiment/stage ...]

Each direct child of a folder is one node: a file `x.rs`, or a subfolder `x/` with everything in
it. Every path in a file that names a sibling is an edge from the file's node to the sibling's:
`use super::table::Row;`, `use super::{plots::Plot, table};`, `use crate::report::table::Row;`
and paths written inline in the code (`super::layers::section(...)`). `super` and `self` are
resolved from where they stand (inside an inline `mod tests { ... }`, `super` is the file itself,
not the folder). The folder's `mod.rs` is not a node: it only declares and re-exports, and a path
that names one of its re-exports (`super::rebuild`, with `pub use rebuild::rebuild;`) counts as an
edge to the file that defines it. Comments and string literals are skipped.

Prints the edges, then each group of files that import each other (a strongly connected component
of more than one node) with its elementary circles and the line behind each edge. Exits 1 when there is a
circle, 0 otherwise, 2 on bad arguments.
"""

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text):
    """`text` with comments and string/char literals replaced by spaces (newlines kept, so line
    numbers stay)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:]) and (i == 0 or not re.match(r"\w", text[i - 1])):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            j = n if end < 0 else end + 1 + len(hashes)
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'":
            # A char literal ('a', '\n', '\u{..}'); a lifetime ('a) has no closing quote.
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def use_paths(tree):
    """The paths of a use tree (`super::{a::B, c::{self, D}}`) as lists of segments."""
    tree = re.sub(r"\s+as\s+" + IDENT, "", tree)
    tree = re.sub(r"\s+", "", tree)

    def parse_tree(s, i, prefix):
        segs = []
        while True:
            m = re.match(IDENT + r"|\*", s[i:])
            if not m:
                break
            segs.append(m.group(0))
            i += len(m.group(0))
            if s.startswith("::{", i):
                return parse_list(s, i + 3, prefix + segs)
            if not s.startswith("::", i):
                break
            i += 2
        return ([prefix + segs] if segs else []), i

    def parse_list(s, i, prefix):
        paths = []
        while i < len(s) and s[i] != "}":
            p, j = parse_tree(s, i, prefix)
            paths.extend(p)
            i = j + 1 if j == i or (j < len(s) and s[j] == ",") else j
        return paths, i + 1

    if tree.startswith("::"):
        tree = tree[2:]
    if tree.startswith("{"):
        return parse_list(tree, 1, [])[0]
    return parse_tree(tree, 0, [])[0]


def module_path_of(folder):
    """The module path of `folder` (['report'] for src/report), from the nearest folder above it
    holding lib.rs or main.rs (the crate root)."""
    parts = []
    d = folder.resolve()
    while not ((d / "lib.rs").exists() or (d / "main.rs").exists()):
        if d.parent == d:
            sys.exit(f"{folder}: no lib.rs or main.rs above it (not in a crate)")
        parts.insert(0, d.name)
        d = d.parent
    return parts


def file_module(folder_mod, rel):
    """Module path of a file at `rel` (relative to the folder)."""
    parts = list(rel.parts)
    stem = parts[-1][: -len(".rs")]
    parts = parts[:-1] + ([] if stem in ("mod", "lib", "main") else [stem])
    return folder_mod + parts


def references(text, module):
    """(line, absolute path) of every path in `text`, whose own module is `module`."""
    code = strip(text)
    # Inline modules: for every offset, the module the code there belongs to.
    opens = []  # (offset of '{', name or None)
    stack = []  # names of inline modules open at each brace depth (None: not a module)
    scopes = []  # (start, end, module path)
    for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{|[{}]", code):
        tok = m.group(0)
        if tok.startswith("mod"):
            stack.append(m.group(1))
            scopes.append([m.end(), None, module + [x for x in stack if x]])
            opens.append(len(scopes) - 1)
        elif tok == "{":
            stack.append(None)
            opens.append(None)
        else:
            if stack:
                stack.pop()
                at = opens.pop()
                if at is not None:
                    scopes[at][1] = m.start()

    def module_at(offset):
        best = module
        for start, end, path in scopes:
            if start <= offset and (end is None or offset < end) and len(path) > len(best):
                best = path
        return best

    def resolve(segs, offset):
        here = module_at(offset)
        if segs[0] == "crate":
            return segs[1:]
        if segs[0] in ("self", "super"):
            base = list(here)
            i = 0
            while i < len(segs) and segs[i] in ("self", "super"):
                if segs[i] == "super":
                    if not base:
                        return None
                    base.pop()
                i += 1
            return base + segs[i:]
        return None

    found = []
    uses = list(re.finditer(r"\buse\s+([^;]+);", code))
    for m in uses:
        line = code.count("\n", 0, m.start()) + 1
        for segs in use_paths(m.group(1)):
            if segs and segs[0] in ("crate", "self", "super"):
                p = resolve(segs, m.start())
                if p is not None:
                    found.append((line, p))
    blanked = code
    for m in reversed(uses):
        blanked = blanked[: m.start()] + re.sub(r"[^\n]", " ", m.group(0)) + blanked[m.end():]
    for m in re.finditer(r"\b(?:crate|self|super)(?:\s*::\s*" + IDENT + r")+", blanked):
        if m.start() > 0 and blanked[m.start() - 1] == ":":
            continue
        segs = [s for s in re.split(r"\s*::\s*", m.group(0))]
        line = blanked.count("\n", 0, m.start()) + 1
        p = resolve(segs, m.start())
        if p is not None:
            found.append((line, p))
    return found


def reexports(mod_rs, folder_mod):
    """Names that the folder's mod.rs re-exports, → the child that defines them."""
    names = {}
    if not mod_rs.exists():
        return names
    code = strip(mod_rs.read_text())
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", code):
        tree = m.group(1)
        for segs in use_paths(tree):
            if segs and segs[0] == "self":
                segs = segs[1:]
            if segs and segs[0] == "crate":
                if segs[1 : 1 + len(folder_mod)] != folder_mod:
                    continue
                segs = segs[1 + len(folder_mod):]
            if len(segs) >= 2 and segs[-1] != "*":
                names[segs[-1]] = segs[0]
    # `pub use x::y as z;`
    for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+(?:self::)?(" + IDENT + r")::[^;]*?\bas\s+(" + IDENT + r")\s*;", code):
        names[m.group(2)] = m.group(1)
    return names


def graph(folder):
    folder_mod = module_path_of(folder)
    nodes = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix == ".rs" and p.name != "mod.rs":
            nodes[p.stem] = [p]
        elif p.is_dir() and any(p.rglob("*.rs")):
            nodes[p.name] = sorted(p.rglob("*.rs"))
    via = reexports(folder / "mod.rs", folder_mod)
    edges = {}  # (from, to) -> [(file, line)]
    for node, files in nodes.items():
        for f in files:
            module = file_module(folder_mod, f.relative_to(folder))
            for line, path in references(f.read_text(), module):
                if path[: len(folder_mod)] != folder_mod or len(path) <= len(folder_mod):
                    continue
                name = path[len(folder_mod)]
                target = name if name in nodes else via.get(name)
                if target and target != node and target in nodes:
                    edges.setdefault((node, target), []).append((f, line))
    return nodes, edges


def cycles(nodes, edges):
    """Strongly connected components with more than one node (Tarjan)."""
    succ = {n: sorted({b for (a, b) in edges if a == n}) for n in nodes}
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out, succ


def circles_in(comp, succ, limit=50):
    """The elementary circles inside one component, each once (started at its smallest node),
    shortest first; at most `limit`."""
    inside = set(comp)
    found = []

    def walk(start, path, seen):
        for w in succ[path[-1]]:
            if w not in inside or w < start:
                continue
            if w == start:
                found.append(path + [start])
            elif w not in seen and len(found) < limit * 4:
                walk(start, path + [w], seen | {w})

    for start in comp:
        walk(start, [start], {start})
    found.sort(key=lambda c: (len(c), c))
    return found[:limit]


def main(args):
    if not args or any(a in ("-h", "--help") for a in args):
        print(__doc__.strip())
        return 2
    status = 0
    for arg in args:
        folder = Path(arg)
        if not folder.is_dir():
            print(f"{arg}: not a folder", file=sys.stderr)
            return 2
        nodes, edges = graph(folder)
        comps, succ = cycles(nodes, edges)
        print(f"{arg}: {len(nodes)} modules, {len(edges)} import edges")
        for n in nodes:
            if succ[n]:
                print(f"  {n} -> {', '.join(succ[n])}")
        if not comps:
            print(f"{arg}: no import circle")
            continue
        status = 1
        for comp in comps:
            circles = circles_in(comp, succ)
            print(f"{arg}: import circles among {{{', '.join(comp)}}}:")
            for circle in circles:
                print(f"  circle: {' -> '.join(circle)}")
                for a, b in zip(circle, circle[1:]):
                    f, line = edges[(a, b)][0]
                    print(f"    {a} -> {b}: {f}:{line}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
