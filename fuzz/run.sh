#!/usr/bin/env bash
# Builds the libFuzzer targets (address sanitizer on) and runs each for a bounded time or number of inputs.
#
# Usage: fuzz/run.sh [--seconds N] [--runs N] [--build-only] [TARGET ...]
#   TARGET: stream-header frame-decoder wfdb-record model model-config npy (default: all)
#   --seconds N  stop each target after N seconds (default: $FUZZ_SECONDS, else 60)
#   --runs N     stop each target after N inputs, whichever limit comes first
#
# The module sources are compiled directly with `swiftc -sanitize=fuzzer,address` (SwiftPM has no fuzzing
# support): Beats, Stream (which detects beats) and Model once each as static libraries, then one executable per
# target. Seeds come from
# the sample recordings beside the repository (../shared/ecg-samples) and the committed model fixtures; the
# corpus grows in .build/fuzz/corpus/ across runs. A crash, leak, timeout or out-of-memory leaves its input in
# .build/fuzz/artifacts/TARGET/ and makes the script exit non-zero; reproduce it with
# `.build/fuzz/bin/TARGET .build/fuzz/artifacts/TARGET/crash-…`.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(stream-header frame-decoder wfdb-record model model-config npy)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
RUNS=-1
BUILD_ONLY=0
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_PER_TARGET=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --build-only) BUILD_ONLY=1; shift ;;
        -h|--help) sed -n 2,13p "$0"; exit 0 ;;
        -*) echo "fuzz: unknown option $1" >&2; exit 2 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

SWIFTC=${SWIFTC:-swiftc}
# A crash is reported by the sanitizer; the Swift runtime's own backtracer would take minutes on a busy machine.
export SWIFT_BACKTRACE=enable=no
# One BLAS thread, as each inference worker runs it; fuzzing measures the code, not the thread pool.
export OPENBLAS_NUM_THREADS=1
OUT=.build/fuzz
SAMPLES=${SAMPLES:-../shared/ecg-samples}
FIXTURES=Tests/ModelTests/Fixtures
FLAGS=(-parse-as-library -package-name ecg_monitor -sanitize=fuzzer,address -O -use-ld=lld -I "$OUT/modules")
mkdir -p "$OUT/modules" "$OUT/bin"

# Rebuilds $1 when it is missing or older than any of the files after it.
stale() {
    local output=$1; shift
    [ -e "$output" ] || return 0
    [ -n "$(find "$@" -newer "$output" -print -quit)" ]
}

# A static library and module of the sources of Sources/$1, testable so targets reach internal entry points.
build_module() {
    local module=$1; shift
    local sources=(Sources/"$module"/*.swift)
    if stale "$OUT/modules/lib$module.a" "${sources[@]}"; then
        echo "fuzz: building module $module" >&2
        "$SWIFTC" "${FLAGS[@]}" "$@" -enable-testing -module-name "$module" -emit-module \
            -emit-module-path "$OUT/modules/$module.swiftmodule" -emit-library -static \
            -o "$OUT/modules/lib$module.a" "${sources[@]}"
    fi
}

# The executable of target $1 from the fuzz sources $2 and the libraries and sources after it.
build_target() {
    local target=$1 harness=$2; shift 2
    local inputs=(fuzz/FuzzSupport.swift "fuzz/$harness")
    local depends=("${inputs[@]}")
    for argument in "$@"; do [ -f "$argument" ] && depends+=("$argument"); done
    if stale "$OUT/bin/$target" "${depends[@]}"; then
        echo "fuzz: building $target" >&2
        "$SWIFTC" "${FLAGS[@]}" "${inputs[@]}" "$@" -o "$OUT/bin/$target"
    fi
}

STREAM_LIBRARIES=("$OUT/modules/libStream.a" "$OUT/modules/libBeats.a")

needs() { local wanted; for wanted in "$@"; do [[ " ${TARGETS[*]} " == *" $wanted "* ]] && return 0; done; return 1; }

if needs stream-header frame-decoder wfdb-record npy; then
    build_module Beats
    build_module Stream
fi
if needs model model-config; then build_module Model -I Sources/COpenBLAS; fi
for target in "${TARGETS[@]}"; do
    case "$target" in
        stream-header) build_target "$target" StreamHeaderFuzz.swift "${STREAM_LIBRARIES[@]}" ;;
        frame-decoder) build_target "$target" FrameDecoderFuzz.swift "${STREAM_LIBRARIES[@]}" ;;
        wfdb-record) build_target "$target" WFDBRecordFuzz.swift "${STREAM_LIBRARIES[@]}" ;;
        model) build_target "$target" ModelFuzz.swift "$OUT/modules/libModel.a" -I Sources/COpenBLAS -lopenblas ;;
        model-config)
            build_target "$target" ModelConfigFuzz.swift "$OUT/modules/libModel.a" -I Sources/COpenBLAS -lopenblas ;;
        # The reader's two files compile in directly, without the rest of Monitor (NIO, configuration, ...).
        npy)
            build_target "$target" NpyArrayFuzz.swift Sources/Monitor/Inference/NpyArray.swift \
                Sources/Monitor/Inference/InputError.swift "${STREAM_LIBRARIES[@]}" ;;
        *) echo "fuzz: unknown target $target (known: ${ALL_TARGETS[*]})" >&2; exit 2 ;;
    esac
done
[ "$BUILD_ONLY" = 1 ] && exit 0

rm -rf "$OUT/seeds"
python3 fuzz/make_seeds.py "$SAMPLES" "$FIXTURES" "$OUT/seeds"

max_len() {
    case "$1" in
        stream-header) echo 4096 ;;
        frame-decoder) echo 16384 ;;
        model) echo 32768 ;;
        *) echo 8192 ;;
    esac
}

failed=()
printf '%-14s %12s %8s %s\n' target executions seconds result
for target in "${TARGETS[@]}"; do
    mkdir -p "$OUT/corpus/$target" "$OUT/artifacts/$target" "$OUT/logs" "$OUT/seeds/$target"
    log="$OUT/logs/$target.log"
    start=$(date +%s)
    status=0
    # -timeout: one input running 10 s is a hang; -rss_limit_mb: a runaway allocation is a finding, not a swap storm.
    nice -n 10 "$OUT/bin/$target" -max_total_time="$SECONDS_PER_TARGET" -runs="$RUNS" -timeout=10 \
        -rss_limit_mb=2048 -max_len="$(max_len "$target")" -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$target/" "$OUT/corpus/$target" "$OUT/seeds/$target" >"$log" 2>&1 \
        || status=$?
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    result=ok
    if [ "$status" != 0 ]; then
        result="FAILED (exit $status, see $log)"
        failed+=("$target")
        grep -m 3 -E 'ERROR|panic|Fatal error|fatal error|deadly signal|Precondition failed' "$log" >&2 || true
    fi
    printf '%-14s %12s %8s %s\n' "$target" "${executions:-?}" "$(($(date +%s) - start))" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in ${failed[*]}; inputs are in $OUT/artifacts/" >&2
    exit 1
fi
