#!/usr/bin/env bash
# The load benchmark: installs wrk if missing, builds the release binaries and the baseline
# (examples/bare_actix.rs), then runs bench.py (server on one core with one worker, wrk on
# the other; loopback only; each wrk run bounded by --duration). Flags are passed on to
# bench.py, e.g.
#   benches/load/run.sh --duration 5 --load-sizes 1k,1m --json target/bench/results.json
#   benches/load/run.sh --scenarios search,exists,login,baseline --startup-sizes ''
# Figures go to stdout as Markdown; they never fail the script.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v wrk >/dev/null; then
  echo "installing wrk from Debian's packages" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null
fi
command -v taskset >/dev/null || { echo "taskset (util-linux) is needed to pin the server and wrk to a core each" >&2; exit 1; }

cargo build --release --bins --example bare_actix
mkdir -p target/bench
exec python3 benches/load/bench.py \
  --binary target/release/rocketchat-mock \
  --generator target/release/rocketchat-mock-fixtures \
  --baseline target/release/examples/bare_actix \
  --work target/bench "$@"
