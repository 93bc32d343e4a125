#!/usr/bin/env bash
# Every test: builds what is missing (scripts/setup.sh), then
#   1. make check in build/ (gcc, warnings as errors)
#   2. the Python implementation regenerates the vector file byte for byte,
#      and a changed RFC 8548 constant in either implementation is caught;
#      a changed RFC 9382 detail in auth/spake2.c is caught by test_spake2
#   3. make check again in build-asan/ (clang, AddressSanitizer + UBSan)
#   4. each libFuzzer target for TC_FUZZ_SECONDS (default 20) seconds, from
#      the seeds in tests/fuzz/corpus/<target>/
# Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
fuzz_seconds=${TC_FUZZ_SECONDS:-20}

say() { printf '\n== %s\n' "$*"; }
show_logs() {
    # On failure, show why: automake keeps each test's output in a .log.
    # Tests live in subdirectories too (tests/netns/, tests/compat/, ...).
    local trs
    while IFS= read -r trs; do
        grep -q '^:test-result: \(FAIL\|ERROR\)' "$trs" || continue
        echo "--- ${trs%.trs}.log"
        tail -n 60 "${trs%.trs}.log"
    done < <(find "$1/tests" -name '*.trs' | sort)
    return 1
}

scripts/setup.sh --no-demo

say "unit and known-answer tests (build/)"
make -C build -s -j"$(nproc)" check || show_logs build
grep -h '^[a-z_]*: [0-9]* checks\|^vectors:\|vectors checked' build/tests/*.log || true
grep -h '^e2e_[a-z]*: ' build/tests/netns/*.log || true
grep -h '^compat_[a-z0-9]*: ' build/tests/compat/*.log 2>/dev/null || true

say "independent Python implementation reproduces tests/vectors/tcpcrypt-kat.txt"
/usr/bin/python3 tests/vectors/gen_vectors.py --check tests/vectors/tcpcrypt-kat.txt
echo "gen_vectors.py: identical"

say "a wrong protocol constant on either side fails the vectors"
bash tests/mutants.sh

say "SPAKE2: a wrong RFC 9382 detail in auth/spake2.c fails tests/test_spake2"
bash tests/spake2_mutants.sh

say "sanitizers: AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/, clang-14)"
mkdir -p build-asan
if [ ! -f build-asan/config.status ] || [ configure -nt build-asan/config.status ]; then
    (cd build-asan && CC=clang-14 "$top/configure" --enable-werror --enable-sanitizers \
        --enable-fuzzers >/dev/null)
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
make -C build-asan -s -j"$(nproc)" all >/dev/null
make -C build-asan -s -j"$(nproc)" check || show_logs build-asan

say "fuzzing each parser for ${fuzz_seconds}s"
for t in build-asan/tests/fuzz/fuzz_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    corpus=build-asan/fuzz-corpus/$name
    mkdir -p "$corpus"
    # The seeds kept in the repository (tests/fuzz/corpus/) start each run;
    # what the fuzzer adds stays in build-asan/, never in the source tree.
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -n "tests/fuzz/corpus/$name"/* "$corpus"/
    fi
    if ! "$t" -max_total_time="$fuzz_seconds" -print_final_stats=1 "$corpus" \
        >"build-asan/$name.log" 2>&1; then
        tail -n 40 "build-asan/$name.log"
        echo "FAIL: $name"
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-asan/$name.log")
    echo "$name: $runs executions, no failure"
done

say "all tests passed"
