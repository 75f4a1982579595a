#!/usr/bin/env python3
"""List import edges between sibling modules of one folder and report cycles.

The developers' brief says "no import cycles, even inside a folder". For a folder
such as src/ingest this reads every sibling file (a.rs, or b/mod.rs) and records an
edge a -> b whenever a's code names `super::b`, `crate::<folder>::b`, or an item that
the folder's mod.rs re-exports from b (`pub use b::{..}`). Comment lines are ignored
and `super::` inside a file's own `mod tests` (which means the file itself) is skipped.

Usage: scripts/module-cycles.py src/ingest src/store src/cli
Exit status 1 when any folder has a cycle.
"""
import os
import re
import sys


def siblings(folder):
    mods = {}
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.endswith(".rs") and name != "mod.rs":
            mods[name[:-3]] = [path]
        elif os.path.isdir(path) and os.path.exists(os.path.join(path, "mod.rs")):
            mods[name] = [
                os.path.join(root, f)
                for root, _, files in os.walk(path)
                for f in files
                if f.endswith(".rs")
            ]
    return mods


def reexports(folder):
    """Item name -> sibling module it comes from, per `pub use m::{..}` in mod.rs."""
    out = {}
    text = open(os.path.join(folder, "mod.rs")).read()
    for m, items in re.findall(r"pub use (\w+)::\{?([^;}]*)\}?;", text):
        for item in items.split(","):
            item = item.strip().split(" as ")[-1].strip()
            if item:
                out[item] = m
    return out


def code_lines(path):
    depth_tests = None
    depth = 0
    for line in open(path):
        s = line.strip()
        if s.startswith("//"):
            continue
        if depth_tests is None and re.match(r"(pub )?mod tests\b", s):
            depth_tests = depth
        depth += line.count("{") - line.count("}")
        if depth_tests is not None and depth <= depth_tests and "}" in line:
            depth_tests = None
            continue
        # inside `mod tests`, `super::` means the file itself
        yield s, depth_tests is not None


def edges(folder):
    mods = siblings(folder)
    rex = reexports(folder)
    crate_path = "crate::" + "::".join(os.path.relpath(folder, "src").split(os.sep))
    found = {}
    for m, files in mods.items():
        for path in files:
            nested = os.path.dirname(path) != folder.rstrip("/")
            for s, in_tests in code_lines(path):
                names = re.findall(re.escape(crate_path) + r"::\{?([\w, ]+)", s)
                if not in_tests and not nested:
                    for grp in re.findall(r"(?<![\w:])super::\{?([\w, ]+)", s):
                        names.append(grp)
                for grp in names:
                    for name in grp.split(","):
                        name = name.strip()
                        target = name if name in mods else rex.get(name)
                        if target in mods and target != m:
                            found.setdefault((m, target), s)
    return mods, found


def cycles(mods, found):
    graph = {m: sorted(b for (a, b) in found if a == m) for m in mods}
    seen, stack, out = set(), [], []

    def visit(n):
        if n in stack:
            out.append(stack[stack.index(n):] + [n])
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for b in graph[n]:
            visit(b)
        stack.pop()

    for m in sorted(mods):
        visit(m)
    return out


def main():
    bad = False
    for folder in sys.argv[1:]:
        mods, found = edges(folder)
        print(f"{folder}: {len(found)} edges between siblings")
        for (a, b), s in sorted(found.items()):
            print(f"  {a} -> {b}    ({s[:70]})")
        cyc = cycles(mods, found)
        for c in cyc:
            print("  CYCLE: " + " -> ".join(c))
        if not cyc:
            print("  no cycles")
        bad = bad or bool(cyc)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
