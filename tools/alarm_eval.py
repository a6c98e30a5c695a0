"""Alarm evaluation of a model as the daemon runs it: a PTB-XL fold, clean and noise-stressed, streamed through
`ecg-monitor evaluate` (the daemon's stream pipeline, signal-quality checks, inference and alarm engine), scored per
record against the fold's labels, written as a Markdown report.

Run from the repository root after `swift build -c release --product ecg-monitor`:
    .venv/bin/python tools/alarm_eval.py --ptbxl data/ptbxl --fold 10 --out models/ecg-incepse-all-alarms.md

A record "raises" a class when the class's alarm (or finding) was raised at any time while it streamed; with no
label of that class it is a false alarm. Alarm sensitivity counts the records with the label that raised it, the
delay is stream time from the record's start to the raise. Heart-rate alarms (from counted beats) count as alarms
and are listed per condition. The stresses are `ecg-monitor evaluate --stress`'s:
baseline wander, muscle noise at a signal-to-noise ratio, mains, one lead off (docs/alarms.md).
"""

from __future__ import annotations

import argparse
import ast
import json
import statistics
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
STRESSES = ["none", "wander:0.5:0.3", "muscle:6", "muscle:0", "lead-off:V2"]


def load_fold(ptbxl: Path, fold: int, limit: int | None) -> pd.DataFrame:
    """The fold's records with their label sets (every scp_codes key, whatever its likelihood)."""
    table = pd.read_csv(ptbxl / "ptbxl_database.csv")
    table = table[table.strat_fold == fold].sort_values("ecg_id")
    table["labels"] = table.scp_codes.apply(lambda text: frozenset(ast.literal_eval(text)))
    table["path"] = table.filename_lr.apply(lambda name: str(ptbxl / name))
    return table.head(limit) if limit else table


def stream(binary: str, records: list[str], stress: str, config: str | None, threads: int) -> dict[str, dict]:
    """Runs `ecg-monitor evaluate` over the records; returns per record its summary and its events."""
    command = [binary, "evaluate", "--records-from", "-", "--threads", str(threads)]
    if stress != "none":
        command += ["--stress", stress]
    if config:
        command += ["--config", config]
    result = subprocess.run(
        command, input="\n".join(records) + "\n", capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    outcome: dict[str, dict] = {}
    for line in result.stdout.splitlines():
        item = json.loads(line)
        if "record" in item:
            outcome.setdefault(item["stream"], {"events": []}).update(item)
        else:
            outcome.setdefault(item["stream"], {"events": []})["events"].append(item)
    return outcome


def score(table: pd.DataFrame, outcome: dict[str, dict]) -> dict:
    """Per class: records raising it with and without the label, delays; any-alarm share; technical conditions."""
    by_class: dict[str, dict] = defaultdict(lambda: {"tp": 0, "fp": 0, "delays": [], "kind": "alarm"})
    normal_any = normal = any_alarm = 0
    technical: dict[str, int] = defaultdict(int)
    heart_rate: dict[str, int] = defaultdict(int)
    windows = classified = 0
    for row in table.itertuples():
        record = outcome[Path(row.path).name]
        windows += record["windows"]
        classified += record["classified"]
        raised: dict[str, float] = {}
        conditions: set[str] = set()
        rate_conditions: set[str] = set()
        for event in record["events"]:
            if event["event"] in ("raised", "finding-reported"):
                code = event["class"]
                raised.setdefault(code, event["window_end"])
                by_class[code]["kind"] = "alarm" if event["event"] == "raised" else "finding"
            elif event["event"] == "technical-raised":
                conditions.add(event["condition"])
            elif event["event"] == "heart-rate-raised":
                rate_conditions.add(event["condition"])
        for condition in conditions:
            technical[condition] += 1
        for condition in rate_conditions:
            heart_rate[condition] += 1
        alarms = {code for code in raised if code in by_class and by_class[code]["kind"] == "alarm"} | rate_conditions
        is_normal = {"NORM", "SR"} <= row.labels
        normal += is_normal
        normal_any += is_normal and bool(alarms)
        any_alarm += bool(alarms)
        for code in raised:
            if code not in by_class:
                continue
            if code in row.labels:
                by_class[code]["tp"] += 1
                by_class[code]["delays"].append(raised[code])
            else:
                by_class[code]["fp"] += 1
    return {
        "records": len(table),
        "normal": normal,
        "normal_any": normal_any,
        "any_alarm": any_alarm,
        "classes": by_class,
        "technical": dict(technical),
        "heart_rate": dict(heart_rate),
        "windows": windows,
        "classified": classified,
    }


def percent(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "–"


def report(table: pd.DataFrame, results: dict[str, dict], title: str) -> str:
    """The Markdown report: a summary per stress, then per class on the clean fold and each stress."""
    positives = defaultdict(int)
    for labels in table.labels:
        for code in labels:
            positives[code] += 1
    lines = [f"# {title}", "", __doc__.split("\n\n")[2].replace("\n", " "), ""]
    lines += [
        "| stress | records | windows formed / classified | NORM+SR records with any alarm | records with any alarm |"
        " heart-rate alarms (records) | technical alarms (records) |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for stress, result in results.items():
        technical = ", ".join(f"{k} {percent(v, result['records'])}" for k, v in sorted(result["technical"].items()))
        rates = ", ".join(f"{k} {percent(v, result['records'])}" for k, v in sorted(result["heart_rate"].items()))
        lines.append(
            f"| {stress} | {result['records']} | {result['windows']} / {result['classified']} | "
            f"{result['normal_any']} of {result['normal']} ({percent(result['normal_any'], result['normal'])}) | "
            f"{percent(result['any_alarm'], result['records'])} | {rates or 'none'} | {technical or 'none'} |"
        )
    for stress, result in results.items():
        lines += [
            "",
            f"## {stress}",
            "",
            "| class | kind | records with label | alarm sensitivity | false alarms (records without label) |"
            " median delay (s) |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for code, entry in sorted(result["classes"].items()):
            negatives = result["records"] - positives[code]
            delay = f"{statistics.median(entry['delays']):.1f}" if entry["delays"] else "–"
            lines.append(
                f"| {code} | {entry['kind']} | {positives[code]} | "
                f"{entry['tp']} ({percent(entry['tp'], positives[code])}) | "
                f"{entry['fp']} ({percent(entry['fp'], negatives)}) | {delay} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ptbxl", type=Path, required=True, help="PTB-XL in PhysioNet's layout (100 Hz records)")
    parser.add_argument("--fold", type=int, default=10)
    parser.add_argument("--binary", default=str(ROOT / ".build/release/ecg-monitor"))
    parser.add_argument("--config", help="daemon configuration file (default: the shipped defaults)")
    parser.add_argument("--stress", action="append", help=f"stresses to run (default: {' '.join(STRESSES)})")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, help="first N records of the fold only")
    parser.add_argument("--out", type=Path, required=True, help="Markdown report")
    parser.add_argument("--json", type=Path, help="also write the scores as JSON")
    args = parser.parse_args()
    table = load_fold(args.ptbxl, args.fold, args.limit)
    results = {}
    for stress in args.stress or STRESSES:
        outcome = stream(args.binary, list(table.path), stress, args.config, args.threads)
        results[stress] = score(table, outcome)
        print(
            f"{stress}: NORM+SR with any alarm {percent(results[stress]['normal_any'], results[stress]['normal'])}",
            file=sys.stderr,
        )
    title = f"Alarm evaluation: PTB-XL fold {args.fold}, streamed through ecg-monitor evaluate"
    args.out.write_text(report(table, results, title))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=list))


if __name__ == "__main__":
    main()
