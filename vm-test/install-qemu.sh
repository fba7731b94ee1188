#!/usr/bin/env bash
# Install QEMU for vm-test from Debian's packages, idempotently.
#
# The machine may already carry qemu-utils from a newer suite (Debian 12
# hosts here have 10.x from bookworm-backports), and bookworm's own
# qemu-system-x86 (7.2) conflicts with it.  So qemu-system-x86 is taken
# from the suite that qemu-utils came from; when that suite is not in the
# apt sources, it is added with the mirror the machine's existing sources
# already use (no host name is written into this repository).
set -euo pipefail

if command -v qemu-system-x86_64 >/dev/null 2>&1 && command -v qemu-img >/dev/null 2>&1; then
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install-qemu: needs root (apt-get)" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || { echo "install-qemu: no apt-get" >&2; exit 1; }

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
utils_ver=$(dpkg-query -W -f='${Version}' qemu-utils 2>/dev/null || true)
suite=""
case "$utils_ver" in
*~bpo*) suite="${codename}-backports" ;;
esac

if [ -n "$suite" ] && ! grep -rqs -- "$suite" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	# The first plain Debian mirror of the existing sources (deb822 or
	# one-line style).
	mirror=$(grep -rhs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' |
		grep -v -- '-security' | head -n1 || true)
	[ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list |
		awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
	[ -n "$mirror" ] || { echo "install-qemu: no Debian mirror in the apt sources" >&2; exit 1; }
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	{
		echo "Types: deb"
		echo "URIs: $mirror"
		echo "Suites: $suite"
		echo "Components: main"
		[ -f "$keyring" ] && echo "Signed-By: $keyring"
	} >/etc/apt/sources.list.d/vmtest-"$suite".sources
fi

apt-get update -qq
if [ -n "$suite" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		-t "$suite" qemu-system-x86 qemu-utils
else
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		qemu-system-x86 qemu-utils
fi
qemu-system-x86_64 --version | head -n1
