#!/usr/bin/env bash
# The seams of issue 11, kept: no import circle among the objects of
# daemon/ or cli/ (read from their symbol tables, as the linker sees them),
# only daemon/link.c includes hiredis's async header, and node.c reaches
# the methods only through the registry (no call into handlers.c or
# exec.c).
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"
need pidboxd pidboxctl

# graph DIR: "a b" lines, object a calls a function defined in object b.
graph() {
	"$PY" - "$BUILD/$1" <<'PYEOF'
import glob, os, subprocess, sys
objs = sorted(glob.glob(os.path.join(sys.argv[1], "*.o")))
defs, undef = {}, {}
for o in objs:
    n = os.path.basename(o)[:-2]
    out = subprocess.run(["nm", "-g", "--defined-only", o],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3:
            defs[f[2]] = n
    out = subprocess.run(["nm", "-u", o], capture_output=True, text=True,
                         check=True).stdout
    undef[n] = {line.split()[-1] for line in out.splitlines()}
for n, syms in sorted(undef.items()):
    for b in sorted({defs[s] for s in syms if s in defs and defs[s] != n}):
        print(n, b)
PYEOF
}

# circles EDGES: the strongly connected parts of more than one node.
circles() {
	"$PY" -c 'import sys
edges = {}
for line in sys.stdin:
    a, b = line.split()
    edges.setdefault(a, set()).add(b)
    edges.setdefault(b, set())
index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        part = []
        while True:
            w = stack.pop(); on.discard(w); part.append(w)
            if w == v:
                break
        if len(part) > 1:
            out.append(" ".join(sorted(part)))
sys.setrecursionlimit(10000)
for v in list(edges):
    if v not in index:
        visit(v)
print("; ".join(out))'
}

for d in daemon cli; do
	edges=$(graph "$d")
	if [ -z "$edges" ]; then
		fail "${d}_graph_read" "no call graph read from $BUILD/$d"
		continue
	fi
	expect_eq "${d}_no_import_circle" "$(circles <<<"$edges")" ""
done
expect_eq node_not_into_handlers_or_exec \
    "$(graph daemon | awk '$1 == "node" && ($2 == "handlers" || $2 == "exec")')" ""
expect_eq only_link_includes_hiredis_async \
    "$(grep -l 'include <hiredis/async.h>' "$ROOT"/daemon/*.c "$ROOT"/daemon/*.h | xargs -n1 basename | tr '\n' ' ')" "link.c "
finish
