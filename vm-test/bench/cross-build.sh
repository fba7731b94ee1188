#!/bin/sh
# Cross-build ipsec-bench for FreeBSD amd64 on Linux: rustc's
# x86_64-unknown-freebsd standard library (rustup target add), linked
# statically by rust-lld against the libc of a FreeBSD sysroot (the shared
# image's: `../shared/freebsd/image.sh sysroot`).  No C compiler needed.
# usage: cross-build.sh SYSROOT OUT
set -eu
sysroot=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-freebsd ||
    rustup target add x86_64-unknown-freebsd
lib=$sysroot/usr/lib
# crt1/crti/crtbeginT first and crtend/crtn last, as cc(1) orders them for
# a static link (pre-link-args / post-link-args keep that order).
flags="-C linker-flavor=ld.lld -C target-feature=+crt-static"
flags="$flags -C link-arg=-L$lib -C link-arg=-L$sysroot/lib"
flags="$flags -Z pre-link-args=$lib/crt1.o -Z pre-link-args=$lib/crti.o -Z pre-link-args=$lib/crtbeginT.o"
flags="$flags -C link-arg=$lib/crtend.o -C link-arg=$lib/crtn.o"
CARGO_TARGET_X86_64_UNKNOWN_FREEBSD_LINKER=rust-lld \
RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" \
    cargo build --release --target x86_64-unknown-freebsd \
    --manifest-path "$here/Cargo.toml" --target-dir "$here/../../target/bench"
mkdir -p "$(dirname "$out")"
cp "$here/../../target/bench/x86_64-unknown-freebsd/release/ipsec-bench" "$out"
echo "built $out"
