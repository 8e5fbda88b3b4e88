#!/usr/bin/env python3
"""Summarise an ONNX Runtime profile (JSON written with `embedlab bench --profile PREFIX`):
time per op type and the slowest nodes, averaged over the profiled runs."""
import collections, json, sys

events = json.load(open(sys.argv[1]))
runs = sum(1 for e in events if e.get("name") == "model_run")
by_op = collections.Counter()
by_node = collections.Counter()
for e in events:
    if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
        by_op[e["args"].get("op_name", "?")] += e["dur"]
        by_node[e["name"][: -len("_kernel_time")]] += e["dur"]
total = sum(by_op.values())
print(f"{runs} runs, {total / max(runs, 1) / 1000:.1f} ms of kernel time per run")
for op, us in by_op.most_common(15):
    print(f"  {op:28s} {us / max(runs, 1) / 1000:8.2f} ms  {100 * us / total:5.1f}%")
print("slowest nodes:")
for n, us in by_node.most_common(12):
    print(f"  {n[:70]:70s} {us / max(runs, 1) / 1000:8.2f} ms")
