#!/bin/sh
# Builds the Linux guest that `azalia vm` boots: a Debian kernel (its uncompressed vmlinux, entered
# through its PVH note), the HD Audio modules and their dependency closure, busybox and alsa-utils, all
# from Debian packages fetched with `apt-get download` and unpacked with `dpkg-deb -x` (nothing is
# installed). Output, in the cache folder given as $1: vmlinux, initramfs.cpio, guest.stamp.
# Reuses a finished guest. Exits non-zero with a one-line message on any failure.
set -eu
cache=${1:?usage: build-guest.sh CACHE_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$cache"
cd "$cache"
# The modules whose closure the guest loads: the generic codec parser, the vendor codec drivers of Realtek, IDT
# (Sigmatel), Conexant and Analog Devices (they bind the dumps `azalia vm --codec` loads; the virtual codec still
# gets the generic parser; Intel's HDMI driver is left out: without i915 it refuses the codec, and the generic parser
# plays HDMI dumps) and the controller driver, last. A guest built from another list, or with another /init, is rebuilt.
wanted="snd-hda-codec-generic snd-hda-codec-realtek snd-hda-codec-idt snd-hda-codec-conexant snd-hda-codec-analog snd-hda-intel"
recipe="modules: $wanted; init: $(cksum <"$here/init" | cut -d' ' -f1)"
if [ -s guest.stamp ] && [ -s vmlinux ] && [ -s initramfs.cpio ] && grep -qxF "$recipe" guest.stamp; then exit 0; fi
fail() { echo "build-guest: $*" >&2; exit 1; }
for tool in apt-get apt-cache dpkg-deb cpio xz; do
    command -v "$tool" >/dev/null 2>&1 || fail "missing host tool '$tool' (apt-get install cpio xz-utils)"
done

# The kernel the metapackage names today, e.g. linux-image-6.1.0-57-amd64.
kernel=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
[ -n "$kernel" ] || fail "no linux-image-*-amd64 in the apt lists (run apt-get update)"
rm -rf debs root
mkdir -p debs root
(cd debs && apt-get download "$kernel" busybox-static alsa-utils libasound2 libasound2-data libc6 >download.log 2>&1) \
    || fail "apt-get download failed: $(tail -n 1 debs/download.log)"
for deb in debs/*.deb; do dpkg-deb -x "$deb" root || fail "dpkg-deb -x $deb failed"; done

# The uncompressed kernel inside the bzImage: the xz stream after its magic.
vmlinuz=$(ls root/boot/vmlinuz-* | head -n 1)
[ -f "$vmlinuz" ] || fail "no vmlinuz in $kernel"
offset=$(grep -abo "$(printf '\3757zXZ')" "$vmlinuz" | head -n 1 | cut -d: -f1)
[ -n "$offset" ] || fail "$vmlinuz has no xz payload"
tail -c +$((offset + 1)) "$vmlinuz" | xz -dc >vmlinux.tmp 2>/dev/null || true
[ "$(head -c 4 vmlinux.tmp | od -An -c | tr -d ' ')" = "177ELF" ] || fail "could not extract vmlinux from $vmlinuz"
mv vmlinux.tmp vmlinux

# The module closure of $wanted, from each .ko's depends field, in load order (dependencies first).
modules=$(ls -d root/lib/modules/*/kernel)
find_module() { find "$modules" -name "$(echo "$1" | sed 's/[-_]/[-_]/g').ko" | head -n 1; }
depends_of() { tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | tr ',' ' '; }
order=""
visit() {
    case " $order " in *" $1 "*) return ;; esac
    ko=$(find_module "$1"); [ -n "$ko" ] || fail "module $1 not found in $kernel"
    for dep in $(depends_of "$ko"); do visit "$dep"; done
    order="$order $1"
}
for m in $wanted; do visit "$m"; done

rm -rf initramfs
mkdir -p initramfs/bin initramfs/sbin initramfs/usr/bin initramfs/usr/share initramfs/lib/modules initramfs/proc \
    initramfs/sys initramfs/dev initramfs/tmp initramfs/job initramfs/lib64 initramfs/etc
cp root/bin/busybox initramfs/bin/busybox
for applet in sh mount insmod poweroff sleep cat echo ls stty dd grep sed head tail tr wc seq dmesg cttyhack setsid \
    mkdir uname true test cp rm sync od; do
    ln -s busybox "initramfs/bin/$applet"
done
cp root/usr/bin/aplay root/usr/bin/arecord root/usr/bin/amixer initramfs/usr/bin/
cp -r root/usr/share/alsa initramfs/usr/share/alsa
# The shared libraries the ALSA tools need, found from their NEEDED entries by name in the unpacked libc6 and libasound2.
for lib in ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libasound.so.2 libpthread.so.0 libdl.so.2 librt.so.1; do
    path=$(find root/lib root/usr/lib -name "$lib" | head -n 1)
    [ -n "$path" ] || fail "library $lib not found"
    mkdir -p "initramfs/lib/x86_64-linux-gnu"
    cp -L "$path" "initramfs/lib/x86_64-linux-gnu/$lib"
done
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 initramfs/lib64/ld-linux-x86-64.so.2
i=0
: >initramfs/lib/modules/order
for m in $order; do
    i=$((i + 1))
    cp "$(find_module "$m")" "initramfs/lib/modules/$m.ko"
    echo "$m" >>initramfs/lib/modules/order
done
cp "$here/init" initramfs/init
chmod 755 initramfs/init
(cd initramfs && find . | sort | cpio -o -H newc --quiet) >initramfs.cpio || fail "cpio failed"
printf '%s\n%s\n' "$kernel$order" "$recipe" >guest.stamp
rm -rf root initramfs
