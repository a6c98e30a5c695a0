"""Measures ONNX Runtime on the same model and settings as `ecg-monitor bench`, and prints the same JSON keys.

`--threads N` runs N sessions in N Python threads, each with intra-op and inter-op parallelism 1 (ONNX Runtime
releases the GIL while it computes), mirroring the engine's one-worker-per-thread design.
Run from the repository root: `.venv/bin/python tools/bench_onnxruntime.py --model FILE --batch 64 --time 250`.

With `--compare BIN`, runs `BIN bench` (our engine) and this measurement alternately, `--rounds` times for each of
the standard scenarios (batch 64 on 1 and 2 threads, batch 1 on 1 thread, T = 250), and prints the medians and
the ratios: this is `make bench`. Alternating rounds and medians keep other processes on a shared machine from
favouring either side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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


SCENARIOS = [
    {"batch": 64, "threads": 1, "target": "throughput ≥ 1.3× ONNX Runtime"},
    {"batch": 64, "threads": 2, "target": "throughput ≥ 1.1× ONNX Runtime"},
    {"batch": 1, "threads": 1, "target": "p50 latency ≤ ONNX Runtime's"},
]


def run_json(command: list[str]) -> dict:
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def compare(args: argparse.Namespace) -> None:
    summary = []
    for scenario in SCENARIOS:
        settings = ["--model", args.model, "--batch", str(scenario["batch"]), "--time", str(args.time),
                    "--threads", str(scenario["threads"]), "--seconds", str(args.seconds)]
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(run_json([args.compare, "bench", *settings]))
            theirs.append(run_json([sys.executable, __file__, *settings]))

        def median(runs: list[dict], key: str) -> float:
            return statistics.median(r[key] if key in r else r["latency_ms"][key] for r in runs)

        row = {"batch": scenario["batch"], "threads": scenario["threads"], "time": args.time,
               "rounds": args.rounds, "target": scenario["target"]}
        for key in ("windows_per_second", "windows_per_cpu_second", "p50", "p99"):
            row[f"ours_{key}"] = median(ours, key)
            row[f"ort_{key}"] = median(theirs, key)
        def ratio(a: float, b: float) -> float:
            return a / b if b > 0 else float("nan")

        row["throughput_ratio"] = ratio(row["ours_windows_per_second"], row["ort_windows_per_second"])
        row["cpu_throughput_ratio"] = ratio(row["ours_windows_per_cpu_second"], row["ort_windows_per_cpu_second"])
        row["p50_latency_ratio"] = ratio(row["ours_p50"], row["ort_p50"])
        row["ours_fraction_of_sgemm_peak"] = statistics.median(r["fraction_of_peak"] for r in ours)
        row["sgemm_peak_gflops_per_thread"] = statistics.median(r["sgemm_peak_gflops_per_thread"] for r in ours)
        row["mflop_per_window"] = ours[0]["mflop_per_window"]
        row["load_average_1m"] = [r.get("load_average_1m") for r in ours]
        summary.append(row)
        print(f"batch {row['batch']:>2}, {row['threads']} thread(s), T={args.time}: "
              f"ours {row['ours_windows_per_second']:.0f} windows/s (CPU {row['ours_windows_per_cpu_second']:.0f}), "
              f"ONNX Runtime {row['ort_windows_per_second']:.0f} (CPU {row['ort_windows_per_cpu_second']:.0f}): "
              f"{row['throughput_ratio']:.2f}× (CPU-time {row['cpu_throughput_ratio']:.2f}×); "
              f"p50 {row['ours_p50']:.2f} ms vs {row['ort_p50']:.2f} ms; "
              f"{100 * row['ours_fraction_of_sgemm_peak']:.0f}% of the sgemm peak "
              f"({row['sgemm_peak_gflops_per_thread']:.0f} GFLOP/s per thread); load {row['load_average_1m']}",
              flush=True)
    print(json.dumps(summary, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--mflop-per-window", type=float, default=None,
                        help="FLOPs per window as the engine counts them, to report achieved GFLOP/s")
    parser.add_argument("--compare", metavar="BIN", help="the ecg-monitor binary to compare with (make bench)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per scenario with --compare")
    args = parser.parse_args()
    if args.compare:
        compare(args)
        return
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
