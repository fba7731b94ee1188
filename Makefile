# if_ipsec: build the FreeBSD 14.x amd64 kernel module from the Rust
# workspace, and test everything.  GNU make.
#
#   make         -> build/if_ipsec.ko
#   make check   -> build/if_ipsec.ko, host tests of the workspace including
#                   the .ko checks (tests/ko-check), then rustfmt --check and
#                   clippy -D warnings (host and kernel target)
#
# On a FreeBSD host this delegates to kmod/Makefile (bsd.kmod.mk).
# Needs: rustup (stable toolchain), binutils (ld, objcopy, nm, ar).

CARGO    ?= cargo
RUSTUP   ?= rustup
KTARGET  := x86_64-unknown-none
# Fixed target dir inside the repo, whatever CARGO_TARGET_DIR says.
TARGETDIR := $(CURDIR)/target
BUILDDIR  := $(CURDIR)/build
KO        := $(BUILDDIR)/if_ipsec.ko
STATICLIB := $(TARGETDIR)/$(KTARGET)/kernel/libif_ipsec_kmod.a

# Flags for every crate of the kernel build, core/alloc/compiler_builtins
# included (they are rebuilt with -Zbuild-std).  x86_64-unknown-none already
# gives code-model=kernel, no red zone, soft-float with
# -mmx,-sse,...,-avx2, panic=abort and inline stack probes; its default
# relocation model is pic and it does not use the PLT, which leaves
# GOTPCREL relocations FreeBSD's kernel linker refuses.
KERNEL_RUSTFLAGS := \
	-C relocation-model=static \
	-C code-model=kernel \
	-Z plt=yes \
	-C force-frame-pointers=yes \
	-C force-unwind-tables=no

KERNEL_CARGO_FLAGS := \
	-p if_ipsec_kmod --profile kernel --target $(KTARGET) \
	-Zbuild-std=core,alloc,compiler_builtins \
	-Zbuild-std-features=compiler-builtins-mem

UNAME_S := $(shell uname -s)

.PHONY: all check setup staticlib clean host-test lint ko-check

ifeq ($(UNAME_S),FreeBSD)
# FreeBSD host (gmake): the native bsd.kmod.mk build in kmod/ (BSD make).
BSDMAKE ?= /usr/bin/make
all:
	$(BSDMAKE) -C kmod
check: all
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --target-dir $(TARGETDIR) -- -D warnings
	IF_IPSEC_KO=$(CURDIR)/kmod/if_ipsec.ko $(CARGO) test --workspace --target-dir $(TARGETDIR)
else

all: $(KO)

# Idempotent: installs the kernel target and the std sources for
# -Zbuild-std on the active (stable) toolchain, if rustup manages it.
setup:
	@if command -v $(RUSTUP) >/dev/null 2>&1; then \
		$(RUSTUP) target add $(KTARGET) >/dev/null 2>&1 || $(RUSTUP) target add $(KTARGET); \
		$(RUSTUP) component add rust-src clippy rustfmt >/dev/null 2>&1 || \
			$(RUSTUP) component add rust-src clippy rustfmt; \
	fi

# Always asks cargo (a no-op when nothing changed); the .a keeps its mtime
# when fresh, so the link below reruns only after a real rebuild.
staticlib: setup
	env -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_RUSTFLAGS \
	    RUSTC_BOOTSTRAP=1 RUSTFLAGS="$(strip $(KERNEL_RUSTFLAGS))" \
	    $(CARGO) rustc $(KERNEL_CARGO_FLAGS) --target-dir $(TARGETDIR) \
	    --crate-type staticlib

$(STATICLIB): staticlib ;

$(KO): $(STATICLIB) kmod/link/link-ko.sh kmod/link/kmod.ld kmod/link/builtins-globals.txt
	@mkdir -p $(BUILDDIR)
	kmod/link/link-ko.sh $(STATICLIB) $@ $(BUILDDIR)/link
	@echo "built $@ ($$(stat -c %s $@) bytes)"

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --target-dir $(TARGETDIR) -- -D warnings
	$(CARGO) clippy -p if_ipsec_kmod --target $(KTARGET) --target-dir $(TARGETDIR) -- -D warnings
	@# The manual page: mandoc's lint where mandoc is installed (FreeBSD has
	@# it in base; Debian: apt-get install mandoc).
	@if command -v mandoc >/dev/null 2>&1; then \
		mandoc -Tlint -W warning man/if_ipsec.4 && echo "man/if_ipsec.4: mandoc lint clean"; \
	else echo "mandoc not installed: man page lint skipped"; fi

# Host tests of the whole workspace; IF_IPSEC_KO makes the .ko checks
# fail (not skip) if the module is missing.
host-test: $(KO)
	IF_IPSEC_KO=$(KO) $(CARGO) test --workspace --no-fail-fast --target-dir $(TARGETDIR)

# Only the .ko checks.
ko-check: $(KO)
	IF_IPSEC_KO=$(KO) $(CARGO) test -p ko-check --target-dir $(TARGETDIR)

# Tests first (their failures are the informative ones), then lint.
check: host-test
	$(MAKE) --no-print-directory lint

endif

clean:
	rm -rf $(BUILDDIR)
	$(CARGO) clean --target-dir $(TARGETDIR)

# Boot FreeBSD under QEMU and run vm-test/guest/*.sh against the module
# (vm-test/README.md): the main VM with our module, a peer VM with the
# stock C if_ipsec for interop.  Without FREEBSD_IMAGE the shared test
# image (../shared/freebsd, FreeBSD 14.2 GENERIC + kernel.debug) is used
# when it exists; with neither, it says so loudly and skips.
# `make vm-test-debug` runs the same suite under the INVARIANTS+WITNESS
# kernel of that image; `make vm-test-all` runs both.
SHARED_FREEBSD ?= $(CURDIR)/../shared/freebsd
VMTEST_KO ?= $(if $(filter FreeBSD,$(UNAME_S)),$(CURDIR)/kmod/if_ipsec.ko,$(KO))
VMTEST_IMAGE = $(or $(FREEBSD_IMAGE),$(shell [ -x $(SHARED_FREEBSD)/image.sh ] && $(SHARED_FREEBSD)/image.sh 2>/dev/null))
.PHONY: vm-test vm-test-debug vm-test-all
vm-test: all
	@img="$(VMTEST_IMAGE)"; \
	if [ -z "$$img" ]; then echo "vm-test: SKIPPED: no FREEBSD_IMAGE and no $(SHARED_FREEBSD)/image.sh"; exit 0; fi; \
	echo "vm-test: image $$img"; \
	bin=""; [ -x "$(BENCH_BIN)" ] && bin="--bin $(BENCH_BIN)"; \
	vm-test/run --image "$$img" --peer-image "$$img" --ko "$(VMTEST_KO)" $$bin $(VMTEST_ARGS)
vm-test-debug:
	$(MAKE) --no-print-directory vm-test VMTEST_ARGS="--kernel kernel.debug --no-stock $(VMTEST_ARGS)"
vm-test-all: vm-test vm-test-debug

# In-kernel benchmark (issue 14): one boot of the shared image measures the
# stock C if_ipsec, then ours (vm-test/guest/bench.sh), with the load
# generator vm-test/bench cross-built for FreeBSD against the image's
# sysroot.  Results in build/vm-bench-logs; figures go to BENCHMARKS.md.
BENCH_BIN = $(BUILDDIR)/ipsec-bench
.PHONY: vm-bench bench-bin
bench-bin:
	@sysroot="$$($(SHARED_FREEBSD)/image.sh sysroot)" || { echo "vm-bench: no sysroot in $(SHARED_FREEBSD)"; exit 1; }; \
	vm-test/bench/cross-build.sh "$$sysroot" $(BENCH_BIN)
vm-bench: all bench-bin
	@img="$(VMTEST_IMAGE)"; \
	if [ -z "$$img" ]; then echo "vm-bench: SKIPPED: no FREEBSD_IMAGE and no $(SHARED_FREEBSD)/image.sh"; exit 0; fi; \
	vm-test/run --image "$$img" --ko "$(VMTEST_KO)" --bin $(BENCH_BIN) --bench \
	    --memory 4096 --logdir $(BUILDDIR)/vm-bench-logs $(VMTEST_ARGS)
