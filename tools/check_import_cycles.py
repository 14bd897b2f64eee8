"""Fail when the packages' modules import each other in a cycle.

Usage: ``python tools/check_import_cycles.py [PACKAGE ...]`` (default: app signing detectors).

The import graph is grimp's (the library import-linter runs on), at module level. What
counts as an import:

- every ``import``/``from ... import`` in a module, including those inside functions: an
  import deferred into a function still ties the two modules together, it only hides the
  cycle until that function runs;
- not those under ``if TYPE_CHECKING:``: they never run, so they cannot order imports at
  run time, and they are the sanctioned way to name a type from a module that imports
  you (import-linter's contracts in pyproject.toml do count them);
- importing ``pkg.sub`` from outside ``pkg`` also runs ``pkg/__init__.py`` first, so it
  counts as importing ``pkg`` as well: a package whose ``__init__`` imports back into its
  importer is a cycle even when no submodule is.

Every strongly connected component of more than one module is printed, with one
shortest cycle through it and every import between its members (with line numbers);
the exit status is then 1. With no cycle it prints one line and exits 0.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp

DEFAULT_PACKAGES = ("app", "signing", "detectors")

Graph = dict[str, set[str]]


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def import_graph(
    packages: Iterable[str],
) -> tuple[grimp.ImportGraph, Graph, dict[tuple[str, str], str]]:
    """grimp's graph; module -> modules it imports; for edges implied by an ``__init__``, why."""
    built = grimp.build_graph(*packages, exclude_type_checking_imports=True, cache_dir=None)
    graph: Graph = {m: set(built.find_modules_directly_imported_by(m)) for m in built.modules}
    implied: dict[tuple[str, str], str] = {}
    for importer, imported_set in list(graph.items()):
        for imported in sorted(imported_set):
            for package in _ancestors(imported):
                if _within(importer, package) or package not in graph:
                    continue
                if package not in graph[importer]:
                    graph[importer].add(package)
                    implied.setdefault((importer, package), f"via {imported}")
    return built, graph, implied


def strongly_connected(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components of two or more modules, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, iter(sorted(graph[root])))]
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def shortest_cycle(graph: Mapping[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle through the component's first module, as a closed path."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def report(packages: Iterable[str]) -> list[str]:
    """The lines to print for every cycle; empty when there is none."""
    details, graph, implied = import_graph(packages)
    components = strongly_connected(graph)
    if not components:
        return []
    out = [f"{len(components)} import cycle(s) (imports under TYPE_CHECKING not counted):"]
    for component in components:
        members = set(component)
        out.append("")
        out.append(f"{len(component)} modules: {', '.join(component)}")
        out.append("  shortest cycle: " + " -> ".join(shortest_cycle(graph, component)))
        out.append("  imports between them:")
        for importer in component:
            for imported in sorted(graph[importer] & members):
                if (importer, imported) in implied:
                    why = f"runs {imported}/__init__.py, {implied[importer, imported]}"
                else:
                    found = details.get_import_details(importer=importer, imported=imported)
                    why = "l." + ", ".join(sorted({str(d["line_number"]) for d in found}))
                out.append(f"    {importer} -> {imported} ({why})")
    return out


def main(argv: list[str]) -> int:
    packages = argv or list(DEFAULT_PACKAGES)
    sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repo, when not installed
    lines = report(packages)
    if lines:
        print("\n".join(lines))
        return 1
    print(f"no import cycle in {', '.join(packages)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
