#!/usr/bin/env bash
# `make install`: builds the release C ABI library and installs it for C, C++ and Swift:
#   $LIBDIR/libmediacore.so, libmediacore.a    (debug info stripped unless STRIP=0)
#   $INCLUDEDIR/mediacore/                     mediacore.h, mediacore.hpp, module.modulemap
#   $LIBDIR/pkgconfig/mediacore.pc             pkg-config [--static] --cflags --libs mediacore
#   $LIBDIR/cmake/MediaCore/                   find_package(MediaCore): MediaCore::mediacore
# PREFIX (default /usr/local), LIBDIR ($PREFIX/lib), INCLUDEDIR ($PREFIX/include), DESTDIR
# (staging root, e.g. for packaging) and CARGO_TARGET_DIR are honoured.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
DESTDIR=${DESTDIR:-}
STRIP=${STRIP:-1}
case "$PREFIX:$LIBDIR:$INCLUDEDIR" in
  /*:/*:/*) ;;
  *) echo "install: PREFIX, LIBDIR and INCLUDEDIR must be absolute paths" >&2; exit 1 ;;
esac

cargo build --quiet --release -p mediacore-ffi
built=${CARGO_TARGET_DIR:-target}/release
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
# What libmediacore.a needs besides libc: rustc's `--print native-static-libs` for this
# target (-lutil, -lrt, -lpthread and -ldl are empty on glibc 2.34+, needed before; gcc adds
# libgcc_s itself, other drivers may not).
static_libs=(gcc_s util rt pthread m dl)

lib=$DESTDIR$LIBDIR
inc=$DESTDIR$INCLUDEDIR/mediacore
cmake_dir=$lib/cmake/MediaCore
install -d "$lib" "$lib/pkgconfig" "$inc" "$cmake_dir"
install -m 0755 "$built/libmediacore.so" "$lib/libmediacore.so"
install -m 0644 "$built/libmediacore.a" "$lib/libmediacore.a"
if [ "$STRIP" = 1 ]; then
  strip --strip-debug "$lib/libmediacore.so" "$lib/libmediacore.a"
fi
install -m 0644 include/mediacore.h include/mediacore.hpp include/module.modulemap "$inc/"

# pkg-config: paths under the prefix are written relative to ${prefix}.
rel() { case "$1" in "$PREFIX"/*) echo "\${prefix}${1#"$PREFIX"}" ;; *) echo "$1" ;; esac; }
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@LIBDIR@|$(rel "$LIBDIR")|" \
  -e "s|@INCLUDEDIR@|$(rel "$INCLUDEDIR")|" -e "s|@VERSION@|$version|" \
  -e "s|@STATIC_LIBS@|$(printf -- '-l%s ' "${static_libs[@]}" | sed 's/ $//')|" \
  ffi/packaging/mediacore.pc.in >"$lib/pkgconfig/mediacore.pc"
chmod 0644 "$lib/pkgconfig/mediacore.pc"

# CMake: the headers' place relative to the libraries, so the installed tree can move.
include_rel=$(realpath -m --relative-to="$LIBDIR" "$INCLUDEDIR/mediacore")
subst=(-e "s|@VERSION@|$version|" -e "s|@VERSION_MAJOR@|$major|"
  -e "s|@VERSION_MINOR@|$minor|" -e "s|@SIZEOF_VOID_P@|$(($(getconf LONG_BIT) / 8))|"
  -e "s|@INCLUDEDIR_FROM_LIBDIR@|$include_rel|"
  -e "s|@STATIC_LIBS_CMAKE@|$(IFS=';'; echo "${static_libs[*]}")|")
sed "${subst[@]}" ffi/packaging/MediaCoreConfig.cmake.in >"$cmake_dir/MediaCoreConfig.cmake"
sed "${subst[@]}" ffi/packaging/MediaCoreConfigVersion.cmake.in \
  >"$cmake_dir/MediaCoreConfigVersion.cmake"
chmod 0644 "$cmake_dir"/*.cmake

echo "installed MediaCore $version in $DESTDIR$PREFIX"
case "$LIBDIR" in
  /usr/lib | /usr/lib64 | /usr/local/lib | /usr/local/lib64)
    # The loader's cache learns of the new library (a packager's DESTDIR run leaves it).
    if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ]; then ldconfig; fi ;;
  *) echo "  $LIBDIR is not on the loader's default path: use -Wl,-rpath,$LIBDIR or LD_LIBRARY_PATH" ;;
esac
