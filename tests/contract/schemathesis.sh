#!/usr/bin/env bash
# Contract fuzzing: schemathesis (from PyPI, in a virtual environment this script creates)
# generates requests from the served OpenAPI document for every operation and checks that
# no answer is a server error and that every answer's status, content type and body are
# the ones the document declares. Any finding fails the script.
#
#   tests/contract/schemathesis.sh              # as CI runs it
#   SCHEMATHESIS_EXAMPLES=500 tests/contract/schemathesis.sh
#   SCHEMATHESIS_SEED=123 tests/contract/schemathesis.sh
#
# The seed is fixed by default so that a CI run can be repeated exactly; change it (or
# raise the examples) to explore further. Runs against the debug binary on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
VENV=target/schemathesis-venv
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-100}
SEED=${SCHEMATHESIS_SEED:-20261122}

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet --bin rocketchat-mock
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=target/schemathesis-server.log
# Generated X-Mock-Session names open a session each: more than the default 100 would be
# answered 503 (documented, but a server error to the not_a_server_error check).
# Where cargo put the binary: `target/`, unless CARGO_TARGET_DIR says otherwise.
BINARY="${CARGO_TARGET_DIR:-target}/debug/rocketchat-mock"
RUST_LOG=warn "$BINARY" --host 127.0.0.1 --port "$PORT" --workers 2 \
  --max-sessions 100000 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
export ROCKETCHAT_MOCK_URL="http://127.0.0.1:$PORT"
up=false
for _ in $(seq 100); do
  curl -fsS "$ROCKETCHAT_MOCK_URL/_mock/health" >/dev/null 2>&1 && up=true && break
  sleep 0.1
done
if [ "$up" != true ]; then
  echo "the mock did not answer /_mock/health within 10 s; its log ($LOG):" >&2
  cat "$LOG" >&2
  exit 1
fi

# The admin of the built-in fixtures; tests/contract/hooks.py resets the state after a
# logout or a state replacement, so these keep working.
run() {
  SCHEMATHESIS_HOOKS=hooks PYTHONPATH=tests/contract "$VENV/bin/schemathesis" run \
    "$ROCKETCHAT_MOCK_URL/openapi.json" \
    --header "X-User-Id: rbAXPnMktTFbNpwtJ" \
    --header "X-Auth-Token: RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 --request-timeout 10 \
    --no-color "$@"
}

# Rocket.Chat's operations first, then the mock's control API, whose state replacements
# would otherwise interleave with them.
status=0
run --exclude-tag "Mock control" || status=$?
run --include-tag "Mock control" || status=$?
if grep -q "panicked" "$LOG"; then
  echo "the server panicked during the contract run:" >&2
  grep -A5 "panicked" "$LOG" >&2
  status=1
fi
exit $status
