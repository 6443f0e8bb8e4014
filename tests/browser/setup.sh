#!/usr/bin/env bash
# Installs what the browser test needs: Debian's Chromium (playwright-core drives it by path and
# never downloads a browser of its own) and playwright-core from the lock file.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v "${CHROMIUM_PATH:-/usr/bin/chromium}" >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -d node_modules/playwright-core ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund
fi
