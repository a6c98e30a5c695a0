"""A long run of `ecg-monitor run` at N real-time 500 Hz 12-lead streams with client churn: memory, descriptors,
dropped windows, latency and every AF connection's alarm, sampled over time.

Run from the repository root after `swift build -c release`:
    python3 tools/soak.py [--streams 200] [--seconds 3600] [--model models/...] [--out DIR] [--json]

One daemon (the model given or the default one, default workers, `input.max_streams` N + 50, alerts as JSON lines
read here). The N streams are served by N/k slots (`--per-process` k): each slot runs `ecg-monitor replay RECORD
--socket S --live --speed 1 --loop --seconds T --parallel k` with T drawn anew between `--min-session` and
`--max-session` seconds, and when it exits starts the next one at once, so connections come and go all the time
while about N stay open (the last ones are cut to end with the soak). Every connection gets a stream id of its
own. `--af-streams` of the N replay an atrial fibrillation record (`--af-record`), the others `--record`. A replay
process costs CPU of its own besides its streams', so k is 10 by default rather than 1; each write carries
`--frame-ms` of signal (20 by default, as `replay`), and longer frames cost both sides fewer wake-ups.

Before the load, one AF replay runs alone: the delay from its start to its first stream's AFIB (`--af-class`)
`raised` event, and that event's window, are the unloaded reference (up to three tries: a record near the model's
threshold may not raise every time). Under load, an AF connection's alarm is on time when its `raised` event
names the same window and arrives no later than the reference delay + `--alarm-tolerance` seconds (two 0.5 s hops
by default), late otherwise, missing when a connection that lasted long enough got none; each AF connection's
`cleared` (reason `stream-ended`) must arrive too.

Every `--sample-seconds`: the daemon's VmRSS, open descriptors (/proc/PID/fd), its CPU and the producers' since
the last sample, and from its STATUS= lines (every 5 s, via NOTIFY_SOCKET): streams, windows/s, windows dropped,
refused connections and the worst interval's latency p50/p99. Written to DIR/samples.jsonl as they come (and
printed, without `--json`); DIR/connections.jsonl holds every connection, DIR/summary.json the summary: RSS and
descriptor growth from `--warmup` seconds until the last connections start to end (last minus first sample, and
a least-squares slope per hour), memory and descriptors idle before the load and after it, dropped windows, AF
alarm delays (median, max) and verdicts, connections made. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_daemon import ROOT, resident_mib
from starvation import SAMPLES, Daemon

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (/proc/PID/stat), 0 if it is gone."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 3:
        return None
    mean_t = statistics.mean(t for t, _ in points)
    mean_v = statistics.mean(v for _, v in points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread * 3600 if spread else None


class Slot:
    """One replay process at a time, restarted as soon as it exits."""

    def __init__(self, index: int, record: str, af: bool):
        self.index, self.record, self.af = index, record, af
        self.process: subprocess.Popen | None = None
        self.launches = 0
        self.started = self.seconds = 0.0
        self.ids: list[str] = []


class Soak:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.af_events: dict[str, list[tuple[float, dict]]] = {}
        self.event_counts: dict[str, int] = {}
        self.daemon = Daemon(args.binary, str(self.out), max_streams=args.streams + 50, model=args.model,
                             on_event=self.on_event)
        self.replay_log = open(self.out / "replays.log", "a")
        self.connections = open(self.out / "connections.jsonl", "w")
        self.failed_replays = 0
        self.connection_count = 0
        self.af_results: list[dict] = []

    def on_event(self, arrived: float, event: dict) -> None:
        kind = event["event"]
        if kind != "vitals":
            kind += ":" + (event.get("class") or event.get("condition") or "")
        with self.lock:
            self.event_counts[kind] = self.event_counts.get(kind, 0) + 1
            if event["stream"].startswith("af") and event["event"] in ("raised", "cleared"):
                self.af_events.setdefault(event["stream"], []).append((arrived, event))

    def launch(self, slot: Slot, seconds: int) -> None:
        slot.launches += 1
        stream_id = f"{'af' if slot.af else 's'}{slot.index}.{slot.launches}"
        k = self.args.per_process
        slot.ids = [stream_id] if k == 1 else [f"{stream_id}-{i}" for i in range(1, k + 1)]
        slot.started, slot.seconds = time.time(), seconds
        slot.process = subprocess.Popen(
            [self.args.binary, "replay", slot.record, "--socket", self.daemon.socket_path, "--live", "--speed", "1",
             "--loop", "--seconds", str(seconds), "--parallel", str(k), "--stream-id", stream_id,
             "--frame-ms", str(self.args.frame_ms)],
            stdout=subprocess.DEVNULL, stderr=self.replay_log,
        )

    def finish(self, slot: Slot) -> None:
        """Records the connections of a slot's replay that exited."""
        ended = time.time()
        code = slot.process.returncode
        self.failed_replays += code != 0
        self.connection_count += len(slot.ids)
        for stream_id in slot.ids:
            record = {"stream": stream_id, "start": round(slot.started, 3), "end": round(ended, 3),
                      "seconds": slot.seconds, "exit": code}
            if slot.af:
                record.update(self.check_af(stream_id, slot.started, ended, slot.seconds))
            self.connections.write(json.dumps(record) + "\n")
        slot.process = None

    def check_af(self, stream_id: str, started: float, ended: float, seconds: float) -> dict:
        """The AFIB raise of one AF connection against the unloaded reference (its `cleared` may come later)."""
        with self.lock:
            events = list(self.af_events.get(stream_id, []))
        raised = [(t, e) for t, e in events if e["event"] == "raised" and e.get("class") == self.args.af_class]
        result = {"af": True, "raise_delay_s": None, "raise_window_end": None}
        if raised:
            arrived, event = raised[0]
            result["raise_delay_s"] = round(arrived - started, 3)
            result["raise_window_end"] = event["window_end"]
        reference = self.reference
        if not raised:
            long_enough = seconds >= reference["delay_s"] + self.args.alarm_tolerance
            result["verdict"] = "missing" if long_enough else "too short"
        elif (result["raise_window_end"] == reference["window_end"]
              and result["raise_delay_s"] <= reference["delay_s"] + self.args.alarm_tolerance):
            result["verdict"] = "on time"
        else:
            result["verdict"] = "late"
        self.af_results.append(result | {"stream": stream_id, "ended": ended})
        return result

    def calibrate(self) -> None:
        """One AF replay alone: the unloaded delay of its AFIB raise (three tries: the model may be borderline)."""
        slot = Slot(-1, self.args.af_record, af=True)
        self.calibration_misses = 0
        for _ in range(3):
            self.launch(slot, 15)
            slot.process.wait()
            time.sleep(1.0)
            with self.lock:
                events = self.af_events.get(slot.ids[0], [])
            raised = [(t, e) for t, e in events if e["event"] == "raised" and e.get("class") == self.args.af_class]
            if raised:
                break
            self.calibration_misses += 1
        else:
            raise SystemExit(f"the unloaded AF connection raised no {self.args.af_class} alarm with this model: "
                             f"{[(e['event'], e.get('class')) for _, e in events]}; try another --af-record")
        self.reference = {"delay_s": round(raised[0][0] - slot.started, 3), "window_end": raised[0][1]["window_end"]}

    def sample(self, since: dict) -> dict:
        """One time-series point; `since` carries the previous point's counters."""
        now = time.monotonic()
        pid = self.daemon.process.pid
        statuses = [f for t, f in self.daemon.statuses if t > since["monotonic"]]
        daemon_cpu = cpu_seconds(pid)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        producers_cpu = usage.ru_utime + usage.ru_stime + sum(
            cpu_seconds(s.process.pid) for s in self.slots if s.process is not None
        )
        elapsed = now - since["monotonic"]
        last = statuses[-1] if statuses else (self.daemon.statuses[-1][1] if self.daemon.statuses else {})
        point = {
            "t_s": round(now - self.started, 1),
            "streams": last.get("streams"),
            "replays": sum(s.process is not None for s in self.slots),
            "rss_mib": round(resident_mib(pid), 1),
            "fds": len(os.listdir(f"/proc/{pid}/fd")),
            "windows_per_s": round(statistics.mean(f["rate"] for f in statuses), 1) if statuses else None,
            "dropped": last.get("dropped"),
            "refused": last.get("refused"),
            "p50_ms": max((f["p50_ms"] for f in statuses if "p50_ms" in f), default=None),
            "p99_ms": max((f["p99_ms"] for f in statuses if "p99_ms" in f), default=None),
            "daemon_cpu_pct": round((daemon_cpu - since["daemon_cpu"]) / elapsed * 100, 1),
            "producers_cpu_pct": round((producers_cpu - since["producers_cpu"]) / elapsed * 100, 1),
            "connections": self.connection_count,
            "load_1m": float(open("/proc/loadavg").read().split()[0]),
        }
        for name in ("alarm_inputs_lost", "accepts_failed", "JSON_alert_lines_undelivered"):
            if name in last:
                point[name] = last[name]
        since.update(monotonic=now, daemon_cpu=daemon_cpu, producers_cpu=producers_cpu)
        return point

    def run(self) -> dict:
        try:
            return self.load()
        finally:
            if self.daemon.process.poll() is None:
                self.daemon.process.kill()
            for slot in getattr(self, "slots", []):
                if slot.process is not None and slot.process.poll() is None:
                    slot.process.kill()

    def load(self) -> dict:
        args = self.args
        rng = random.Random(args.seed)
        self.calibrate()
        k = args.per_process
        af_slots = -(-args.af_streams // k)
        self.slots = [Slot(i, args.af_record if i < af_slots else args.record, af=i < af_slots)
                      for i in range(args.streams // k)]
        self.started = time.monotonic()
        end = self.started + args.seconds
        since = {"monotonic": self.started, "daemon_cpu": cpu_seconds(self.daemon.process.pid),
                 "producers_cpu": 0.0}
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        since["producers_cpu"] = usage.ru_utime + usage.ru_stime
        idle_before = {"rss_mib": round(resident_mib(self.daemon.process.pid), 1),
                       "fds": len(os.listdir(f"/proc/{self.daemon.process.pid}/fd"))}
        samples = []
        samples_file = open(self.out / "samples.jsonl", "w")
        # the first sessions start spread over `--ramp` seconds, so their windows are not in step
        order = rng.sample(self.slots, len(self.slots))
        first_start = {id(s): self.started + args.ramp * i / len(self.slots) for i, s in enumerate(order)}
        next_sample = self.started + args.sample_seconds
        while True:
            now = time.monotonic()
            running = 0
            for slot in self.slots:
                if slot.process is not None and slot.process.poll() is not None:
                    self.finish(slot)
                if slot.process is None and now >= first_start[id(slot)] and end - now >= args.min_session:
                    self.launch(slot, min(rng.randint(args.min_session, args.max_session), int(end - now)))
                running += slot.process is not None
            if now >= next_sample:
                samples.append(self.sample(since))
                samples_file.write(json.dumps(samples[-1]) + "\n")
                samples_file.flush()
                self.connections.flush()
                if not args.json:
                    print(json.dumps(samples[-1]), flush=True)
                next_sample += args.sample_seconds
            if now >= end and running == 0:
                break
            time.sleep(0.2)
        time.sleep(2.0)  # the last connections' cleared events
        samples.append(self.sample(since))
        samples_file.write(json.dumps(samples[-1]) + "\n")
        samples_file.close()
        totals = self.daemon.stop()
        self.connections.close()
        return self.summarize(samples, idle_before, totals)

    def summarize(self, samples: list[dict], idle_before: dict, totals: str) -> dict:
        args = self.args
        # after warm-up and before the last connections end (no new ones start in the last --min-session seconds)
        warm = [p for p in samples if args.warmup <= p["t_s"] <= args.seconds - args.min_session] or samples
        rss = [(p["t_s"], p["rss_mib"]) for p in warm]
        fds = [(p["t_s"], p["fds"]) for p in warm]
        af = self.af_results
        delays = [r["raise_delay_s"] for r in af if r["raise_delay_s"] is not None]
        with self.lock:
            cleared = {s for s, events in self.af_events.items() if any(e["event"] == "cleared" for _, e in events)}
        steady = [p for p in warm if p["p99_ms"] is not None]
        return {
            "streams": args.streams,
            "seconds": args.seconds,
            "model": args.model or "default",
            "per_process": args.per_process,
            "frame_ms": args.frame_ms,
            "session_seconds": [args.min_session, args.max_session],
            "af_streams": args.af_streams,
            "warmup_s": args.warmup,
            "samples": len(samples),
            "connections": self.connection_count,
            "af_connections": len(af),
            "failed_replays": self.failed_replays,
            "refused": samples[-1]["refused"],
            "streams_min_max_after_warmup": [min(p["streams"] or 0 for p in warm),
                                             max(p["streams"] or 0 for p in warm)],
            "rss_mib_first_last_after_warmup": [rss[0][1], rss[-1][1]],
            "rss_mib_max": max(p["rss_mib"] for p in samples),
            "rss_growth_mib_after_warmup": round(rss[-1][1] - rss[0][1], 1),
            "rss_slope_mib_per_hour": round(s, 2) if (s := slope_per_hour(rss)) is not None else None,
            "fds_first_last_after_warmup": [fds[0][1], fds[-1][1]],
            "idle_before_load": idle_before,
            "idle_after_load": {"rss_mib": samples[-1]["rss_mib"], "fds": samples[-1]["fds"]},
            "fds_max": max(p["fds"] for p in samples),
            "fds_slope_per_hour": round(s, 2) if (s := slope_per_hour(fds)) is not None else None,
            "windows_dropped_total": samples[-1]["dropped"],
            "windows_per_s_mean_after_warmup": round(
                statistics.mean(p["windows_per_s"] for p in warm if p["windows_per_s"]), 1),
            "latency_p99_ms_max_after_warmup": max((p["p99_ms"] for p in steady), default=None),
            "latency_p99_ms_median_after_warmup": statistics.median(p["p99_ms"] for p in steady) if steady else None,
            "daemon_cpu_pct_mean_after_warmup": round(statistics.mean(p["daemon_cpu_pct"] for p in warm), 1),
            "producers_cpu_pct_mean_after_warmup": round(statistics.mean(p["producers_cpu_pct"] for p in warm), 1),
            "af_reference": self.reference | {"tolerance_s": args.alarm_tolerance,
                                              "unloaded_misses": self.calibration_misses},
            "af_raise_delay_median_s": round(statistics.median(delays), 3) if delays else None,
            "af_raise_delay_max_s": max(delays, default=None),
            "af_verdicts": {v: sum(r["verdict"] == v for r in af) for v in ("on time", "late", "missing", "too short")},
            "af_late": [r for r in af if r["verdict"] == "late"][:20],
            "af_missing": [r["stream"] for r in af if r["verdict"] == "missing"][:20],
            "af_cleared_missing": [r["stream"] for r in af if r["stream"] not in cleared][:20],
            "event_counts": dict(sorted(self.event_counts.items())),
            "daemon_summary": totals,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "ecg-monitor"))
    parser.add_argument("--record", default=str(SAMPLES / "A0005"), help="record of the other streams")
    parser.add_argument("--af-record", default=str(SAMPLES / "E00005"),
                        help="atrial fibrillation record (E00005 raises AFIB with both committed all-class models; "
                        "A0003 only with the windowed one)")
    parser.add_argument("--af-class", default="AFIB", help="the class whose `raised` event is checked")
    parser.add_argument("--streams", type=int, default=200, help="streams open at once (about)")
    parser.add_argument("--af-streams", type=int, default=20, help="of those, streams of the AF record")
    parser.add_argument("--per-process", type=int, default=10,
                        help="streams per replay process (--parallel): each process costs CPU of its own")
    parser.add_argument("--frame-ms", type=int, default=20,
                        help="milliseconds of signal per write (replay --frame-ms): a device's packet")
    parser.add_argument("--seconds", type=float, default=3600.0, help="length of the soak")
    parser.add_argument("--min-session", type=int, default=20, help="shortest connection, seconds")
    parser.add_argument("--max-session", type=int, default=120, help="longest connection, seconds")
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which the first connections start")
    parser.add_argument("--sample-seconds", type=float, default=15.0, help="time-series interval")
    parser.add_argument("--warmup", type=float,
                        help="seconds left out of the growth figures (default: 300, or a third of a shorter soak)")
    parser.add_argument("--alarm-tolerance", type=float, default=1.0,
                        help="seconds an AF raise may come after the unloaded one")
    parser.add_argument("--model", help="model file to serve (default: the configuration's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="directory for samples.jsonl, connections.jsonl, summary.json and the logs "
                        "(default: a new one under the temporary directory, printed first)")
    parser.add_argument("--json", action="store_true", help="print only the summary, as one JSON object")
    args = parser.parse_args()
    if args.out is None:
        args.out = tempfile.mkdtemp(prefix="ecgsoak-")
        print(f"writing to {args.out}", file=sys.stderr)
    if args.warmup is None:
        args.warmup = min(300.0, args.seconds / 3)
    if not os.access(args.binary, os.X_OK):
        raise SystemExit(f"{args.binary} is missing: swift build -c release --product ecg-monitor")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `run` stops the daemon and the replays
    summary = Soak(args).run()
    (Path(args.out) / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=None if not args.json else 1))


if __name__ == "__main__":
    sys.exit(main())
