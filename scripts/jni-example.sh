#!/usr/bin/env bash
# Kotlin through JNI: builds the glue ffi/jni/mediacore_jni.c (-Wall -Wextra -Werror
# -pedantic) against libmediacore.so, compiles examples/kotlin with kotlinc (-Werror) and
# runs the two-call example: both calls connected, B received A's packets, a stale handle
# thrown as MediaCoreException. scripts/bootstrap.sh installs kotlin and the JDK.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p mediacore-ffi
lib=$(realpath "${CARGO_TARGET_DIR:-target}/debug")
out=target/jni-example
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
log=$out/run.log
if ! java -Djava.library.path="$out" -cp "$out/example.jar" mediacore.MainKt 2 >"$log" 2>&1; then
  cat "$log" >&2; echo "FAIL Kotlin example" >&2; exit 1
fi
grep -q '^MediaCore [0-9.]* (Kotlin)' "$log" && grep -q '^call A: connected' "$log" \
  && grep -q '^call B: connected' "$log" && grep -qE '^ 2 s  B: received [1-9][0-9]+ ' "$log" \
  && grep -q '^stale handle: MediaCoreException -3: ' "$log" \
  || { cat "$log" >&2; echo "FAIL Kotlin example: no call" >&2; exit 1; }
echo "ok   Kotlin via JNI: $(head -1 "$log"); $(grep '^ 2 s' "$log"); $(grep '^stale' "$log")"
