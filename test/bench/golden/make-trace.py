#!/usr/bin/env python3
"""Writes trace.json: a fixed synthetic set of 40 request outputs (seeded), with failures."""
import json
import random

rng = random.Random(7)
outs = []
for i in range(40):
    start = round(i * 0.173 + rng.random() * 0.05, 6)
    if i % 9 == 4:
        status = [429, 503, 500][(i // 9) % 3]
        outs.append({"success": False, "status": status, "error": f"HTTP {status} injected", "ttft": 0.0,
                     "itl": [], "latency": 0.0, "start_time": start, "output_tokens": 0,
                     "prompt_len": 100 + i, "client_queue_time": 0.0})
        continue
    n = rng.randint(1, 12)
    ttft = round(0.02 + rng.random() * 0.9, 6)
    itl = [round(0.004 + rng.random() * 0.03, 6) for _ in range(n - 1)]
    outs.append({"success": True, "status": 200, "error": "", "ttft": ttft, "itl": itl,
                 "latency": ttft + sum(itl), "start_time": start, "output_tokens": n,
                 "prompt_len": 100 + i, "client_queue_time": round(rng.random() * 0.2, 6)})
json.dump({"duration": 7.654321, "max_concurrency": 8, "request_rate": 5.5,
           "percentile_metrics": ["ttft", "tpot", "itl", "e2el", "client_queue_time", "e2el_including_client_queue"],
           "metric_percentiles": [25, 50, 90, 99, 99.9], "goodput": {"ttft": 500, "tpot": 20},
           "outputs": outs}, open(__file__.rsplit("/", 1)[0] + "/trace.json", "w"), indent=1)
