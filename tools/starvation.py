"""Whether a flood of recorded streams delays or silences a real-time stream's alarms: one live 500 Hz AF stream
runs into `ecg-monitor run` alone (baseline) and beside `ecg-monitor replay RECORD --speed max --parallel 30 --loop`.

Run from the repository root after `swift build -c release`:
    python3 tools/starvation.py [--runs 5] [--baseline-runs 2] [--sessions 3] [--session-seconds 15] [--json]

Each run starts a fresh daemon (default model and workers, alerts as JSON lines on its standard output, read here
as they arrive). A flood run first starts the flood (recorded streams: the daemon reads them as fast as its
workers take their windows) and lets it run `--flood-lead` seconds. Then the real-time stream is sent as
`--sessions` consecutive connections (`ecg-monitor replay RECORD --live --speed 1 --seconds S --stream-id rt-K`),
so each session raises its alarms and clears them when it ends. An event's delay is its arrival time here minus
the moment its window's last sample was sent (session start + the event's `window_end`; for an event with reason
`stream-ended`, the moment the session's producer exited): the time the stream waited for its alarm. An event of
the baseline missing from a flood run's session (same kind, class or condition, window) counts as missing; the
longest gap between a session's events (vitals come every 5 s of stream time) shows a stream gone silent. Also
reported: the windows per second and windows dropped from the daemon's STATUS= lines, i.e. how hard the flood
pushed. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_daemon import ROOT, STATUS, daemon_environment, receive_until, resident_mib

SAMPLES = ROOT.parent / "shared" / "ecg-samples" / "12-lead-ecg-classifier"
ALARM_KINDS = {
    "raised", "cleared", "technical-raised", "technical-cleared", "finding-reported", "finding-resolved",
    "heart-rate-raised", "heart-rate-cleared",
}
REFUSED = re.compile(r"(\d+) refused")
LATENCY = re.compile(r"latency p50 ([\d.]+) ms p99 ([\d.]+) ms")
EXTRAS = re.compile(r"(\d+) (alarm inputs lost|accepts failed|JSON alert lines undelivered)")


def status_fields(message: str) -> dict | None:
    """A STATUS= line's numbers (streams, windows/s, dropped, refused, latency p50/p99 ms, extra counters), or None."""
    match = STATUS.match(message)
    if not match:
        return None
    fields = {"streams": int(match["streams"]), "rate": float(match["rate"]), "dropped": int(match["dropped"])}
    fields["refused"] = int(REFUSED.search(message)[1])
    if latency := LATENCY.search(message):
        fields["p50_ms"], fields["p99_ms"] = float(latency[1]), float(latency[2])
    for count, name in EXTRAS.findall(message):
        fields[name.replace(" ", "_")] = int(count)
    return fields


class Daemon:
    """`ecg-monitor run` on a socket in `directory`, with its STATUS= lines and JSON alert lines collected by threads.

    `statuses`: (monotonic time, fields) per STATUS= line; `events`: (wall time, event) for each alert line whose
    stream `keep(stream)` accepts, the others only counted in `other_events`; `on_event(wall time, event)`, if
    given, is called for every alert line instead.
    """

    def __init__(self, binary: str, directory: str, max_streams: int, model: str | None = None, keep=lambda s: True,
                 on_event=None):
        self.socket_path = os.path.join(directory, "ingest.sock")
        notify_path = os.path.join(directory, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(notify_path)
        environment = daemon_environment(notify_path, max_streams)
        self.log = open(os.path.join(directory, "daemon.log"), "w")
        self.process = subprocess.Popen(
            [binary, "run", "--socket", self.socket_path, "--alerts", "json"] + (["--model", model] if model else []),
            cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=self.log,
        )
        ready = receive_until(self.notify, time.monotonic() + 30, lambda m: m.startswith("READY=1"))
        if not any(m.startswith("READY=1") for m in ready):
            self.process.kill()
            raise SystemExit(f"the daemon sent no READY=1: {ready}")
        self.rss_ready_mib = resident_mib(self.process.pid)
        self.statuses: list[tuple[float, dict]] = []
        self.events: list[tuple[float, dict]] = []
        self.other_events = 0
        self.keep = keep
        self.on_event = on_event
        self.threads = [threading.Thread(target=self._read_events, daemon=True),
                        threading.Thread(target=self._read_statuses, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _read_events(self) -> None:
        for line in self.process.stdout:
            arrived = time.time()
            event = json.loads(line)
            if self.on_event:
                self.on_event(arrived, event)
            elif self.keep(event.get("stream", "")):
                self.events.append((arrived, event))
            else:
                self.other_events += 1

    def _read_statuses(self) -> None:
        self.notify.settimeout(1.0)
        while self.process.poll() is None:
            try:
                message = self.notify.recv(65536).decode()
            except TimeoutError:
                continue
            except OSError:
                return
            if message.startswith("STATUS=") and (fields := status_fields(message)):
                self.statuses.append((time.monotonic(), fields))

    def stop(self) -> str:
        """Stops the daemon (SIGTERM), waits for its last events; returns its last log line (the totals)."""
        self.process.terminate()
        self.process.wait(timeout=60)
        self.threads[0].join(timeout=10)
        self.notify.close()
        self.log.close()
        lines = open(self.log.name).read().splitlines()
        return lines[-1] if lines else ""


def event_key(event: dict) -> tuple:
    """What identifies an event across runs: kind, class or condition, the window it was decided on."""
    return (event["event"], event.get("class") or event.get("condition") or "", event.get("window_end"))


def run_once(binary: str, record: str, flood: int, flood_lead: float, sessions: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="ecgstarve-") as directory:
        daemon = Daemon(binary, directory, max_streams=64, keep=lambda s: s.startswith("rt-"))
        flooder = None
        try:
            if flood:
                flooder = subprocess.Popen(
                    [binary, "replay", record, "--socket", daemon.socket_path, "--speed", "max", "--parallel",
                     str(flood), "--loop", "--stream-id", "flood"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
                time.sleep(flood_lead)
            measured_from = time.monotonic()
            spans = []
            for k in range(sessions):
                start = time.time()
                session = subprocess.run(
                    [binary, "replay", record, "--socket", daemon.socket_path, "--live", "--speed", "1",
                     "--seconds", f"{seconds:g}", "--stream-id", f"rt-{k}"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                )
                if session.returncode != 0:
                    raise SystemExit(f"the live stream's replay failed: {session.stderr.strip()}")
                spans.append((start, time.time()))
            time.sleep(1.0)  # the last session's ending events
            measured_to = time.monotonic()
        finally:
            if flooder:
                flooder.terminate()
                flooder.wait()
            totals = daemon.stop()
    results = []
    for k, (start, end) in enumerate(spans):
        events = [(t, e) for t, e in daemon.events if e["stream"] == f"rt-{k}"]
        delays = []
        for arrived, event in events:
            sent = end if event.get("reason") == "stream-ended" else start + event["window_end"]
            delays.append((event, arrived - sent))
        arrivals = [start] + [t for t, _ in events] + [end]
        results.append({
            "alarm_delays_s": [[e["event"], e.get("class") or e.get("condition"), round(d, 3)]
                               for e, d in delays if e["event"] in ALARM_KINDS],
            "vitals_delays_s": [round(d, 3) for e, d in delays if e["event"] == "vitals"],
            "keys": [event_key(e) for _, e in events],
            "longest_gap_s": round(max(b - a for a, b in zip(arrivals, arrivals[1:])), 2),
        })
    during = [f for t, f in daemon.statuses if measured_from + 5 <= t <= measured_to]
    return {
        "flood": flood,
        "sessions": results,
        "windows_per_second": round(statistics.mean(f["rate"] for f in during), 1) if during else None,
        "windows_dropped": daemon.statuses[-1][1]["dropped"] if daemon.statuses else None,
        "flood_events": daemon.other_events,
        "load_average_1m": float(open("/proc/loadavg").read().split()[0]),
        "daemon_summary": totals,
    }


def summarize(run: dict, baseline: dict | None) -> dict:
    """One line per run: alarm delays (median, max), vitals delays, longest silence, events missing vs the baseline."""
    alarm = [d for s in run["sessions"] for _, _, d in s["alarm_delays_s"]]
    vitals = [d for s in run["sessions"] for d in s["vitals_delays_s"]]
    missing, extra = [], []
    if baseline:
        for k, (session, reference) in enumerate(zip(run["sessions"], baseline["sessions"])):
            got, want = list(session["keys"]), list(reference["keys"])
            for key in want:
                if key in got:
                    got.remove(key)
                else:
                    missing.append([k, *key])
            extra += [[k, *key] for key in got]
    return {
        "flood": run["flood"],
        "alarm_events": len(alarm),
        "alarm_delay_median_s": round(statistics.median(alarm), 3) if alarm else None,
        "alarm_delay_max_s": round(max(alarm), 3) if alarm else None,
        "raise_delays_s": [d for s in run["sessions"] for kind, _, d in s["alarm_delays_s"] if kind == "raised"],
        "clear_delays_s": [d for s in run["sessions"] for kind, _, d in s["alarm_delays_s"] if kind == "cleared"],
        "vitals_delay_max_s": round(max(vitals), 3) if vitals else None,
        "longest_gap_s": max(s["longest_gap_s"] for s in run["sessions"]),
        "missing_vs_baseline": missing,
        "extra_vs_baseline": extra,
        "windows_per_second": run["windows_per_second"],
        "windows_dropped": run["windows_dropped"],
        "flood_events": run["flood_events"],
        "load_average_1m": run["load_average_1m"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "ecg-monitor"))
    parser.add_argument("--record", default=str(SAMPLES / "A0003"), help="AF record of the live stream and the flood")
    parser.add_argument("--runs", type=int, default=5, help="runs with the flood")
    parser.add_argument("--baseline-runs", type=int, default=2, help="runs without it, first")
    parser.add_argument("--flood", type=int, default=30, help="recorded streams in the flood (--parallel)")
    parser.add_argument("--flood-lead", type=float, default=3.0, help="seconds the flood runs before the live stream")
    parser.add_argument("--sessions", type=int, default=3, help="consecutive connections of the live stream per run")
    parser.add_argument("--session-seconds", type=float, default=15.0, help="seconds of signal per connection")
    parser.add_argument("--json", action="store_true", help="one JSON object with every run at the end")
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        raise SystemExit(f"{args.binary} is missing: swift build -c release --product ecg-monitor")
    runs, summaries, baseline = [], [], None
    for flood in [0] * args.baseline_runs + [args.flood] * args.runs:
        run = run_once(args.binary, args.record, flood, args.flood_lead, args.sessions, args.session_seconds)
        baseline = baseline or run
        runs.append(run)
        summaries.append(summarize(run, baseline))
        if not args.json:
            print(json.dumps(summaries[-1]), flush=True)
    if args.json:
        print(json.dumps({"summaries": summaries, "runs": runs}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
