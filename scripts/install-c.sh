#!/usr/bin/env bash
# Installs Azalia for C function drivers: the headers (hdaudio.h, wdm.h, azalia.h,
# azalia_types.h) into PREFIX/include/azalia, the library as PREFIX/lib/libazalia.so, and
# PREFIX/lib/pkgconfig/azalia.pc. A driver then builds with
#   cc -I PREFIX/include/azalia driver.c -L PREFIX/lib -lazalia -Wl,-rpath,PREFIX/lib
# or with `pkg-config --cflags --libs azalia` (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig).
#
#   scripts/install-c.sh PREFIX               builds the release library first (swift build -c release)
#   scripts/install-c.sh PREFIX --from DIR    installs the libazalia-c.so already built in DIR
set -euo pipefail
usage() { echo "usage: $0 PREFIX [--from BUILD_DIR]" >&2; exit 64; }
[ $# -ge 1 ] || usage
prefix=$1; shift
from=""
while [ $# -gt 0 ]; do
  case $1 in
    --from) [ $# -ge 2 ] || usage; from=$2; shift 2 ;;
    *) usage ;;
  esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$from" ]; then
  (cd "$root" && swift build -c release --product azalia-c >&2)
  from=$(cd "$root" && swift build -c release --show-bin-path)
fi
[ -f "$from/libazalia-c.so" ] || { echo "install-c: no libazalia-c.so in $from" >&2; exit 1; }
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)
install -d "$prefix/include/azalia" "$prefix/lib/pkgconfig"
for h in hdaudio.h wdm.h azalia.h azalia_types.h; do
  install -m 0644 "$root/Sources/CAzalia/include/$h" "$prefix/include/azalia/$h"
done
install -m 0755 "$from/libazalia-c.so" "$prefix/lib/libazalia.so"
cat > "$prefix/lib/pkgconfig/azalia.pc" <<PC
prefix=$prefix
includedir=\${prefix}/include/azalia
libdir=\${prefix}/lib

Name: azalia
Description: Azalia, the Intel HD Audio bus: hdaudio.h for C function drivers
Version: 0.3
Cflags: -I\${includedir}
Libs: -L\${libdir} -lazalia -Wl,-rpath,\${libdir}
PC
echo "installed: $prefix/include/azalia/{hdaudio.h,wdm.h,azalia.h,azalia_types.h}, $prefix/lib/libazalia.so, $prefix/lib/pkgconfig/azalia.pc"
