#!/usr/bin/env bash
# Installs Rocket.Chat's validator for the differential test: AJV from the lock file, and the
# request schemas from the published @rocket.chat/rest-typings package. `npm install` of that
# package fails on a dependency spec, so it is fetched with `npm pack` and only read.
set -euo pipefail
cd "$(dirname "$0")"
REST_TYPINGS_VERSION=8.8.1
if [ ! -d node_modules/ajv ]; then
  npm ci --silent --no-audit --no-fund
fi
if [ ! -f rest-typings/omnichannel.js ] || [ ! -f rest-typings/UsersInfoParamsGet.js ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@rocket.chat/rest-typings@${REST_TYPINGS_VERSION}" >/dev/null && tar xzf ./*.tgz)
  mkdir -p rest-typings
  cp "$tmp/package/dist/v1/omnichannel.js" "$tmp/package/dist/v1/Ajv.js" \
    "$tmp/package/dist/v1/users/UsersInfoParamsGet.js" rest-typings/
  rm -rf "$tmp"
fi
