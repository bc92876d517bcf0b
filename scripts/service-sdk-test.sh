#!/usr/bin/env bash
# The official Azure SDK for Python, unchanged, against MediaCore's local service over TLS, and
# coturn (--use-auth-secret) accepting the relay credentials the service issues.
#
#   apt:  python3-venv, coturn                (installed as root or via sudo when missing)
#   pip:  azure-communication-identity 1.5.0, azure-communication-networktraversal 1.1.0b2,
#         azure-communication-chat 1.3.0, azure-communication-sms 1.1.0,
#         azure-communication-email 1.1.0, azure-eventgrid 4.22.1, azure-communication-callautomation
#         1.6.0, aiosmtpd (the SMTP sink) in .venv-sdk
#
# A service-principal TokenCredential (HS256 under a configured issuer key) is checked too.
#
# Steps: build and start mediacore-service on 127.0.0.1 (HTTPS on a free port, fresh data dir),
# trust its generated CA through REQUESTS_CA_BUNDLE/SSL_CERT_FILE, run scripts/service_sdk_test.py
# with the printed connection string, then allocate on a local coturn with the issued
# username/credential (and check that a wrong credential is refused), then run
# service/sdk-tests/chat_sdk_test.py (ChatClient/ChatThreadClient and the real-time stream with
# user tokens from the identity SDK) and service/sdk-tests/sms_sdk_test.py (SmsClient.send, with
# delivery reports and SMSReceived read from the service's outbox) and
# service/sdk-tests/email_sdk_test.py (EmailClient.begin_send into a real aiosmtpd sink the script
# starts, service/sdk-tests/smtp_sink.py; then, with the sink stopped, a send that must end
# Failed) and service/sdk-tests/events_sdk_test.py (webhook subscriptions over the admin routes,
# both handshakes, chat and SMS events parsed with azure-eventgrid's EventGridEvent/CloudEvent)
# and service/sdk-tests/calling_sdk_test.py (CallAutomationClient with a MediaCore engine as the
# callee, callbacks at a local receiver).
# Every piece is required:
# a missing one is an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV="$ROOT/.venv-sdk"
PIP_PACKAGES=(azure-communication-identity==1.5.0 azure-communication-networktraversal==1.1.0b2
  azure-communication-chat==1.3.0 azure-communication-sms==1.1.0 azure-communication-email==1.1.0
  azure-eventgrid==4.22.1 azure-communication-callautomation==1.6.0 aiosmtpd==1.4.6)

say() { printf 'service-sdk: %s\n' "$*" >&2; }
die() { say "FAILED: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@" || die "needs root for: $* (run as root or allow sudo)"
  else
    die "needs root for: $* (run as root or install sudo)"
  fi
}

missing=()
for p in python3-venv coturn; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for tool in turnserver turnutils_uclient python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found after install"
done

sdk_versions() {
  "$VENV/bin/python" - 2>/dev/null <<'PY'
import azure.communication.networktraversal
from azure.communication.identity import _version as identity
from azure.communication.chat import _version as chat
from azure.communication.sms import _version as sms
from azure.communication.email import _version as email
from azure.eventgrid import _version as eventgrid
import aiosmtpd
print(identity.VERSION, chat.VERSION, sms.VERSION, email.VERSION, eventgrid.VERSION, aiosmtpd.__version__)
PY
}
if [ "$(sdk_versions)" != "1.5.0 1.3.0 1.1.0 1.1.0 4.22.1 1.4.6" ]; then
  say "creating $VENV with ${PIP_PACKAGES[*]}"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}" || die "pip install"
fi

say "building mediacore-service"
cargo build --quiet -p mediacore-service
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/mediacore-service"
[ -x "$BIN" ] || die "no binary at $BIN"

WORK=$(mktemp -d)
SERVICE_PID=""
TURN_PID=""
SINK_PID=""
cleanup() {
  local rc=$?
  for pid in $SERVICE_PID $TURN_PID $SINK_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

# A port free for both UDP and TCP on 127.0.0.1, for coturn.
TURN_PORT=$(python3 - <<'PY'
import socket
for _ in range(100):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
PY
)
[ -n "$TURN_PORT" ] || die "no free port for coturn"
SECRET="sdk-test-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
# The service principal's issuer and key (the local stand-in for Entra ID), shared with the SDK test.
export MEDIACORE_SERVICE_ENTRA_ISSUER="https://login.mediacore.test/sdk-test/v2.0"
MEDIACORE_SERVICE_ENTRA_KEY="$(python3 -c 'import base64, secrets; print(base64.b64encode(secrets.token_bytes(32)).decode())')"
export MEDIACORE_SERVICE_ENTRA_KEY

turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$TURN_PORT" \
  --min-port=49300 --max-port=49399 --use-auth-secret --static-auth-secret="$SECRET" \
  --realm=mediacore.test --no-tls --no-dtls --no-cli --allow-loopback-peers \
  --log-file=stdout --simple-log --pidfile="$WORK/turnserver.pid" >"$WORK/turn.log" 2>&1 &
TURN_PID=$!

# The SMTP relay the service delivers email to: a real SMTP server (aiosmtpd) keeping each
# message in $WORK/sink.
SMTP_PORT=$(python3 scripts/free-port.py)
[ -n "$SMTP_PORT" ] || die "no free port for the SMTP sink"
"$VENV/bin/python" service/sdk-tests/smtp_sink.py "$SMTP_PORT" "$WORK/sink" >"$WORK/sink.out" 2>"$WORK/sink.err" &
SINK_PID=$!
for _ in $(seq 1 100); do
  grep -q '^ready$' "$WORK/sink.out" 2>/dev/null && break
  kill -0 "$SINK_PID" 2>/dev/null || { cat "$WORK/sink.err" >&2; die "SMTP sink exited at start"; }
  sleep 0.1
done
grep -q '^ready$' "$WORK/sink.out" || { cat "$WORK/sink.err" >&2; die "SMTP sink not ready in 10 s"; }

MEDIACORE_SERVICE_DATA_DIR="$WORK/data" \
MEDIACORE_SERVICE_EMAIL_RELAY_HOST=127.0.0.1 \
MEDIACORE_SERVICE_EMAIL_RELAY_PORT="$SMTP_PORT" \
MEDIACORE_SERVICE_LISTEN_ADDRESS=127.0.0.1 \
MEDIACORE_SERVICE_HTTPS_PORT=0 \
MEDIACORE_SERVICE_RELAY_SHARED_SECRET="$SECRET" \
MEDIACORE_SERVICE_RELAY_URLS="stun:127.0.0.1:$TURN_PORT,turn:127.0.0.1:$TURN_PORT?transport=udp,turn:127.0.0.1:$TURN_PORT?transport=tcp" \
  "$BIN" >"$WORK/service.out" 2>"$WORK/service.err" &
SERVICE_PID=$!

for _ in $(seq 1 300); do
  grep -q '^ready$' "$WORK/service.out" 2>/dev/null && break
  kill -0 "$SERVICE_PID" 2>/dev/null || { cat "$WORK/service.err" >&2; die "service exited at start"; }
  sleep 0.1
done
grep -q '^ready$' "$WORK/service.out" || { cat "$WORK/service.err" >&2; die "service not ready in 30 s"; }
CONN=$(sed -n 's/^connection string: //p' "$WORK/service.out")
CA=$(sed -n 's/^CA certificate: //p' "$WORK/service.out")
[ -n "$CONN" ] && [ -f "$CA" ] || die "no connection string or CA in the service output"
say "service at $(sed -n 's/^endpoint: //p' "$WORK/service.out"), CA $CA"

REQUESTS_CA_BUNDLE="$CA" SSL_CERT_FILE="$CA" \
  "$VENV/bin/python" scripts/service_sdk_test.py "$CONN" "$WORK/relay.json" \
  || { tail -20 "$WORK/service.err" >&2; die "SDK calls"; }

kill -0 "$TURN_PID" 2>/dev/null || { cat "$WORK/turn.log" >&2; die "coturn did not start"; }
TURN_USER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["username"])' "$WORK/relay.json")
TURN_PASS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credential"])' "$WORK/relay.json")
# Client-to-client through two relayed allocations: allocation, permissions and data all need
# the credentials to be right.
if ! turnutils_uclient -p "$TURN_PORT" -u "$TURN_USER" -w "$TURN_PASS" -e 127.0.0.1 -n 5 -m 1 -c -y \
     127.0.0.1 >"$WORK/uclient.log" 2>&1; then
  cat "$WORK/uclient.log" "$WORK/turn.log" >&2
  die "coturn refused the relay credentials"
fi
grep -q 'tot_recv_msgs=[1-9]' "$WORK/uclient.log" || { cat "$WORK/uclient.log" >&2; die "no data relayed"; }
if turnutils_uclient -p "$TURN_PORT" -u "$TURN_USER" -w "wrong$TURN_PASS" -e 127.0.0.1 -n 1 -m 1 -c -y \
     127.0.0.1 >"$WORK/uclient-bad.log" 2>&1; then
  die "coturn accepted a wrong credential: the check proves nothing"
fi
say "coturn: allocation with the issued credentials relayed data; a wrong credential was refused"

REQUESTS_CA_BUNDLE="$CA" SSL_CERT_FILE="$CA" \
  "$VENV/bin/python" service/sdk-tests/chat_sdk_test.py "$CONN" \
  || { tail -20 "$WORK/service.err" >&2; die "chat SDK calls"; }

REQUESTS_CA_BUNDLE="$CA" SSL_CERT_FILE="$CA" \
  "$VENV/bin/python" service/sdk-tests/sms_sdk_test.py "$CONN" "$WORK/data/service.db" \
  || { tail -20 "$WORK/service.err" >&2; die "SMS SDK calls"; }
REQUESTS_CA_BUNDLE="$CA" SSL_CERT_FILE="$CA" \
  "$VENV/bin/python" service/sdk-tests/events_sdk_test.py "$CONN" \
  || { tail -20 "$WORK/service.err" >&2; die "Event Grid webhook delivery (azure-eventgrid)"; }
REQUESTS_CA_BUNDLE="$CA" SSL_CERT_FILE="$CA" \
  "$VENV/bin/python" service/sdk-tests/calling_sdk_test.py "$CONN" \
  || { tail -20 "$WORK/service.err" >&2; die "Call Automation SDK calls"; }
REQUESTS_CA_BUNDLE="$CA" SSL_CERT_FILE="$CA" \
  "$VENV/bin/python" service/sdk-tests/email_sdk_test.py deliver "$CONN" "$WORK/data/service.db" "$WORK/sink" \
  || { tail -20 "$WORK/service.err" >&2; cat "$WORK/sink.err" >&2; die "email SDK calls"; }
# The relay goes away: the next send must end as a Failed operation.
kill "$SINK_PID"
wait "$SINK_PID" 2>/dev/null || true
SINK_PID=""
REQUESTS_CA_BUNDLE="$CA" SSL_CERT_FILE="$CA" \
  "$VENV/bin/python" service/sdk-tests/email_sdk_test.py relay-down "$CONN" "$WORK/data/service.db" \
  || { tail -20 "$WORK/service.err" >&2; die "email SDK calls with the relay down"; }
echo "service-sdk: all checks passed"
