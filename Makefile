# The two commands of the README: `make run` and `make test`. Each installs what is missing first.
SHELL := /bin/bash
SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
APT_PACKAGES := libopenblas-dev libsystemd-dev pkg-config systemd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN := .build/release/ecg-monitor

.PHONY: run test bench fuzz fuzz-ci deps system-deps python-deps build release lint

# apt only when a library, pkg-config or systemd-analyze is missing, so a ready machine needs no root.
system-deps:
	@if ! pkg-config --exists openblas libsystemd 2>/dev/null || ! command -v systemd-analyze >/dev/null; then \
		echo "installing $(APT_PACKAGES)"; \
		$(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $(APT_PACKAGES); \
	fi

$(VENV)/.installed: training/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r training/requirements.txt
	touch $@

python-deps: $(VENV)/.installed

deps: system-deps python-deps

build: system-deps
	$(SWIFT) build

release: system-deps
	$(SWIFT) build -c release

# The demo: a recording piped through the daemon, alert events printed as JSON lines as they happen. It ends
# by itself after DEMO_SECONDS of signal (at DEMO_SPEED times real time), or cleanly on Ctrl-C.
SAMPLES := ../shared/ecg-samples
DEMO_RECORD ?= $(SAMPLES)/12-lead-ecg-classifier/E00005
DEMO_SPEED ?= 2
DEMO_SECONDS ?= 10
run: system-deps
	$(SWIFT) build -c release --product ecg-monitor
	@set -o pipefail; if [ -f "$(DEMO_RECORD).hea" ]; then \
		echo "demo: $(DEMO_RECORD), $(DEMO_SECONDS) s of signal at $(DEMO_SPEED)x real time" >&2; \
		$(RELEASE_BIN) replay "$(DEMO_RECORD)" --loop --seconds $(DEMO_SECONDS) --speed $(DEMO_SPEED) --stream-id demo; \
	else \
		echo "demo: $(DEMO_RECORD).hea is absent; simulating atrial fibrillation" >&2; \
		$(RELEASE_BIN) simulate --rhythm afib --seconds $(DEMO_SECONDS) --speed $(DEMO_SPEED) --stream-id demo; \
	fi | $(RELEASE_BIN) run --stdin --alerts json

# Our engine against ONNX Runtime on the same ONNX file, alternating rounds, medians and ratios (BENCHMARKS.md).
BENCH_MODEL ?= Tests/ModelTests/Fixtures/paper.onnx
BENCH_ROUNDS ?= 5
BENCH_SECONDS ?= 3
bench: deps
	$(SWIFT) build -c release --product ecg-monitor
	$(PYTHON) tools/bench_onnxruntime.py --compare $(RELEASE_BIN) --model $(BENCH_MODEL) \
		--rounds $(BENCH_ROUNDS) --seconds $(BENCH_SECONDS)

# The code follows .swift-format (4 spaces, 120 columns, early exits); `swift format -i -r Sources Tests` fixes it.
lint:
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests

test: deps lint
	$(SWIFT) build --build-tests
	tools/verify-units.sh
	$(SWIFT) test
	$(PYTHON) -m pytest -q training/tests

# libFuzzer targets (fuzz/run.sh: header parser, frame decoder, WFDB reader, ONNX reader, model metadata, .npy
# reader), built with the address sanitizer and run for FUZZ_SECONDS each; FUZZ_RUNS caps the inputs per target.
# Findings are left in .build/fuzz/artifacts/ and fail the target.
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?= -1
fuzz: system-deps
	fuzz/run.sh --seconds $(FUZZ_SECONDS) --runs $(FUZZ_RUNS)

# The short run CI does so that a regression shows: 10 s per target, about two minutes with the builds.
fuzz-ci: system-deps
	fuzz/run.sh --seconds 10
