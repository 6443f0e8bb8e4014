#!/usr/bin/env bash
# Fuzzes the request pipeline (fuzz/fuzz_targets/pipeline.rs) with libFuzzer, for
# SECONDS (default 60). Needs the nightly toolchain and cargo-fuzz, installed if missing.
# A crash is written to fuzz/artifacts/pipeline/ and reproduced with
#   cargo +nightly fuzz run pipeline fuzz/artifacts/pipeline/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp"
exec cargo +nightly fuzz run pipeline -- -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=4096
