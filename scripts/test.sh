#!/usr/bin/env bash
# The whole test suite: unit tests (pure logic), workflow tests (real Temporal dev server), end-to-end tests
# (real lab hosts: needs root on Linux). Run scripts/setup.sh first on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit   # sources, tests and scripts
npx prettier --check --log-level warn .
shopt -s nullglob
suites=(test/unit/*.test.ts test/workflow/*.test.ts test/e2e/*.test.ts)
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${suites[@]}"
