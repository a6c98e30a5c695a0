"""Scores QRS detections against reference beat annotations the way ANSI/AAMI EC57 does (beat by beat).

A detection matches a reference beat when it lies within 150 ms of it; each reference beat and each detection
is matched at most once, the closest unmatched detection first. As EC57 prescribes, the first 5 minutes of each
record are not scored (a detector may learn there), and ventricular flutter or fibrillation episodes are left
out of the comparison: the stretches between `[` and `]` markers, and rhythm episodes whose rhythm annotation
(`+`, aux note) starts with `(VF` (`(VFL` in the MIT-BIH Arrhythmia Database), up to the next rhythm annotation.
Reference beats are the annotations with a beat code (N L R B A a J S V r F e j n E / f Q !).

Gross sensitivity Se = TP / (TP + FN) and positive predictivity +P = TP / (TP + FP) are summed over records.

Run from the repository root:
    .venv/bin/python tools/score_qrs.py --reference-dir MITDB --test-dir OUT [--test-annotator qrs] [RECORD ...]
With `--markdown` it prints the per-record table as Markdown (BENCHMARKS.md); `--json` prints the totals.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import sys
from dataclasses import dataclass

import numpy as np
import wfdb

BEAT_CODES = frozenset("NLRBAaJSVrFejnE/fQ!")
MATCH_WINDOW_SECONDS = 0.150
SKIPPED_START_SECONDS = 300.0


@dataclass
class RecordScore:
    record: str
    reference_beats: int
    true_positives: int
    false_negatives: int
    false_positives: int

    @property
    def sensitivity(self) -> float:
        return ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def positive_predictivity(self) -> float:
        return ratio(self.true_positives, self.true_positives + self.false_positives)


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 1.0


def excluded_episodes(symbols: list[str], aux_notes: list[str], samples: np.ndarray,
                      record_end: int) -> list[tuple[int, int]]:
    """Ventricular flutter/fibrillation episodes as half-open sample ranges [start, end)."""
    episodes: list[tuple[int, int]] = []
    flutter_start: int | None = None
    rhythm_start: int | None = None
    for symbol, aux, sample in zip(symbols, aux_notes, samples):
        sample = int(sample)
        if symbol == "[":
            flutter_start = sample
        elif symbol == "]" and flutter_start is not None:
            episodes.append((flutter_start, sample + 1))
            flutter_start = None
        elif symbol == "+":
            if rhythm_start is not None:
                episodes.append((rhythm_start, sample))
                rhythm_start = None
            if (aux or "").strip("\x00 ").startswith("(VF"):
                rhythm_start = sample
    for start in (flutter_start, rhythm_start):
        if start is not None:
            episodes.append((start, record_end))
    return episodes


def inside(sample: int, episodes: list[tuple[int, int]]) -> bool:
    return any(start <= sample < end for start, end in episodes)


def match(reference: np.ndarray, detections: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Greedy one-to-one matching in time order; returns boolean 'matched' flags for both lists."""
    reference_matched = np.zeros(len(reference), dtype=bool)
    detection_matched = np.zeros(len(detections), dtype=bool)
    for index, beat in enumerate(reference):
        low = bisect.bisect_left(detections, beat - window)
        high = bisect.bisect_right(detections, beat + window)
        best = None
        for candidate in range(low, high):
            if detection_matched[candidate]:
                continue
            if best is None or abs(int(detections[candidate]) - beat) < abs(int(detections[best]) - beat):
                best = candidate
        if best is not None:
            detection_matched[best] = True
            reference_matched[index] = True
    return reference_matched, detection_matched


def score_arrays(record: str, fs: float, reference_samples: np.ndarray, reference_symbols: list[str],
                 reference_aux: list[str], detections: np.ndarray, record_end: int) -> RecordScore:
    """Scores one record given the reference annotations and the detected beat samples."""
    episodes = excluded_episodes(reference_symbols, reference_aux, reference_samples, record_end)
    start = int(round(SKIPPED_START_SECONDS * fs))
    beats = np.array(sorted(int(s) for s, sym in zip(reference_samples, reference_symbols) if sym in BEAT_CODES),
                     dtype=np.int64)
    detections = np.array(sorted(int(s) for s in detections), dtype=np.int64)
    reference_matched, detection_matched = match(beats, detections, int(round(MATCH_WINDOW_SECONDS * fs)))

    def scored(sample: int) -> bool:
        return start <= sample < record_end and not inside(sample, episodes)

    tp = fn = fp = total = 0
    for beat, matched in zip(beats, reference_matched):
        if scored(int(beat)):
            total += 1
            tp += int(matched)
            fn += int(not matched)
    for detection, matched in zip(detections, detection_matched):
        if not matched and scored(int(detection)):
            fp += 1
    return RecordScore(record, total, tp, fn, fp)


def score_record(record: str, reference_dir: str, test_dir: str, reference_annotator: str,
                 test_annotator: str) -> RecordScore:
    header = wfdb.rdheader(os.path.join(reference_dir, record))
    reference = wfdb.rdann(os.path.join(reference_dir, record), reference_annotator)
    test = wfdb.rdann(os.path.join(test_dir, record), test_annotator)
    detections = np.array([s for s, sym in zip(test.sample, test.symbol) if sym in BEAT_CODES], dtype=np.int64)
    return score_arrays(record, header.fs, reference.sample, reference.symbol,
                        reference.aux_note or [""] * len(reference.sample), detections, header.sig_len)


def totals(scores: list[RecordScore]) -> RecordScore:
    return RecordScore("gross", sum(s.reference_beats for s in scores), sum(s.true_positives for s in scores),
                       sum(s.false_negatives for s in scores), sum(s.false_positives for s in scores))


def markdown(scores: list[RecordScore]) -> str:
    lines = ["| record | beats | TP | FN | FP | Se % | +P % |", "|---|---:|---:|---:|---:|---:|---:|"]
    for s in scores + [totals(scores)]:
        name = f"**{s.record}**" if s.record == "gross" else s.record
        lines.append(f"| {name} | {s.reference_beats} | {s.true_positives} | {s.false_negatives} | "
                     f"{s.false_positives} | {100 * s.sensitivity:.2f} | {100 * s.positive_predictivity:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("records", nargs="*", help="record names; default: every .atr in --reference-dir")
    parser.add_argument("--reference-dir", required=True)
    parser.add_argument("--test-dir", required=True)
    parser.add_argument("--reference-annotator", default="atr")
    parser.add_argument("--test-annotator", default="qrs")
    parser.add_argument("--markdown", action="store_true", help="print the per-record table as Markdown")
    parser.add_argument("--json", action="store_true", help="print the gross totals as JSON")
    args = parser.parse_args(argv)
    records = args.records or sorted(name[:-4] for name in os.listdir(args.reference_dir) if name.endswith(".atr"))
    if not records:
        print(f"no .atr files in {args.reference_dir}", file=sys.stderr)
        return 2
    scores = [score_record(r, args.reference_dir, args.test_dir, args.reference_annotator, args.test_annotator)
              for r in records]
    gross = totals(scores)
    if args.markdown:
        print(markdown(scores))
    elif args.json:
        print(json.dumps({"records": len(scores), "reference_beats": gross.reference_beats,
                          "true_positives": gross.true_positives, "false_negatives": gross.false_negatives,
                          "false_positives": gross.false_positives, "sensitivity": gross.sensitivity,
                          "positive_predictivity": gross.positive_predictivity}))
    else:
        for s in scores:
            print(f"{s.record:>8} beats {s.reference_beats:6d} FN {s.false_negatives:5d} FP {s.false_positives:5d} "
                  f"Se {100 * s.sensitivity:6.2f} +P {100 * s.positive_predictivity:6.2f}")
        print(f"   gross beats {gross.reference_beats:6d} FN {gross.false_negatives:5d} FP {gross.false_positives:5d} "
              f"Se {100 * gross.sensitivity:6.2f} +P {100 * gross.positive_predictivity:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
