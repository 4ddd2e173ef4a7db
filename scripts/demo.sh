#!/usr/bin/env bash
# The one-command demo behind `make run`: the Kinesis stand-in, the contact-center
# simulator writing agent events, contact events and contact records in real time to three
# streams, the collector reading them, and a live wallboard of its agent and queue
# metrics. Ctrl-C stops all of it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Before anything else (the state below belongs to a demo that may still be running): a
# port an earlier demo still holds stops here, named with what holds it.
./scripts/demo-ports.sh

STREAM=${CONNECT_STREAM_NAME:-connect-agent-events}
EVENTS_STREAM=${CONNECT_CONTACT_EVENTS_STREAM_NAME:-connect-contact-events}
CTR_STREAM=${CONNECT_CONTACT_RECORDS_STREAM_NAME:-connect-contact-records}
PORT=${KINESIS_PORT:-4568}
STATE=.tmp/demo
mkdir -p "$STATE"

# The stand-in accepts any credentials; these keep the AWS SDK from looking elsewhere.
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export KINESIS_ENDPOINT="http://127.0.0.1:$PORT" CONNECT_STREAM_NAME="$STREAM" DEMO_STATE_DIR="$STATE/state"
export CONNECT_CONTACT_EVENTS_STREAM_NAME="$EVENTS_STREAM" CONNECT_CONTACT_RECORDS_STREAM_NAME="$CTR_STREAM"
# The demo starts from an empty stream, so it also starts without old checkpoints.
rm -rf "$STATE/state"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "Stopping the demo..."
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  sleep 2
  # kinesis-local may ignore SIGTERM once it has served traffic.
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
  exit 0
}
trap cleanup INT TERM EXIT

# Each part runs in its own process group, so stopping it stops its children too.
start() { setsid "$@" & pids+=($!); }

echo "Starting kinesis-local on port $PORT with streams $STREAM, $EVENTS_STREAM and $CTR_STREAM (logs: $STATE/kinesis-local.log)..."
KINESIS_MOCK_CERT_PATH="$PWD/node_modules/kinesis-local/server.json" KINESIS_MOCK_PLAIN_PORT=$PORT \
  KINESIS_MOCK_TLS_PORT=$((PORT - 1)) INITIALIZE_STREAMS="$STREAM:2,$EVENTS_STREAM:2,$CTR_STREAM:1" LOG_LEVEL=WARN \
  start bash -c 'cd "$1" && exec node "$2"' _ "$STATE" "$PWD/node_modules/kinesis-local/main.js" > "$STATE/kinesis-local.log" 2>&1
for _ in $(seq 1 120); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT" && break
  sleep 0.5
done
curl -s -o /dev/null "http://127.0.0.1:$PORT" || { echo "kinesis-local did not start; see $STATE/kinesis-local.log"; exit 1; }
sleep 1 # the stream becomes active shortly after the port opens

echo "Building the simulator and the wallboard..."
go build -o "$STATE/connectsim" ./cmd/connectsim
go build -o "$STATE/connectwatch" ./cmd/connectwatch

# Busy enough (9 contacts an agent-hour, about 80% of the agents' time) that queues form.
echo "Starting the simulator: ${AGENTS:-50} agents in real time (logs: $STATE/simulator.log)..."
start "$STATE/connectsim" -output kinesis -endpoint "$KINESIS_ENDPOINT" -stream "$STREAM" \
  -contact-events-stream "$EVENTS_STREAM" -contact-records-stream "$CTR_STREAM" \
  -agents "${AGENTS:-50}" -speed "${SPEED:-1}" -shift-stagger "${SHIFT_STAGGER:-1m}" \
  -contacts-per-hour "${CONTACTS_PER_HOUR:-9}" > "$STATE/simulator.log" 2>&1

echo "Starting the collector with config/demo.yaml (its debug output: $STATE/collector.log)..."
start ./_build/otelcol-amazonconnect --config config/demo.yaml --feature-gates=+extension.healthcheck.useComponentStatus > "$STATE/collector.log" 2>&1
collector=${pids[-1]}

# The wallboard in the foreground; the gauges come every 5 s once agents log in.
"$STATE/connectwatch" -url http://127.0.0.1:9464/metrics -tail "$STATE/collector.log" -lines "${LOG_LINES:-6}" &
pids+=($!)
wait "$collector"
