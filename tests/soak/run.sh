#!/usr/bin/env bash
# The soak test: builds the release binary, then tests/soak/soak.py (loopback, bounded by
# --duration). Flags are passed on, e.g. tests/soak/run.sh --duration 60.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --bin rocketchat-mock
exec python3 tests/soak/soak.py --binary "${CARGO_TARGET_DIR:-target}/release/rocketchat-mock" "$@"
