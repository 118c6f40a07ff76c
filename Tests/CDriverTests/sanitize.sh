#!/usr/bin/env bash
# The C tests and both example drivers, built with AddressSanitizer and
# UndefinedBehaviorSanitizer (leak checks on) against libazalia as scripts/install-c.sh
# installs it from the debug build; any report, failed check or difference from the input
# fails. Run by .ci/run after swift build.
set -euo pipefail
cd "$(dirname "$0")/../.."
lib=$(dirname "$(find .build -name libazalia-c.so -path '*debug*' | head -n 1)")
[ -f "$lib/libazalia-c.so" ] || { echo "sanitize: libazalia-c.so not built" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scripts/install-c.sh "$out/prefix" --from "$lib" >/dev/null
build() {
  cc -std=c11 -g -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror -DDUMP_DIR="\"$PWD/Tests/CodecDumps\"" \
     -I "$out/prefix/include/azalia" "$1" -L "$out/prefix/lib" -lazalia -Wl,-rpath,"$out/prefix/lib" -o "$out/$2"
}
# A quarter second of 48 kHz 16-bit stereo noise as the examples' input.
{ printf 'RIFF\xa4\xbb\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x80\xbb\x00\x00\x00\xee\x02\x00\x04\x00\x10\x00'
  printf 'data\x80\xbb\x00\x00'; head -c 48000 /dev/urandom; } > "$out/in.wav"
# Swift's backtracer stays off: under ASan a crash could leave it waiting with the pipe open.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SWIFT_BACKTRACE=enable=no
for t in layout routines endpoints faults irql loopback; do build "Tests/CDriverTests/C/$t.c" "$t"; "$out/$t" | tail -n 1; done
for e in play capture; do
  build "examples/$e.c" "$e"
  "$out/$e" "$out/in.wav" "$out/$e.wav" | tail -n 1
  "$out/$e" "$out/in.wav" "$out/$e-chip.wav" Tests/CodecDumps/alc269vc-lenovo-thinkpad-t530.txt | tail -n 1   # a real chip's graph
done
echo "sanitize: C tests and examples clean under ASan and UBSan"
