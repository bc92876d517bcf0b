#!/usr/bin/env bash
# The C ABI as its users get it:
#  1. symbol hygiene: libmediacore.so (debug and release) exports exactly the header's mc_*
#     functions — no libopus, ring or Rust symbol leaks — and nothing the header lacks;
#  2. `make install PREFIX=<tmp>` (scripts/install.sh), then examples/c/version.c built with
#     `pkg-config --cflags --libs mediacore` (shared) and `--static`, and the CMake project
#     examples/cmake (find_package(MediaCore): the shared and the static imported targets);
#     each run. The install + pkg-config build is timed: a C developer's path once the
#     library is built;
#  3. the installed module map: `@import MediaCore;` compiles (Clang modules, as Swift uses).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
out=target/c-packaging
rm -rf "$out"
mkdir -p "$out"
expected="MediaCore $(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic"

check_output() {
  local name=$1 got; shift
  got=$("$@")
  case "$got" in
    "$expected"*) echo "ok   $name: $got" ;;
    *) echo "FAIL $name: printed '$got', expected '$expected'" >&2; exit 1 ;;
  esac
}

# --- 1. Exported symbols -------------------------------------------------------------------
cargo build --quiet -p mediacore-ffi
cargo build --quiet --release -p mediacore-ffi
# The functions mediacore.h declares: `<type> [*]mc_name(` at the start of a line.
sed -n 's/^[a-z].*[ *]\(mc_[a-z0-9_]*\)(.*/\1/p' include/mediacore.h | sort -u >"$out/declared"
for profile in debug release; do
  so=$target/$profile/libmediacore.so
  nm -D --defined-only "$so" | awk '{print $NF}' | sort -u >"$out/exported-$profile"
  leaked=$(grep -v '^mc_' "$out/exported-$profile" || true)
  if [ -n "$leaked" ]; then
    echo "FAIL $so exports $(wc -l <<<"$leaked") symbols besides mc_*:" >&2
    echo "$leaked" >&2
    exit 1
  fi
  if ! diff -u "$out/declared" "$out/exported-$profile" >"$out/symbols-$profile.diff"; then
    echo "FAIL $so: exported mc_* functions differ from mediacore.h's (-header +library):" >&2
    cat "$out/symbols-$profile.diff" >&2
    exit 1
  fi
  echo "ok   $profile libmediacore.so exports only the header's $(wc -l <"$out/declared") mc_* functions"
done

# --- 2. Install, pkg-config, CMake --------------------------------------------------------
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
start=$(date +%s.%N)
make --no-print-directory --quiet install PREFIX="$prefix" >"$out/install.log"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
gcc $CFLAGS examples/c/version.c $(pkg-config --cflags --libs mediacore) \
  -Wl,-rpath,"$prefix/lib" -o "$out/version-pkgconfig"
end=$(date +%s.%N)
check_output "C, pkg-config, shared ($(pkg-config --libs mediacore))" "$out/version-pkgconfig"
printf 'ok   install + pkg-config build: %.1f s (the library already built)\n' \
  "$(echo "$end - $start" | bc)"
# The static library by name (GNU ld's -l:), since -lmediacore would pick the shared one.
static_flags=$(pkg-config --static --cflags --libs mediacore | sed 's/-lmediacore\b/-l:libmediacore.a/')
# shellcheck disable=SC2086
gcc $CFLAGS examples/c/version.c $static_flags -o "$out/version-pkgconfig-static"
if objdump -p "$out/version-pkgconfig-static" | grep -q 'NEEDED.*libmediacore'; then
  echo "FAIL the static build depends on libmediacore.so" >&2; exit 1
fi
check_output "C, pkg-config --static ($static_flags)" "$out/version-pkgconfig-static"

cmake -S examples/cmake -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" \
  >"$out/cmake.log" 2>&1 || { cat "$out/cmake.log" >&2; echo "FAIL cmake configure" >&2; exit 1; }
cmake --build "$out/cmake" >>"$out/cmake.log" 2>&1 \
  || { cat "$out/cmake.log" >&2; echo "FAIL cmake build" >&2; exit 1; }
check_output "C, CMake find_package(MediaCore), MediaCore::mediacore" "$out/cmake/version-c"
check_output "C++, CMake, MediaCore::mediacore_static" "$out/cmake/version-cpp-static"

# --- 3. The Clang module (Swift's `import MediaCore`; no Swift toolchain here) --------------
printf '@import MediaCore;\nint main(void) { return mc_abi_version() == MC_ABI_VERSION ? 0 : 1; }\n' \
  >"$out/module.m"
clang -x objective-c -fmodules -fmodules-cache-path="$out/modules" -Wall -Werror -fsyntax-only \
  -I"$prefix/include/mediacore" "$out/module.m"
echo "ok   module MediaCore (installed module.modulemap) imports"
