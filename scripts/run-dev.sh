#!/usr/bin/env bash
# Starts the webhook server and the dashboard together; Ctrl-C stops both.
set -u
cd "$(dirname "$0")/.."
PORT="${PORT:-5001}"
DASHBOARD_PORT="${DASHBOARD_PORT:-8501}"

.venv/bin/python -m webhook_server &
webhook=$!
.venv/bin/streamlit run dashboard/app.py --server.port "$DASHBOARD_PORT" &
dashboard=$!

stop() {
  trap - INT TERM EXIT
  kill "$webhook" "$dashboard" 2>/dev/null
  wait "$webhook" "$dashboard" 2>/dev/null
  echo "stopped webhook server and dashboard"
  exit 0
}
trap stop INT TERM EXIT
echo "webhook server: http://127.0.0.1:${PORT}/healthz   dashboard: http://localhost:${DASHBOARD_PORT}"
# Exit as soon as either process exits, taking the other one down with it.
wait -n "$webhook" "$dashboard"
