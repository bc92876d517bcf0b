#!/usr/bin/env bash
# `make run`: two MediaCore engines in a WebRTC call over real UDP sockets on loopback
# (ICE, DTLS-SRTP, Opus; statistics each second, PESQ of what each side heard), then the same
# call relay-only through a coturn started here with TURN REST credentials.
# `make run DEMO=sim CONDITION=wifi|cellular|congested|clean` runs the network-simulator demo.
# scripts/bootstrap.sh (run first by make) installs coturn, the speech samples and the PESQ venv.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${DEMO:-udp}" = "sim" ]; then
  exec cargo run --quiet --release -p mediacore-examples --bin call-demo -- "${CONDITION:-wifi}"
fi

cargo build --quiet --release -p mediacore-examples --bin udp-call
echo "== 1/2: direct call over UDP"
target/release/udp-call target/udp-call/direct

command -v turnserver >/dev/null || { echo "coturn is missing: run scripts/bootstrap.sh" >&2; exit 1; }
WORK=$(mktemp -d)
TURN_PID=""
cleanup() {
  local rc=$?
  [ -n "$TURN_PID" ] && { kill "$TURN_PID" 2>/dev/null || true; wait "$TURN_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
PORT=$(python3 scripts/free-port.py)
SECRET="demo-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
# --allow-loopback-peers: both engines' relayed addresses are on 127.0.0.1.
turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$PORT" \
  --min-port=49500 --max-port=49599 --use-auth-secret --static-auth-secret="$SECRET" \
  --realm=mediacore.demo --no-tls --no-dtls --no-cli --allow-loopback-peers \
  --log-file=stdout --simple-log >"$WORK/turn.log" 2>&1 &
TURN_PID=$!
sleep 0.5
kill -0 "$TURN_PID" 2>/dev/null || { cat "$WORK/turn.log" >&2; echo "coturn did not start" >&2; exit 1; }
# TURN REST credentials: username "expiry:user", password base64(HMAC-SHA1(secret, username)).
read -r USERNAME PASSWORD < <(python3 - "$SECRET" <<'PY'
import base64, hashlib, hmac, sys, time
user = f"{int(time.time()) + 3600}:demo"
key = hmac.new(sys.argv[1].encode(), user.encode(), hashlib.sha1).digest()
print(user, base64.b64encode(key).decode())
PY
)
echo
echo "== 2/2: the same call, relay-only through coturn on 127.0.0.1:$PORT"
target/release/udp-call target/udp-call/relayed --turn "turn:127.0.0.1:$PORT?transport=udp" "$USERNAME" "$PASSWORD"
