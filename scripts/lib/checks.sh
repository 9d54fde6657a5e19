#!/usr/bin/env bash
# The checks behind scripts/test, run inside the provisioned toolchain.
set -uo pipefail
status=0
step() { echo; echo "== $*"; }

step "ruff"
ruff check . || status=1
ruff format --check . || status=1

step "mypy --strict"
targets=(custom_components simulators scripts/lib/demo.py scripts/lib/lock.py scripts/translations.py)
[ -d addon/app/ev_charging_ledger ] && targets+=(addon/app/ev_charging_ledger)
compgen -G "benchmarks/*.py" >/dev/null && targets+=(benchmarks)
mypy "${targets[@]}" || status=1

step "pytest"
mkdir -p test-artifacts
pytest -p no:cacheprovider --junitxml=test-artifacts/junit.xml "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
fi
[ "$rc" -eq 0 ] || status=1

if [ "$status" -ne 0 ]; then
  echo; echo "FAILED: see the output above"
fi
exit "$status"
