#!/usr/bin/env bash
# `make run`: two MediaCore engines in a WebRTC call over real UDP sockets on loopback
# (ICE, DTLS-SRTP, Opus; statistics each second, PESQ of what each side heard); then the local
# ACS-compatible service with MediaCore's REST adapters: users and tokens, a chat with a
# real-time notification, an SMS, an email into a real SMTP sink, every Event Grid event
# printed by a webhook, and a second call placed through the service's signaling, relay-only
# through a coturn that accepts the service's relay credentials.
# `make run DEMO=sim CONDITION=wifi|cellular|congested|clean` runs the network-simulator demo.
# scripts/bootstrap.sh (run first by make) installs coturn, the speech samples and the venv
# (PESQ, the aiosmtpd SMTP sink).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${DEMO:-udp}" = "sim" ]; then
  exec cargo run --quiet --release -p mediacore-examples --bin call-demo -- "${CONDITION:-wifi}"
fi

cargo build --quiet --release -p mediacore-examples --bin udp-call --bin platform-demo \
  -p mediacore-service --bin mediacore-service
TARGET="${CARGO_TARGET_DIR:-target}/release"
echo "== 1/2: a direct call over UDP"
"$TARGET/udp-call" target/udp-call/direct

command -v turnserver >/dev/null || { echo "coturn is missing: run scripts/bootstrap.sh" >&2; exit 1; }
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
# Waits for a line "$2" in file $1 written by process $3 (named $4).
wait_for() {
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { cat "$1" "$1.err" 2>/dev/null >&2; echo "$4 exited at start" >&2; exit 1; }
    sleep 0.1
  done
  echo "$4 not ready in 30 s" >&2; exit 1
}

TURN_PORT=$(python3 scripts/free-port.py)
SECRET="demo-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
# --allow-loopback-peers: both engines' relayed addresses are on 127.0.0.1.
turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$TURN_PORT" \
  --min-port=49500 --max-port=49599 --use-auth-secret --static-auth-secret="$SECRET" \
  --realm=mediacore.demo --no-tls --no-dtls --no-cli --allow-loopback-peers \
  --log-file=stdout --simple-log >"$WORK/turn.log" 2>&1 &
PIDS+=($!)

# The SMTP relay the service delivers email to: a real SMTP server (aiosmtpd) keeping each
# message as a file.
SMTP_PORT=$(python3 scripts/free-port.py)
.venv/bin/python service/sdk-tests/smtp_sink.py "$SMTP_PORT" "$WORK/sink" >"$WORK/sink.out" 2>"$WORK/sink.out.err" &
PIDS+=($!)
wait_for "$WORK/sink.out" '^ready$' "$!" "the SMTP sink"

# The webhook every event of the resource is delivered to; it prints each as it arrives.
HOOK_PORT=$(python3 scripts/free-port.py)
touch "$WORK/events.jsonl"
python3 scripts/demo_webhook.py "$HOOK_PORT" "$WORK/events.jsonl" &
HOOK_PID=$!
PIDS+=($HOOK_PID)
wait_for "$WORK/events.jsonl.status" '^ready$' "$HOOK_PID" "the webhook receiver"

cat >"$WORK/service.toml" <<TOML
data_dir = "$WORK/data"
listen_address = "127.0.0.1"
https_port = 0
[relay]
urls = ["stun:127.0.0.1:$TURN_PORT", "turn:127.0.0.1:$TURN_PORT?transport=udp"]
shared_secret = "$SECRET"
[sms]
numbers = ["+18005550100", "+18005550101"]
[email]
relay_host = "127.0.0.1"
relay_port = $SMTP_PORT
[events]
retry_base_ms = 500
[[events.subscriptions]]
name = "demo-webhook"
endpoint_url = "http://127.0.0.1:$HOOK_PORT/"
schema = "EventGridSchema"
max_events_per_batch = 10
TOML
"$TARGET/mediacore-service" --config "$WORK/service.toml" >"$WORK/service.out" 2>"$WORK/service.out.err" &
SERVICE_PID=$!
PIDS+=($SERVICE_PID)
wait_for "$WORK/service.out" '^ready$' "$SERVICE_PID" "mediacore-service"
CONN=$(sed -n 's/^connection string: //p' "$WORK/service.out")
CA=$(sed -n 's/^CA certificate: //p' "$WORK/service.out")
wait_for "$WORK/events.jsonl.status" '^validated$' "$HOOK_PID" "the webhook handshake"

echo
echo "== 2/2: the local service ($(sed -n 's/^endpoint: //p' "$WORK/service.out")), coturn on 127.0.0.1:$TURN_PORT, SMTP sink on :$SMTP_PORT, webhook on :$HOOK_PORT"
"$TARGET/platform-demo" "$CONN" "$CA" "$WORK/sink" target/udp-call/signaled

# Events are delivered after their commit; give the last ones (the call's end) a moment.
for _ in $(seq 1 50); do
  grep -q 'CallEnded' "$WORK/events.jsonl" 2>/dev/null && break
  sleep 0.1
done
echo
echo "webhook: $(wc -l <"$WORK/events.jsonl") events received:"
python3 - "$WORK/events.jsonl" <<'PY'
import collections, json, sys
kinds = collections.Counter(json.loads(l)["eventType"].rsplit(".", 1)[-1] for l in open(sys.argv[1]))
for kind, n in sorted(kinds.items()):
    print(f"  {n:3d} {kind}")
PY
