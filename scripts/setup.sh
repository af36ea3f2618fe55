#!/usr/bin/env bash
# Creates .venv and installs wranglerpy (editable) with the AI, example, test and debug extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "wranglerpy setup: creating .venv with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
echo "wranglerpy setup: upgrading pip"
.venv/bin/python -m pip install -q --upgrade pip
echo "wranglerpy setup: installing wranglerpy with the ai, example, test and debug extras (about a minute the first time)"
.venv/bin/python -m pip install --progress-bar on -e '.[ai,example,test,debug]'
echo "wranglerpy setup: done. Activate it in this shell with: . .venv/bin/activate"
