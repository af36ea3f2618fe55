#!/usr/bin/env bash
# The README's example command as a new user runs it: a fresh clone, a clean venv, then the
# example's documented curls against the running `wranglerpy dev`. CI runs this (.ci/run).
#   scripts/readme_smoke.sh [REPO]      REPO defaults to this checkout
set -euo pipefail
repo="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
work="$(mktemp -d)"
log="$work/dev.log"
dev_pid=""

stop_dev() {
  if [ -n "$dev_pid" ] && kill -0 "$dev_pid" 2>/dev/null; then
    kill -TERM -- "-$dev_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$dev_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop_dev EXIT

git clone -q "$repo" "$work/wranglerpy"
cd "$work/wranglerpy"

# The first ```bash block after "## The two commands" is the example command.
command="$(awk '/^## The two commands/{f=1} f&&/^```bash/{getline; print; exit}' README.md)"
[ -n "$command" ] || { echo "readme_smoke: no example command found in README.md" >&2; exit 1; }
echo "readme_smoke: running: $command"
setsid bash -c "$command" >"$log" 2>&1 &
dev_pid=$!

ready=""
for _ in $(seq 1 600); do
  if grep -q "Ready in" "$log"; then ready=1; break; fi
  kill -0 "$dev_pid" 2>/dev/null || break
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "readme_smoke: wranglerpy dev did not become ready; its output:" >&2
  cat "$log" >&2
  exit 1
fi

fail() { echo "readme_smoke: $1" >&2; cat "$log" >&2; exit 1; }
curl -fsS http://localhost:8787/health | grep -q '"healthy"' || fail "API /health failed"
curl -fsS http://localhost:8788/health | grep -q '"healthy"' || fail "streaming /health failed"
answer="$(curl -fsS -X POST http://localhost:8787/stream/chat \
  -H "Content-Type: application/json" \
  -d '{"messages": [{"role": "user", "parts": [{"type": "text", "text": "Hello!"}]}]}')" \
  || fail "POST /stream/chat failed"
for event in message-start message-part message-end; do
  grep -q "\"type\":\"$event\"" <<<"$answer" || fail "the chat stream has no $event event: $answer"
done
echo "readme_smoke: the example served the documented curls"
