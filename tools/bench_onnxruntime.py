"""Measures ONNX Runtime on the same model and settings as `ecg-monitor bench`, and prints the same JSON keys.

`--threads N` runs N sessions in N Python threads, each with intra-op and inter-op parallelism 1 (ONNX Runtime
releases the GIL while it computes), mirroring the engine's one-worker-per-thread design.
Run from the repository root: `.venv/bin/python tools/bench_onnxruntime.py --model FILE --batch 64 --time 250`.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time

import numpy as np
import onnxruntime as ort


def worker(path: str, batch: int, length: int, seconds: float, seed: int, start: threading.Barrier,
           out: list[tuple[list[float], list[float]]]) -> None:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = np.random.default_rng(seed).standard_normal((batch, 12, length), dtype=np.float32)
    session.run(None, {name: x})
    wall, cpu = [], []
    start.wait()
    deadline = time.perf_counter() + seconds
    while True:
        began, cpu_began = time.perf_counter(), time.thread_time()
        session.run(None, {name: x})
        cpu_ended, ended = time.thread_time(), time.perf_counter()
        if ended > deadline:
            break
        wall.append(ended - began)
        cpu.append(cpu_ended - cpu_began)
    out.append((wall, cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--mflop-per-window", type=float, default=None,
                        help="FLOPs per window as the engine counts them, to report achieved GFLOP/s")
    args = parser.parse_args()
    per_worker: list[tuple[list[float], list[float]]] = []
    barrier = threading.Barrier(args.threads)
    threads = [threading.Thread(target=worker, args=(args.model, args.batch, args.time, args.seconds, i + 1, barrier,
                                                     per_worker)) for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies = [x for wall, _ in per_worker for x in wall]
    ms = np.asarray(sorted(latencies)) * 1000
    # Each worker's windows over the time its calls took, summed: the same rates `ecg-monitor bench` reports.
    rate = sum(len(w) * args.batch / sum(w) for w, _ in per_worker if w and sum(w) > 0)
    cpu_rate = sum(len(c) * args.batch / sum(c) for _, c in per_worker if c and sum(c) > 0)
    report = {
        "engine": f"onnxruntime {ort.__version__}",
        "batch": args.batch, "time": args.time, "threads": args.threads, "seconds": args.seconds,
        "calls": len(latencies), "windows_per_second": rate, "windows_per_cpu_second": cpu_rate,
        "latency_ms": {p: float(np.percentile(ms, q, method="inverted_cdf")) if len(ms) else 0.0
                       for p, q in (("p50", 50), ("p90", 90), ("p99", 99))},
        "load_average_1m": os.getloadavg()[0],
    }
    if args.mflop_per_window:
        report["achieved_gflops"] = rate * args.mflop_per_window / 1e3
    print(json.dumps(report, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
