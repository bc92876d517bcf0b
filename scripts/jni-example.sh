#!/usr/bin/env bash
# Kotlin through JNI: builds the glue ffi/jni/mediacore_jni.c (-Wall -Wextra -Werror
# -pedantic) against libmediacore.so, compiles examples/kotlin with kotlinc (-Werror) and
# runs the example's whole story against the local service (scripts/lib/local-service.sh):
# a user with a token, a chat message seen as an event, then two calls over 127.0.0.1 with
# both connected, B receiving A's WAV and writing what it heard, the user deleted, and a
# stale handle thrown as MediaCoreException. scripts/bootstrap.sh installs kotlin, the JDK
# and the speech sample.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p mediacore-ffi
lib=$(realpath "${CARGO_TARGET_DIR:-target}/debug")
out=target/jni-example
speech=data/generated/speech-a-48k.wav
[ -f "$speech" ] || { echo "missing $speech: run scripts/bootstrap.sh" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
for tool in javac kotlinc; do
  command -v $tool >/dev/null || { echo "$tool is missing: run scripts/bootstrap.sh" >&2; exit 1; }
done
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
gcc -std=c99 -Wall -Wextra -Werror -pedantic -shared -fPIC -Iinclude \
  -I"$java_home/include" -I"$java_home/include/linux" ffi/jni/mediacore_jni.c \
  -L"$lib" -lmediacore -Wl,-rpath,"$lib" -o "$out/libmediacore_jni.so"
# kotlinc 1.3 on JDK 17 warns about JVM options it sets itself: not ours, filtered.
if ! kotlinc -Werror examples/kotlin/*.kt -include-runtime -d "$out/example.jar" \
  >"$out/kotlinc.log" 2>&1; then
  cat "$out/kotlinc.log" >&2; echo "FAIL kotlinc" >&2; exit 1
fi
grep -v 'Xverify:none' "$out/kotlinc.log" >&2 || true
. scripts/lib/local-service.sh
start_local_service
log=$out/run.log
if ! java -Djava.library.path="$out" -cp "$out/example.jar" mediacore.MainKt \
  "$speech" "$out/heard.wav" 2 "$connection" "$ca" >"$log" 2>&1; then
  cat "$log" >&2; tail -20 "$service_log" >&2; echo "FAIL Kotlin example" >&2; exit 1
fi
grep -q '^MediaCore [0-9.]* (Kotlin)' "$log" \
  && grep -qE '^user: 8:acs:\S+ \(token of [1-9][0-9]* bytes' "$log" \
  && grep -q '^chat event: message "hello from Kotlin" in 19:' "$log" \
  && grep -q '^call A: connected' "$log" && grep -q '^call B: connected' "$log" \
  && grep -qE '^ 2 s  B: received [1-9][0-9]+ ' "$log" && [ -s "$out/heard.wav" ] \
  && grep -q '^user: deleted 8:acs:' "$log" \
  && grep -q '^stale handle: MediaCoreException -3: ' "$log" \
  || { cat "$log" >&2; echo "FAIL Kotlin example: unexpected output" >&2; exit 1; }
echo "ok   Kotlin via JNI: $(head -1 "$log"); user, chat event; $(grep '^ 2 s' "$log");" \
  "$(grep '^stale' "$log")"
