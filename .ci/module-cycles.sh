#!/usr/bin/env bash
# Fails (non-zero) when a module of wsnova-core depends on itself through
# other modules: DESIGN.md wants no import cycle among the core's modules.
#
# cargo-modules resolves every `use` (and every type in a signature or a
# field) to the item's defining module. Its own `--acyclic` checks the item
# graph with its `owns` edges, where any type with a method returning `Self`
# is a "cycle" (a type owns its method, the method uses the type), so it
# cannot answer this question. Instead we take its `uses` edges, collapse
# each item to the module that defines it, and look for a cycle among the
# modules. cargo-modules 0.27 is the last release that builds with rustc 1.95.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-modules >/dev/null ||
  cargo install cargo-modules --version 0.27.0 --locked --quiet

cargo modules dependencies --lib -p wsnova-core --no-externs --no-sysroot \
  --layout dot | python3 -c '
import re, sys

modules, edges = set(), set()
for line in sys.stdin:
    node = re.match(r"\s*\"([^\"]+)\" \[label=\"[^|\"]*\b(mod|crate)\|", line)
    if node:
        modules.add(node.group(1))
    edge = re.match(r"\s*\"([^\"]+)\" -> \"([^\"]+)\" \[label=\"uses\"", line)
    if edge:
        edges.add(edge.groups())

def module_of(path):
    while path not in modules and "::" in path:
        path = path.rsplit("::", 1)[0]
    return path

graph = {m: set() for m in modules}
for source, target in edges:
    a, b = module_of(source), module_of(target)
    if a != b:
        graph[a].add(b)

# Depth-first search; a back edge closes a cycle.
state, stack = {}, []
def visit(m):
    state[m] = "open"
    stack.append(m)
    for n in sorted(graph[m]):
        if state.get(n) == "open":
            cycle = stack[stack.index(n):] + [n]
            sys.exit("module cycle: " + " -> ".join(cycle))
        if n not in state:
            visit(n)
    stack.pop()
    state[m] = "done"

sys.setrecursionlimit(10000)
for m in sorted(graph):
    if m not in state:
        visit(m)
print(f"wsnova-core: {len(modules)} modules, {sum(map(len, graph.values()))} module dependencies, no cycle")
'
