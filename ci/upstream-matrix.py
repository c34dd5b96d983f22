"""Renders the upstream matrix from the JSON reports of ci/upstream-matrix.sh:
one row per scenario a release ran (not claimed by every release: left out),
one column per release; P passed, F failed, E error, - not claimed."""
import json
import os
import sys

out, versions = sys.argv[1], sys.argv[2:]
reports = {}
for v in versions:
    path = os.path.join(out, f"{v}.json")
    if os.path.exists(path):
        with open(path) as f:
            reports[v] = json.load(f)
built = [v for v in versions if v in reports]
mark = {"passed": "P", "failed": "**F**", "error": "E", "not-claimed": "-"}
names = []
for v in built:
    for r in reports[v]["results"]:
        if r["name"] not in names:
            names.append(r["name"])
print("| scenario | " + " | ".join(built) + " |")
print("|---|" + "---|" * len(built))
for n in names:
    cells = []
    for v in built:
        r = next((r for r in reports[v]["results"] if r["name"] == n), None)
        cells.append(mark.get(r["outcome"], "?") if r else " ")
    if all(c == "-" for c in cells):
        continue
    print(f"| `{n}` | " + " | ".join(cells) + " |")
print()
for v in built:
    s = reports[v]["summary"]
    print(f"- {v}: {s['passed']} passed, {s['failed']} failed, {s['error']} errors, "
          f"{s.get('not_claimed', 0)} not claimed, {reports[v]['wall_ms'] / 1000:.0f} s")
for v in versions:
    if v not in reports:
        print(f"- {v}: no image (see {out}/{v}.build.txt)")
