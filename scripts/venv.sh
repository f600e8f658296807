#!/usr/bin/env bash
# Creates .venv with the brokers' official Python clients, which the tests use to cross-check our wire
# codecs and the simulator (kiteconnect's KiteTicker, dhanhq's market-feed parser), and openapi-spec-validator,
# which checks docs/openapi, and schemathesis, which tests the running services against those specs.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=.venv/.installed-v4
if [ -f "$stamp" ]; then exit 0; fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
touch "$stamp"
