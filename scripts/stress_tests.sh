#!/usr/bin/env bash
# issue 17, must show: the test suite is green three times in a row while another CPU-bound
# process competes for the cores. Usage:
#   scripts/stress_tests.sh [PYTEST ARGS...]        (default: tests/)
#   RUNS=3 BURNERS=1 scripts/stress_tests.sh tests/deploy
# BURNERS busy-loop processes (default: 1) run for the whole time and are stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
RUNS=${RUNS:-3}
BURNERS=${BURNERS:-1}
if [ "$#" -eq 0 ]; then set -- tests; fi

burners=()
stop_burners() {
  for pid in "${burners[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_burners EXIT
for _ in $(seq 1 "$BURNERS"); do
  "$PY" -c "while True: pass" &
  burners+=("$!")
done

for run in $(seq 1 "$RUNS"); do
  echo "== run $run/$RUNS with $BURNERS CPU-bound process(es) beside it: pytest $*"
  if ! "$PY" -m pytest "$@" -q -p no:cacheprovider; then
    echo "✘ run $run/$RUNS failed under load"
    exit 1
  fi
done
echo "✔ green $RUNS times in a row under load"
