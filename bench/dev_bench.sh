#!/usr/bin/env bash
# Benchmark `wranglerpy dev` on the peer benchmark's two-worker work, with the peer's own
# measuring tools (../shared/bench/peer-wrangler), then print it beside wrangler 4.86's figures.
#
#   bash bench/dev_bench.sh                 # modes multi and split, ~6 minutes
#   QUICK=1 bash bench/dev_bench.sh         # a 1-minute smoke run
#   MODES=multi bash bench/dev_bench.sh
#   API_PORT=8787 STREAM_PORT=8788 bash bench/dev_bench.sh   # fixed ports (as the peer's run.sh)
#
# Loopback only; every load loop is bounded; servers are stopped by their process group.
# The ports are free ones picked at start and the run folder is a new one (RUN_DIR= to set
# it), so two runs at once do not collide; the peer's figures come from its saved summary.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEER=${PEER:-$ROOT/../shared/bench/peer-wrangler}
[ -d "$PEER" ] || { echo "peer harness not found at $PEER (set PEER=...)" >&2; exit 2; }
PY=${PY:-$ROOT/.venv/bin/python}
WPY=${WPY:-$ROOT/.venv/bin/wranglerpy}
RUN_DIR=${RUN_DIR:-$(mktemp -d /tmp/wranglerpy-bench.XXXXXX)}
RES=$RUN_DIR/results; PROJ=$RUN_DIR/proj; STATE=$RUN_DIR/state
MODES=${MODES:-"multi split"}
if [ "${QUICK:-0}" = 1 ]; then COLD=2 LAT_N=300 LAT_RUNS=1 WRK_D=3s WRK_RUNS=1 SSE_RUNS=3 RELOADS=2
else COLD=5 LAT_N=2000 LAT_RUNS=3 WRK_D=10s WRK_RUNS=3 SSE_RUNS=10 RELOADS=5; fi
if [ -z "${API_PORT:-}" ] || [ -z "${STREAM_PORT:-}" ]; then
  # Two distinct free loopback ports, held together while the kernel picks them.
  read -r API_PORT STREAM_PORT < <("$PY" -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
') || { echo "could not pick free ports" >&2; exit 2; }
fi
API=http://127.0.0.1:$API_PORT ST=http://127.0.0.1:$STREAM_PORT
export WRANGLERPY_REGISTRY_PATH=$RUN_DIR/registry NO_COLOR=1
log() { printf '\n== %s\n' "$*" >&2; }

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
  || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }

rm -rf "$PROJ" "$STATE" "$RUN_DIR/registry" "$RES"/wranglerpy-*
mkdir -p "$PROJ" "$STATE" "$RES"
cp -r "$ROOT/bench/peer/workers" "$ROOT/bench/peer/wrangler.toml" "$ROOT/bench/peer/wrangler-streaming.toml" "$PROJ/"
(cd "$PROJ" && "$WPY" kv key put --local --persist-to "$STATE" -c wrangler-streaming.toml --binding KV bench "hello-from-kv") \
  || { echo "KV seed failed" >&2; exit 2; }

PIDS=()
stop_all() {
  local p; for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$p" 2>/dev/null; done
  PIDS=()
}
trap stop_all EXIT

run_mode() {
  local mode=$1 out=$RES/wranglerpy-$1 cmds=() urls=()
  mkdir -p "$out"; cp "$RES/meta.json" "$out/meta.json"
  local common="--persist-to $STATE --ip 127.0.0.1"
  case $mode in
    # multi: the streaming worker's own port (its [dev] port otherwise) is any free one.
    multi) cmds=(--cmd "$WPY dev -c wrangler.toml -c wrangler-streaming.toml $common --port $API_PORT --worker-port bench-streaming=0")
           urls=(--url "$API/health" --url "$API/stream/health") ;;
    split) cmds=(--cmd "$WPY dev -c wrangler-streaming.toml $common --port $STREAM_PORT"
                 --cmd "$WPY dev -c wrangler.toml $common --port $API_PORT")
           urls=(--url "$API/health" --url "$ST/health" --url "$API/stream/health") ;;
  esac
  printf '%s\n' "${cmds[@]}" | grep -v '^--cmd$' > "$out/commands.txt"
  "$PY" "$PEER/monitor.py" --wait-quiet --self $$ --quiet-pct 20 --quiet-for 5 --max-wait 120 >&2 || true
  date +%s.%N > "$out/window-start"
  log "[$mode] cold start x$COLD"
  "$PY" "$PEER/coldstart.py" "${cmds[@]}" "${urls[@]}" --cwd "$PROJ" --runs "$COLD" --interval 0.02 \
      --timeout 60 --logdir "$RUN_DIR/logs/$mode" --keep "$out/pids" --json "$out/cold.json" || return 1
  mapfile -t PIDS < "$out/pids"
  local pidargs=() p; for p in "${PIDS[@]}"; do pidargs+=(--pid "$p"); done
  sleep 2
  "$PY" "$PEER/rss.py" "${pidargs[@]}" --once > "$out/rss-idle.json"
  "$PY" "$PEER/rss.py" "${pidargs[@]}" --out "$out/rss.json" --interval 0.2 --pss-every 5 --max-seconds 900 &
  local sampler=$!
  log "[$mode] latency"
  "$PY" "$PEER/latency.py" "$API" /health /stream/health '/stream/kv?k=bench' /stream/d1 \
      -n "$LAT_N" --runs "$LAT_RUNS" --warmup 100 --max-seconds 120 --json "$out/latency-api.json"
  [ "$mode" = split ] && "$PY" "$PEER/latency.py" "$ST" /health '/kv?k=bench' /d1 \
      -n "$LAT_N" --runs "$LAT_RUNS" --warmup 100 --max-seconds 120 --json "$out/latency-streaming.json"
  log "[$mode] throughput"
  local path name i
  for path in /stream/health /health; do
    name=$(echo "$path" | tr -c 'a-z0-9\n' '_')
    timeout 30 wrk -t1 -c16 -d2s "$API$path" > "$out/wrk${name}-warmup.txt" 2>&1
    for i in $(seq 1 "$WRK_RUNS"); do
      "$PY" "$PEER/rss.py" "${pidargs[@]}" --once > "$out/wrk${name}-$i.cpu0.json"
      timeout 120 wrk -t1 -c16 -d"$WRK_D" --latency "$API$path" > "$out/wrk${name}-$i.txt" 2>&1
      "$PY" "$PEER/rss.py" "${pidargs[@]}" --once > "$out/wrk${name}-$i.cpu1.json"
      echo "  wrk $path: $(grep -E 'Requests/sec|Non-2xx|Socket errors' "$out/wrk${name}-$i.txt" | tr -s ' ' | tr '\n' ' ')" >&2
    done
  done
  log "[$mode] SSE"
  "$PY" "$PEER/sse.py" "$API/stream/sse?n=200" --runs "$SSE_RUNS" --json "$out/sse.json"
  log "[$mode] hot reload x$RELOADS"
  "$PY" "$PEER/hotreload.py" --file "$PROJ/workers/streaming.py" --url "$API/stream/health" \
      --runs "$RELOADS" --interval 0.02 --settle 1.5 --timeout 60 --json "$out/reload.json"
  date +%s.%N > "$out/window-end"
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
  stop_all
}

"$PY" - "$RES/meta.json" "$WPY" <<'PYEOF'
import json, os, platform, subprocess, sys
version = subprocess.run([sys.argv[2], "--version"], capture_output=True, text=True).stdout.strip()
json.dump({"impl": "wranglerpy", "impl_version": version.split()[-1] if version else "?",
           "python": platform.python_version(), "cpus": os.cpu_count()}, open(sys.argv[1], "w"))
PYEOF
for m in $MODES; do run_mode "$m" || echo "!! mode $m failed" >&2; done
dirs=(); for m in $MODES; do dirs+=("$RES/wranglerpy-$m"); done
"$PY" "$PEER/summarize.py" "${dirs[@]}" --md "$RES/summary-wranglerpy.md" --json "$RES/summary-wranglerpy.json" >/dev/null
"$PY" "$ROOT/bench/compare.py" "$RES/summary-wranglerpy.json" "$PEER/results/wrangler-4.86.0.summary.json"
echo "results: $RES (ports $API_PORT, $STREAM_PORT)" >&2
