#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that #include lines point one way: down the layers of HACKING.md.

Reads every non-generated, non-test .c and .h file of the layers below,
resolves each #include "..." to a file of the tree, and fails when
  - a file includes one of a higher layer (an include pointing up), or
  - files include each other in a cycle (a .c and its .h count as one unit),
  - a file includes another folder's private foo-internal.h.
Prints one line per violation, with file:line, and exits 1; prints a summary
and exits 0 when there is none.

Usage: tools/check-layers.py [SRCDIR]
"""
import os
import re
import sys

# Lowest first. A file may include files of its own layer and of the layers
# before it. Each layer is a folder of the tree.
LAYERS = [
    "common",
    "proto",
    "iommu",
    "policy",
    "tenant",
    "audit",
    "ops",
    "rpc",
    "net",
    "persist",
    "tenancy",
    "daemon",
]

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    top = path.split("/", 1)[0]
    return LAYERS.index(top) if top in LAYERS else None


def resolve(srcdir, includer, name):
    """The tree path an #include "name" in includer means, or None."""
    base = name.replace(".pb-c.h", ".proto") if name.endswith(".pb-c.h") else name
    candidates = [os.path.join(os.path.dirname(includer), base), base]
    candidates += [os.path.join(layer, base) for layer in LAYERS]
    for c in candidates:
        c = os.path.normpath(c)
        if os.path.isfile(os.path.join(srcdir, c)):
            return c
    return None


def unit(path):
    """foo.c, foo.h and a private foo-internal.h are one unit."""
    return re.sub(r"(-internal)?\.(c|h|proto)$", "", path)


def main():
    srcdir = sys.argv[1] if len(sys.argv) > 1 else "."
    files = []
    for layer in LAYERS:
        d = os.path.join(srcdir, layer)
        if not os.path.isdir(d):
            continue
        for root, _, names in os.walk(d):
            for n in sorted(names):
                if n.endswith((".c", ".h")) and ".pb-c." not in n:
                    files.append(os.path.relpath(os.path.join(root, n), srcdir))
    errors = []
    edges = {}
    count = 0
    for f in files:
        with open(os.path.join(srcdir, f), encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = resolve(srcdir, f, m.group(1))
                if target is None:
                    errors.append(f"{f}:{lineno}: #include \"{m.group(1)}\" is no file of the tree")
                    continue
                count += 1
                lf, lt = layer_of(f), layer_of(target)
                if target.endswith("-internal.h") and \
                        os.path.dirname(target) != os.path.dirname(f):
                    errors.append(f"{f}:{lineno}: includes {target}, private to "
                                  f"{os.path.dirname(target)}/")
                if lt is None:
                    errors.append(f"{f}:{lineno}: includes {target}, which is in no layer")
                elif lt > lf:
                    errors.append(f"{f}:{lineno}: includes {target}: layer {LAYERS[lt]} "
                                  f"is above {LAYERS[lf]}")
                if unit(target) != unit(f):
                    edges.setdefault(unit(f), set()).add(unit(target))
    # Cycles between units (Tarjan's strongly connected components).
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def strong(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
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
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    for comp in sccs:
        errors.append("include cycle: " + " <-> ".join(comp))
    for e in errors:
        print(e)
    if errors:
        print(f"check-layers: {len(errors)} violation(s)")
        return 1
    print(f"check-layers: {len(files)} files, {count} includes, "
          f"{len(LAYERS)} layers: every include points down, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
