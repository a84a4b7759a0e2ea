#!/usr/bin/env python3
"""Independent oracle for the report golden files.

Reads trace.json (per-request outputs), aggregates them with numpy exactly as vLLM's
`calculate_metrics` does and prints the block with vLLM's own format strings
(vllm/benchmarks/serve.py, current layout; benchmarks/benchmark_serving.py v0.8 for --legacy).
Regenerate: python3 make-golden.py > current.txt && python3 make-golden.py --legacy > legacy.txt
"""
import json
import sys

import numpy as np

legacy = "--legacy" in sys.argv
t = json.load(open(__file__.rsplit("/", 1)[0] + "/trace.json"))
outs = t["outputs"]
dur = t["duration"]
max_concurrency = t["max_concurrency"]
request_rate = float(t["request_rate"])
selected = t["percentile_metrics"]
percentiles = t["metric_percentiles"]
goodput = t["goodput"]

ttfts, tpots, all_tpots, itls, e2els, out_lens, queues = [], [], [], [], [], [], []
total_input = completed = good = 0
for o in outs:
    if not o["success"]:
        out_lens.append(0)
        continue
    n = o["output_tokens"]
    out_lens.append(n)
    total_input += o["prompt_len"]
    tpot = 0.0
    if n > 1:
        tpot = (o["latency"] - o["ttft"]) / (n - 1)
        tpots.append(tpot)
    all_tpots.append(tpot)
    itls += o["itl"]
    ttfts.append(o["ttft"])
    e2els.append(o["latency"])
    queues.append(o["client_queue_time"])
    completed += 1
if goodput:
    valid, slos = [], []
    for k, arr in (("ttft", ttfts), ("tpot", all_tpots), ("e2el", e2els)):
        if k in goodput:
            valid.append(arr)
            slos.append(goodput[k] / 1000)
    for req in zip(*valid):
        if all(s >= r for s, r in zip(slos, req)):
            good += 1

succ = [o for o in outs if o["success"]]
min_start = min(o["start_time"] for o in succ)
max_end = max(o["start_time"] + o["latency"] for o in succ)
tps = np.zeros(int(np.ceil(max_end - min_start)) + 1)
for o in succ:
    times = [o["start_time"] + o["ttft"]]
    cur = times[0]
    for g in o["itl"]:
        cur += g
        times.append(cur)
    for tt in times:
        b = int(tt - min_start)
        if 0 <= b < len(tps):
            tps[b] += 1
events = []
for o in succ:
    events.append((o["start_time"], 1))
    events.append((o["start_time"] + o["latency"], -1))
events.sort(key=lambda x: (x[0], x[1]))
cur = peak = 0
for _, d in events:
    cur += d
    peak = max(peak, cur)

failed = [o for o in outs if not o["success"]]
if failed:
    print("Failed requests during benchmark run detected (capping to 10):")
    for i, o in enumerate(failed[:10]):
        print(f"Error {i}: {o['error']}")
total_output = sum(out_lens)
print("{s:{c}^{n}}".format(s=" Serving Benchmark Result ", n=50, c="="))
print("{:<40} {:<10}".format("Successful requests:", completed))
if not legacy:
    print("{:<40} {:<10}".format("Failed requests:", len(failed)))
    if max_concurrency is not None:
        print("{:<40} {:<10}".format("Maximum request concurrency:", max_concurrency))
    if request_rate != float("inf"):
        print("{:<40} {:<10.2f}".format("Request rate configured (RPS):", request_rate))
print("{:<40} {:<10.2f}".format("Benchmark duration (s):", dur))
print("{:<40} {:<10}".format("Total input tokens:", total_input))
print("{:<40} {:<10}".format("Total generated tokens:", total_output))
print("{:<40} {:<10.2f}".format("Request throughput (req/s):", completed / dur))
if goodput:
    print("{:<40} {:<10.2f}".format("Request goodput (req/s):", good / dur))
print("{:<40} {:<10.2f}".format("Output token throughput (tok/s):", total_output / dur))
if legacy:
    print("{:<40} {:<10.2f}".format("Total Token throughput (tok/s):", (total_input + total_output) / dur))
else:
    print("{:<40} {:<10.2f}".format("Peak output token throughput (tok/s):", float(np.max(tps))))
    print("{:<40} {:<10.2f}".format("Peak concurrent requests:", peak))
    print("{:<40} {:<10.2f}".format("Total token throughput (tok/s):", (total_input + total_output) / dur))


def one(attr, name, header, values):
    if attr not in selected:
        return
    print("{s:{c}^{n}}".format(s=header, n=50, c="-"))
    print("{:<40} {:<10.2f}".format(f"Mean {name} (ms):", np.mean(values or 0) * 1000))
    print("{:<40} {:<10.2f}".format(f"Median {name} (ms):", np.median(values or 0) * 1000))
    for p in percentiles:
        p_word = str(int(p)) if int(p) == p else str(p)
        print("{:<40} {:<10.2f}".format(f"P{p_word} {name} (ms):", np.percentile(values or 0, p) * 1000))


one("ttft", "TTFT", "Time to First Token", ttfts)
one("tpot", "TPOT", "Time per Output Token (excl. 1st token)", tpots)
one("itl", "ITL", "Inter-token Latency", itls)
one("e2el", "E2EL", "End-to-end Latency", e2els)
if max_concurrency is not None and not legacy:
    one("client_queue_time", "Client Queue Time", "Client-side Queueing", queues)
    if request_rate != float("inf"):
        one("e2el_including_client_queue", "E2EL incl. Client Queue", "Queue-inclusive End-to-end Latency",
            [o["latency"] + o["client_queue_time"] for o in succ])
print("=" * 50)
