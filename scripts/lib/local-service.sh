# Sourced by scripts that need MediaCore's local service (scripts/c-examples.sh,
# scripts/jni-example.sh): `start_local_service` builds and starts it on 127.0.0.1 (a free
# HTTPS port, a fresh data dir, relay URLs on loopback), waits until it prints "ready" and
# sets $connection (its connection string), $ca (its CA file) and $service_log (its stderr,
# for failure reports). An EXIT trap stops it and removes its data.
service_pid=""
service_work=""
stop_local_service() {
  [ -z "$service_pid" ] || { kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; }
  [ -z "$service_work" ] || rm -rf "$service_work"
}

start_local_service() {
  cargo build --quiet -p mediacore-service
  local bin=${CARGO_TARGET_DIR:-target}/debug/mediacore-service
  service_work=$(mktemp -d)
  service_log=$service_work/service.err
  trap stop_local_service EXIT
  MEDIACORE_SERVICE_DATA_DIR="$service_work/data" \
  MEDIACORE_SERVICE_LISTEN_ADDRESS=127.0.0.1 \
  MEDIACORE_SERVICE_HTTPS_PORT=0 \
  MEDIACORE_SERVICE_RELAY_URLS="stun:127.0.0.1:3478,turn:127.0.0.1:3478?transport=udp" \
    "$bin" >"$service_work/service.out" 2>"$service_log" &
  service_pid=$!
  for _ in $(seq 1 300); do
    grep -q '^ready$' "$service_work/service.out" 2>/dev/null && break
    kill -0 "$service_pid" 2>/dev/null || { cat "$service_log" >&2; echo "FAIL: the service exited at start" >&2; exit 1; }
    sleep 0.1
  done
  grep -q '^ready$' "$service_work/service.out" \
    || { cat "$service_log" >&2; echo "FAIL: the service is not ready in 30 s" >&2; exit 1; }
  connection=$(sed -n 's/^connection string: //p' "$service_work/service.out")
  ca=$(sed -n 's/^CA certificate: //p' "$service_work/service.out")
  [ -n "$connection" ] && [ -f "$ca" ] \
    || { echo "FAIL: no connection string or CA from the service" >&2; exit 1; }
}
