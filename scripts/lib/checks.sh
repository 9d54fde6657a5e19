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
# Coverage of the integration only (not the tests, simulators or add-on), so the overhead
# stays small; the data file lives with the other artifacts.
export COVERAGE_FILE=test-artifacts/.coverage
rm -f "$COVERAGE_FILE"
pytest -p no:cacheprovider --junitxml=test-artifacts/junit.xml \
  --cov=custom_components/ev_charging_monitor --cov-report= "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
fi
[ "$rc" -eq 0 ] || status=1

step "coverage"
if [ -f "$COVERAGE_FILE" ]; then
  # Per module, least covered first; the same table in test-artifacts/coverage.txt.
  python -m coverage report --precision=1 --sort=cover | tee test-artifacts/coverage.txt
  total=$(python -m coverage report --precision=1 --format=total)
  echo "coverage: integration=${total}%" | tee -a test-artifacts/coverage.txt
else
  echo "coverage: no data (pytest did not run)"
fi

if [ "$status" -ne 0 ]; then
  echo; echo "FAILED: see the output above"
fi
exit "$status"
