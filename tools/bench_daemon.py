"""How many real-time streams `ecg-monitor run` holds: replays a 500 Hz recording as N concurrent streams at real
time into the daemon's socket and reads its STATUS= lines (windows/s, windows dropped, window latency).

Run from the repository root after `swift build -c release`:
    python3 tools/bench_daemon.py --streams 50,100,150 [--seconds 40] [--record ../shared/ecg-samples/...]

For each N: a fresh daemon (default model, default workers, `input.max_streams` raised to N, alerts as JSON lines
to /dev/null) and `--groups` processes of `ecg-monitor replay RECORD --live --parallel N/groups --speed 1 --loop
--seconds S --frame-ms F`, started evenly over one 0.5 s hop so that the streams' windows do not all complete at the same
instant (`--groups 1`: every stream in step, the worst case for latency). The first status interval (streams
connecting) is left out; over the rest it reports the windows per second against the 2·N a real-time 500 Hz
stream makes at a 0.5 s hop, the windows dropped (a stream's window replaced by its next one before a worker took
it), the worst interval's window latency p50/p99 (a window's last sample computed → its result handed to the
alarm side), the CPU seconds the daemon and the replays used, and the daemon's resident memory when ready and at
the end of the steady state (its growth per stream is what a stream costs). `--model` serves another model file,
e.g. a streaming one (docs/model-format.md). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATUS = re.compile(
    r"STATUS=(?P<streams>\d+) streams?, (?P<rate>[\d.]+) windows/s, \d+ alarms? active, "
    r"(?P<dropped>\d+) windows dropped, \d+ refused(?:, latency p50 (?P<p50>[\d.]+) ms p99 (?P<p99>[\d.]+) ms)?"
)


def receive_until(notify: socket.socket, deadline: float, predicate) -> list[str]:
    """Datagrams received until one satisfies `predicate` or the deadline passes."""
    messages = []
    while time.monotonic() < deadline:
        notify.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            message = notify.recv(65536).decode()
        except TimeoutError:
            break
        messages.append(message)
        if predicate(message):
            break
    return messages


def daemon_environment(notify_path: str, max_streams: int) -> dict[str, str]:
    """This process's environment without the daemon's own settings and systemd's hand-over variables, plus the
    notify socket and the stream limit, so a benchmark's daemon runs on the defaults whatever the shell set."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ECG_MONITOR_", "WATCHDOG_", "LISTEN_")) and key not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")
    }
    environment.update({"NOTIFY_SOCKET": notify_path, "ECG_MONITOR_INPUT_MAX_STREAMS": str(max_streams)})
    return environment


def children_cpu_seconds() -> float:
    """User + system CPU time of the children waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def resident_mib(pid: int) -> float:
    """A process's resident set size (VmRSS), MiB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for process {pid}")


def run_once(
    binary: str,
    record: str,
    streams: int,
    groups: int,
    seconds: float,
    max_batch: int | None,
    model: str | None,
    config: str | None,
    frame_ms: int,
) -> dict:
    with tempfile.TemporaryDirectory(prefix="ecgbench-") as directory:
        notify_path = os.path.join(directory, "notify")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        environment = daemon_environment(notify_path, max(64, streams))
        if max_batch:
            environment["ECG_MONITOR_INFERENCE_MAX_BATCH"] = str(max_batch)
        ingest = os.path.join(directory, "ingest.sock")
        with open(os.path.join(directory, "daemon.log"), "w") as log:
            daemon = subprocess.Popen(
                [binary, "run", "--socket", ingest, "--alerts", "json"]
                + (["--model", model] if model else [])
                + (["--config", config] if config else []),
                cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=log,
            )
            try:
                ready = receive_until(notify, time.monotonic() + 30, lambda m: m.startswith("READY=1"))
                if not any(m.startswith("READY=1") for m in ready):
                    raise SystemExit(f"the daemon sent no READY=1: {ready}")
                rss_ready = resident_mib(daemon.pid)
                replays = []
                before_replays = children_cpu_seconds()
                for group in range(groups):
                    count = streams // groups + (1 if group < streams % groups else 0)
                    replays.append(subprocess.Popen(
                        [binary, "replay", record, "--live", "--socket", ingest, "--parallel", str(count), "--speed", "1",
                         "--loop", "--seconds", str(seconds), "--stream-id", f"g{group}", "--frame-ms", str(frame_ms)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    ))
                    time.sleep(0.5 / groups)
                rss_streaming = 0.0

                def replays_done(message: str) -> bool:
                    nonlocal rss_streaming
                    if all(r.poll() is not None for r in replays):
                        return True
                    # the last reading while every stream is open: the memory the streams hold
                    if (match := STATUS.match(message)) and int(match["streams"]) == streams:
                        rss_streaming = resident_mib(daemon.pid)
                    return False

                statuses = receive_until(notify, time.monotonic() + seconds + 5, replays_done)
                for replay in replays:
                    replay.wait()
                replay_cpu = children_cpu_seconds() - before_replays
            finally:
                daemon.terminate()
                daemon.wait(timeout=30)
            daemon_cpu = children_cpu_seconds() - before_replays - replay_cpu
        log = open(os.path.join(directory, "daemon.log")).read()
        summary = log.splitlines()[-1]
        core = re.search(r"ecg\.blas_core=(\S+)", log)
    intervals = [match.groupdict() for m in statuses if (match := STATUS.match(m))]
    full = [i for i in intervals if int(i["streams"]) == streams]
    steady = full[1:] if len(full) > 1 else full
    if not steady:
        raise SystemExit(f"N={streams}: no status with all {streams} streams: {statuses}")
    dropped = int(steady[-1]["dropped"]) - int(full[0]["dropped"])
    latencies = [i for i in steady if i["p50"] is not None]
    return {
        "streams": streams,
        "max_batch": max_batch or 8,
        "groups": groups,
        "frame_ms": frame_ms,
        "intervals": len(steady),
        "windows_per_second": round(sum(float(i["rate"]) for i in steady) / len(steady), 1),
        "expected_windows_per_second": 2 * streams,
        "dropped_in_steady_state": dropped,
        "dropped_total": int(intervals[-1]["dropped"]) if intervals else None,
        "latency_p50_ms": max((float(i["p50"]) for i in latencies), default=None),
        "latency_p99_ms": max((float(i["p99"]) for i in latencies), default=None),
        "daemon_cpu_seconds": round(daemon_cpu, 1),
        "rss_ready_mib": round(rss_ready, 1),
        "rss_streaming_mib": round(rss_streaming, 1),
        "rss_per_stream_kib": round((rss_streaming - rss_ready) * 1024 / streams, 1),
        "replay_cpu_seconds": round(replay_cpu, 1),
        "seconds": seconds,
        "load_average_1m": float(open("/proc/loadavg").read().split()[0]),
        "model": model or "default",
        "blas_core": core[1] if core else None,
        "daemon_summary": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "ecg-monitor"))
    parser.add_argument("--record", default=str(ROOT.parent / "shared" / "ecg-samples" / "12-lead-ecg-classifier" / "A0003"))
    parser.add_argument("--streams", default="25,50,100", help="comma-separated stream counts")
    parser.add_argument("--seconds", type=float, default=40.0, help="seconds of signal per run")
    parser.add_argument("--groups", type=int, default=5, help="replay processes, started evenly over one hop")
    parser.add_argument("--max-batch", type=int, help="inference.max_batch (default: the configuration's, 8)")
    parser.add_argument("--model", help="model file to serve (default: the configuration's)")
    parser.add_argument("--config", help="configuration file (default: the built-in values)")
    parser.add_argument("--frame-ms", type=int, default=20,
                        help="milliseconds of signal per write of each stream (replay --frame-ms; default 20)")
    parser.add_argument("--json", action="store_true", help="one JSON array of every run at the end, not a line per run")
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        raise SystemExit(f"{args.binary} is missing: swift build -c release --product ecg-monitor")
    results = []
    for streams in (int(n) for n in args.streams.split(",")):
        results.append(run_once(args.binary, args.record, streams, args.groups, args.seconds, args.max_batch, args.model, args.config,
                                args.frame_ms))
        if not args.json:
            print(json.dumps(results[-1]), flush=True)
    if args.json:
        print(json.dumps(results, indent=1))


if __name__ == "__main__":
    sys.exit(main())
