#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs, made from the real sample recordings and the committed model fixtures.

Usage: make_seeds.py SAMPLES_DIR FIXTURES_DIR OUT_DIR. Standard library only, so it runs before any virtual
environment exists. Each target's seeds go to OUT_DIR/<target>/; the layouts are those the targets document.
"""
import json
import os
import struct
import sys
import zlib

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
RECORDS = [
    "ECG-classification---CNN1D-on-PTB-XL/00008_lr",
    "12-lead-ecg-classifier/A0003",
    "torch_ecg/HR06000",
    "wfdb-python/s0010_re",
]


def read_record(base):
    """(header text, rate, [(file, format, offset, gain, baseline)], {file: bytes})."""
    with open(base + ".hea", encoding="utf-8") as handle:
        text = handle.read()
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rate = float(lines[0].split()[2].split("/")[0])
    signals = []
    for line in lines[1 : 1 + int(lines[0].split()[1])]:
        fields = line.split()
        fmt, _, offset = fields[1].partition("+")
        fmt = fmt.split("x")[0].split(":")[0]
        gain_text = fields[2].split("/")[0]
        gain, _, baseline = gain_text.partition("(")
        signals.append((fields[0], int(fmt), int(offset or 0), float(gain) or 200.0, float(baseline.rstrip(")") or 0)))
    directory = os.path.dirname(base)
    files = {}
    for name, *_ in signals:
        if name not in files:
            with open(os.path.join(directory, name), "rb") as handle:
                files[name] = handle.read()
    return text, rate, signals, files


def twelve_lead_samples(signals, files, count):
    """[instant][lead] int16 samples of the first signal file, up to 12 leads, format 16 only."""
    name, fmt, offset = signals[0][:3]
    members = [s for s in signals if s[0] == name]
    data = files[name][offset:]
    width = len(members)
    instants = min(count, len(data) // (2 * width))
    rows = []
    for t in range(instants):
        row = struct.unpack_from("<%dh" % width, data, 2 * width * t)
        rows.append(list(row[:12]))
    return rows, members[:12]


def frame(rows, code, first_index):
    lead_count = len(rows[0])
    body = bytes([0xEC, 0x47, lead_count, code]) + struct.pack("<HI", len(rows), first_index)
    pack = "<%dh" % lead_count if code == 1 else "<%df" % lead_count
    for row in rows:
        body += struct.pack(pack, *row)
    return body + struct.pack("<I", zlib.crc32(body))


def header_line(stream, rate, leads, fmt, gains=None, baselines=None):
    header = {"version": 1, "stream": stream, "rate_hz": rate, "leads": leads, "format": fmt}
    if gains is not None:
        header["gain"] = gains
        if baselines and any(baselines):
            header["baseline"] = baselines
    return json.dumps(header, separators=(",", ":")).encode()


def write(directory, name, data):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as handle:
        handle.write(data)


def metadata_entries(model_bytes):
    """The metadata_props (field 14) of a serialized ModelProto, read with a minimal protobuf walker."""

    def varint(data, position):
        value, shift = 0, 0
        while True:
            byte = data[position]
            position += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value, position
            shift += 7

    def fields(data):
        position = 0
        while position < len(data):
            key, position = varint(data, position)
            wire = key & 7
            if wire == 0:
                value, position = varint(data, position)
            elif wire == 1:
                value, position = data[position : position + 8], position + 8
            elif wire == 5:
                value, position = data[position : position + 4], position + 4
            else:
                length, position = varint(data, position)
                value, position = data[position : position + length], position + length
            yield key >> 3, value

    entries = []
    for number, value in fields(model_bytes):
        if number == 14:
            entry = dict(fields(value))
            entries.append((entry.get(1, b""), entry.get(2, b"")))
    return entries


def npy(array_rows, version=1):
    shape = "(%d, %d)" % (len(array_rows[0]), len(array_rows))
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape
    prefix = 10 if version == 1 else 12
    header += " " * ((64 - (prefix + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    values = b"".join(struct.pack("<f", row[lead]) for lead in range(len(array_rows[0])) for row in array_rows)
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + values


def main():
    samples, fixtures, out = sys.argv[1:4]
    for index, relative in enumerate(RECORDS):
        base = os.path.join(samples, relative)
        if not os.path.exists(base + ".hea"):
            print("seeds: %s.hea is absent, skipped" % base, file=sys.stderr)
            continue
        text, rate, signals, files = read_record(base)
        rows, members = twelve_lead_samples(signals, files, 100)
        leads = [LEADS[i % 12] for i in range(len(members))]
        gains = [m[3] for m in members]
        baselines = [m[4] for m in members]
        millivolts = [[(value - baselines[i]) / gains[i] for i, value in enumerate(row)] for row in rows]
        rate_hz = int(rate)

        i16_header = header_line("rec-%d" % index, rate_hz, leads, "i16le", gains, baselines)
        f32_header = header_line("rec-%d" % index, rate_hz, leads, "f32le")
        csv_header = header_line("rec-%d" % index, rate_hz, leads, "csv")
        for name, line in (("i16", i16_header), ("f32", f32_header), ("csv", csv_header)):
            write(os.path.join(out, "stream-header"), "%d-%s" % (index, name), line)

        # Frame decoder: control byte, chunk-size byte, lead-count byte, body (see FrameDecoderFuzz.swift).
        lead_byte = len(members) - 1
        i16_frames = frame(rows[:40], 1, 0) + frame(rows[40:80], 1, 40)
        f32_frames = frame(millivolts[:20], 2, 0) + frame(millivolts[20:40], 2, 20)
        csv_lines = b"".join((",".join("%.4f" % v for v in row) + "\n").encode() for row in millivolts[:20])
        frames_dir = os.path.join(out, "frame-decoder")
        write(frames_dir, "%d-i16" % index, bytes([0, 255, lead_byte]) + i16_frames)
        write(frames_dir, "%d-f32" % index, bytes([1, 16, lead_byte]) + f32_frames)
        write(frames_dir, "%d-csv" % index, bytes([2, 7, lead_byte]) + csv_lines)
        write(frames_dir, "%d-own-header" % index, bytes([3, 63, 0]) + i16_header + b"\n" + i16_frames)
        write(frames_dir, "%d-small-limits" % index, bytes([6, 3, lead_byte]) + csv_lines)
        described = bytes([0x85, 1, 2, 3, 4, 5])
        for start in (0, 4):
            described += bytes([0, len(members), 1, 4]) + struct.pack("<I", start)
            described += b"".join(struct.pack("<%dh" % len(members), *row) for row in rows[start : start + 4])
        write(frames_dir, "%d-described" % index, bytes([8, 31, lead_byte]) + described)

        # WFDB: header text, NUL, the first bytes of its signal file.
        first_file = files[signals[0][0]]
        write(os.path.join(out, "wfdb-record"), "%d" % index, text.encode() + b"\0" + first_file[:2400])

        write(os.path.join(out, "npy"), "%d-v1" % index, npy(millivolts[:25], 1))
        write(os.path.join(out, "npy"), "%d-v2" % index, npy(millivolts[:10], 2))

    for name in ("tiny.onnx",):
        with open(os.path.join(fixtures, name), "rb") as handle:
            model = handle.read()
        write(os.path.join(out, "model"), name, model)
    for name in ("paper.onnx", "tiny.onnx", "seed_dynamo.onnx"):
        with open(os.path.join(fixtures, name), "rb") as handle:
            entries = metadata_entries(handle.read())
        body = b"".join(key + b"\0" + value + b"\0" for key, value in entries)
        classes = next((len(json.loads(v)) for k, v in entries if k == b"ecg.classes"), 5)
        leads = next((len(json.loads(v)) for k, v in entries if k == b"ecg.leads"), 12)
        write(os.path.join(out, "model-config"), name, bytes([classes - 1, leads - 1]) + body)


if __name__ == "__main__":
    main()
