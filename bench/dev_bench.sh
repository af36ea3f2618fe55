#!/usr/bin/env bash
# Benchmark `wranglerpy dev` on the peer benchmark's two-worker work, with the peer's own
# measuring tools (../shared/bench/peer-wrangler), then print it beside wrangler 4.86's figures.
#
#   bash bench/dev_bench.sh                 # modes multi and split, ~6 minutes
#   QUICK=1 bash bench/dev_bench.sh         # a 1-minute smoke run
#   MODES=multi bash bench/dev_bench.sh
#   PEER_RUN=1 bash bench/dev_bench.sh      # the real `wrangler dev` measured in the same run:
#                                           # per mode wranglerpy, then wrangler
#   API_PORT=8787 STREAM_PORT=8788 bash bench/dev_bench.sh   # fixed ports (as the peer's run.sh)
#   WPY=/old/wranglerpy PROJECT_SRC=/old/bench/peer bash bench/dev_bench.sh   # another build
#
# Loopback only; every load loop is bounded; servers are stopped by their process group.
# The ports are free ones picked at start and the run folder is a new one (RUN_DIR= to set
# it), so two runs at once do not collide. Without PEER_RUN the peer's figures come from its
# saved summary (a run of another day); with PEER_RUN=1 wrangler (WRANGLER_SPEC, default
# wrangler@4.86.0, installed by npm into NODE_DIR if missing) runs the same steps with the same
# tools between wranglerpy's, so both see the same machine load. The load average is recorded
# at the start and end of every mode (loadavg.txt) and printed with the tables.
# QUIET_WAIT=S bounds the wait for a quiet CPU before each mode (default 120 s).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEER=${PEER:-$ROOT/../shared/bench/peer-wrangler}
[ -d "$PEER" ] || { echo "peer harness not found at $PEER (set PEER=...)" >&2; exit 2; }
PY=${PY:-$ROOT/.venv/bin/python}
WPY=${WPY:-$ROOT/.venv/bin/wranglerpy}
PROJECT_SRC=${PROJECT_SRC:-$ROOT/bench/peer}
RUN_DIR=${RUN_DIR:-$(mktemp -d /tmp/wranglerpy-bench.XXXXXX)}
RES=$RUN_DIR/results
MODES=${MODES:-"multi split"}
PEER_RUN=${PEER_RUN:-0} QUIET_WAIT=${QUIET_WAIT:-120}
NODE_DIR=${NODE_DIR:-/tmp/peer-wrangler-node}
WRANGLER_SPEC=${WRANGLER_SPEC:-wrangler@4.86.0}
WRANGLER_BIN=${WRANGLER_BIN:-$NODE_DIR/node_modules/.bin/wrangler}
if [ "${QUICK:-0}" = 1 ]; then COLD=2 LAT_N=300 LAT_RUNS=1 WRK_D=3s WRK_RUNS=1 SSE_RUNS=3 RELOADS=2
else COLD=5 LAT_N=2000 LAT_RUNS=3 WRK_D=10s WRK_RUNS=3 SSE_RUNS=10 RELOADS=5; fi
free_ports() {  # N distinct free loopback ports, held together while the kernel picks them
  "$PY" -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
' "$1"
}
if [ -z "${API_PORT:-}" ] || [ -z "${STREAM_PORT:-}" ]; then
  read -r API_PORT STREAM_PORT < <(free_ports 2) || { echo "could not pick free ports" >&2; exit 2; }
fi
API=http://127.0.0.1:$API_PORT ST=http://127.0.0.1:$STREAM_PORT
export WRANGLERPY_REGISTRY_PATH=$RUN_DIR/registry NO_COLOR=1
# wrangler: no telemetry, no error reports, no cf.json fetch, no banner (its npm update check).
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_HIDE_BANNER=true WRANGLER_REGISTRY_PATH=$RUN_DIR/wrangler-registry
export WRANGLER_LOG_PATH=$RUN_DIR/wrangler-logs FORCE_COLOR=0
log() { printf '\n== %s\n' "$*" >&2; }

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
  || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
IMPLS=(wranglerpy)
if [ "$PEER_RUN" = 1 ]; then
  IMPLS+=(wrangler)
  if [ ! -x "$WRANGLER_BIN" ]; then
    log "installing $WRANGLER_SPEC into $NODE_DIR (npm)"
    mkdir -p "$NODE_DIR"
    (cd "$NODE_DIR" && { [ -f package.json ] || npm init -y >/dev/null; } \
      && npm install --no-audit --no-fund "$WRANGLER_SPEC" >&2) || { echo "npm install failed" >&2; exit 2; }
  fi
fi

# One project + state folder per implementation: wranglerpy runs bench/peer (Python workers),
# wrangler the peer's JS workers. The streaming worker's [dev] port is set to STREAM_PORT, so
# in multi mode it binds a free port (not 8788) in both.
prepare() {
  local impl=$1 src bin
  case $impl in wranglerpy) src=$PROJECT_SRC bin=$WPY ;; wrangler) src=$PEER bin=$WRANGLER_BIN ;; esac
  local proj=$RUN_DIR/$impl/proj state=$RUN_DIR/$impl/state
  rm -rf "$RUN_DIR/$impl"; mkdir -p "$proj" "$state"
  cp -r "$src/workers" "$src/wrangler.toml" "$src/wrangler-streaming.toml" "$proj/"
  sed -i "s/^port = 8788$/port = $STREAM_PORT/" "$proj/wrangler-streaming.toml"
  (cd "$proj" && timeout 120 "$bin" kv key put --local --persist-to "$state" -c wrangler-streaming.toml \
    --binding KV bench "hello-from-kv" >"$RUN_DIR/$impl/seed.log" 2>&1) \
    || { cat "$RUN_DIR/$impl/seed.log" >&2; echo "$impl: KV seed failed" >&2; exit 2; }
}

PIDS=()
stop_all() {
  local p; for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$p" 2>/dev/null; done
  PIDS=()
}
trap stop_all EXIT

run_mode() {
  local impl=$1 mode=$2 cmds=() urls=()
  local out=$RES/$impl-$mode proj=$RUN_DIR/$impl/proj
  mkdir -p "$out"; cp "$RES/meta-$impl.json" "$out/meta.json"
  local common="--persist-to $RUN_DIR/$impl/state --ip 127.0.0.1" bin=$WPY reload_file=workers/streaming.py
  local insp=() api_extra="" st_extra=""
  if [ "$impl" = wrangler ]; then
    bin=$WRANGLER_BIN reload_file=workers/streaming.js
    read -r -a insp < <(free_ports 2)  # wrangler's inspector ports: free ones too, not 9229/9230
    api_extra="--inspector-port ${insp[0]}" st_extra="--inspector-port ${insp[1]}"
  fi
  case $mode in
    multi) cmds=(--cmd "$bin dev -c wrangler.toml -c wrangler-streaming.toml $common --port $API_PORT $api_extra")
           urls=(--url "$API/health" --url "$API/stream/health") ;;
    split) cmds=(--cmd "$bin dev -c wrangler-streaming.toml $common --port $STREAM_PORT $st_extra"
                 --cmd "$bin dev -c wrangler.toml $common --port $API_PORT $api_extra")
           urls=(--url "$API/health" --url "$ST/health" --url "$API/stream/health") ;;
  esac
  printf '%s\n' "${cmds[@]}" | grep -v '^--cmd$' > "$out/commands.txt"
  "$PY" "$PEER/monitor.py" --wait-quiet --self $$ --quiet-pct 20 --quiet-for 5 --max-wait "$QUIET_WAIT" >&2 || true
  date +%s.%N > "$out/window-start"
  echo "start $(cat /proc/loadavg)" > "$out/loadavg.txt"
  log "[$impl $mode] cold start x$COLD (load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$PY" "$PEER/coldstart.py" "${cmds[@]}" "${urls[@]}" --cwd "$proj" --runs "$COLD" --interval 0.02 \
      --timeout 90 --logdir "$RUN_DIR/logs/$impl-$mode" --keep "$out/pids" --json "$out/cold.json" \
    || { [ -s "$out/pids" ] && mapfile -t PIDS < "$out/pids"; stop_all; return 1; }
  mapfile -t PIDS < "$out/pids"
  local pidargs=() p; for p in "${PIDS[@]}"; do pidargs+=(--pid "$p"); done
  sleep 2
  "$PY" "$PEER/rss.py" "${pidargs[@]}" --once > "$out/rss-idle.json"
  "$PY" "$PEER/rss.py" "${pidargs[@]}" --out "$out/rss.json" --interval 0.2 --pss-every 5 --max-seconds 900 &
  local sampler=$!
  log "[$impl $mode] latency"
  "$PY" "$PEER/latency.py" "$API" /health /stream/health '/stream/kv?k=bench' /stream/d1 \
      -n "$LAT_N" --runs "$LAT_RUNS" --warmup 100 --max-seconds 120 --json "$out/latency-api.json"
  [ "$mode" = split ] && "$PY" "$PEER/latency.py" "$ST" /health '/kv?k=bench' /d1 \
      -n "$LAT_N" --runs "$LAT_RUNS" --warmup 100 --max-seconds 120 --json "$out/latency-streaming.json"
  log "[$impl $mode] throughput"
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
  log "[$impl $mode] SSE"
  "$PY" "$PEER/sse.py" "$API/stream/sse?n=200" --runs "$SSE_RUNS" --json "$out/sse.json"
  log "[$impl $mode] hot reload x$RELOADS"
  "$PY" "$PEER/hotreload.py" --file "$proj/$reload_file" --url "$API/stream/health" \
      --runs "$RELOADS" --interval 0.02 --settle 1.5 --timeout 60 --json "$out/reload.json"
  date +%s.%N > "$out/window-end"
  echo "end $(cat /proc/loadavg)" >> "$out/loadavg.txt"
  kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null
  stop_all
}

mkdir -p "$RES"
"$PY" - "$RES/meta-wranglerpy.json" "$WPY" <<'PYEOF'
import json, os, platform, subprocess, sys
version = subprocess.run([sys.argv[2], "--version"], capture_output=True, text=True).stdout.strip()
json.dump({"impl": "wranglerpy", "impl_version": version.split()[-1] if version else "?",
           "python": platform.python_version(), "cpus": os.cpu_count()}, open(sys.argv[1], "w"))
PYEOF
if [ "$PEER_RUN" = 1 ]; then
  "$PY" - "$RES/meta-wrangler.json" "$(timeout 60 "$WRANGLER_BIN" --version 2>/dev/null | tail -n1)" <<'PYEOF'
import json, os, platform, sys
json.dump({"impl": "wrangler", "impl_version": sys.argv[2] or "?", "python": platform.python_version(),
           "cpus": os.cpu_count()}, open(sys.argv[1], "w"))
PYEOF
fi
for impl in "${IMPLS[@]}"; do prepare "$impl"; done
for m in $MODES; do
  for impl in "${IMPLS[@]}"; do run_mode "$impl" "$m" || echo "!! $impl mode $m failed" >&2; done
done
summary() {  # summary IMPL: one summary json over that implementation's modes
  local impl=$1 dirs=() m
  for m in $MODES; do dirs+=("$RES/$impl-$m"); done
  "$PY" "$PEER/summarize.py" "${dirs[@]}" --md "$RES/summary-$impl.md" --json "$RES/summary-$impl.json" >/dev/null
}
summary wranglerpy
peer_summary=$PEER/results/wrangler-4.86.0.summary.json
if [ "$PEER_RUN" = 1 ]; then summary wrangler; peer_summary=$RES/summary-wrangler.json
else echo "(wrangler's figures: its saved summary $peer_summary, not this run; PEER_RUN=1 to run it)" >&2; fi
"$PY" "$ROOT/bench/compare.py" "$RES/summary-wranglerpy.json" "$peer_summary"
echo "load average per mode (1, 5, 15 min):" >&2
for f in "$RES"/*/loadavg.txt; do
  echo "  ${f#"$RES"/}: $(cut -d' ' -f1-4 "$f" | tr '\n' ' ')" >&2
done
echo "results: $RES (ports $API_PORT, $STREAM_PORT)" >&2
