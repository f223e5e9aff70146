# ceremony — plain Makefile. `make deps` installs Debian packages; `make check` runs every test.
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
V       ?= 0
SANITIZE ?= 0

ifeq ($(SANITIZE),1)
BUILD   ?= build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPTFLAGS = -O1 -g
else
BUILD   ?= build
SANFLAGS =
OPTFLAGS = -O2 -g -D_FORTIFY_SOURCE=2
endif

PKGS     = libcrypto p11-kit-1 libsodium yaml-0.1 jansson libutf8proc hogweed nettle
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

VERSION := 0.1.0
CFLAGS_ALL = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -fstack-protector-strong $(OPTFLAGS) $(SANFLAGS) -Iinclude -MMD -MP \
	-DCEREMONY_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SANFLAGS) $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS) -lgmp -lzxcvbn -lm -ldl -lpthread

# Debian 12 packages: build libraries, the HSM used by tests and the demo, and
# the independent verifiers the tests use (openssl, certtool, vfychain, pkcs11-tool).
DEB_PACKAGES = build-essential pkg-config libssl-dev openssl libp11-kit-dev p11-kit \
	libsodium-dev libyaml-dev libjansson-dev libcmocka-dev softhsm2 opensc gnutls-bin \
	libnss3-tools valgrind jq tmux cmark libzxcvbn-dev libutf8proc-dev
# Programs the tests and the demo run beyond a minimal Debian (tests/integration/test_deps.sh checks).
DEB_PACKAGES += iproute2 xxd python3 groff-base man-db python3-cryptography
DEB_PACKAGES += python3-jsonschema
# Nettle's ECDSA checks the audit's certificate signatures (src/x509/certsig.c).
DEB_PACKAGES += nettle-dev libgmp-dev
# A second real PKCS#11 module for the tests (docs/hsm.md): tpm2-pkcs11 on swtpm, and
# SoftHSM2 behind p11-kit-proxy.
DEB_PACKAGES += swtpm swtpm-tools libtpm2-pkcs11-1 libtpm2-pkcs11-tools tpm2-tools tpm2-abrmd \
	libtss2-tcti-tabrmd0 dbus dbus-daemon dbus-bin p11-kit-modules
# make bench: /usr/bin/time, and the by-hand baseline's libp11 engine.
DEB_PACKAGES += time libengine-pkcs11-openssl

ifeq ($(V),1)
Q =
else
Q = @
endif

# One folder per layer (docs/design-notes.md); tests/layers.sh checks the include rule.
LAYERS    := base hsm shares x509 transcript audit ops script cli
SRCS      := $(wildcard $(LAYERS:%=src/%/*.c))
LIB_SRCS  := $(filter-out src/cli/main.c,$(SRCS))
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
MAIN_OBJ  := $(BUILD)/obj/cli/main.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
BIN       := $(BUILD)/ceremony
FAULTP11  := $(BUILD)/faultp11.so

.PHONY: all deps check unit integration demo install clean format bench
all: $(BIN)

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libceremony.a: $(LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(BUILD)/libceremony.a
	@[ "$(V)" = 1 ] || echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libceremony.a
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(CMOCKA_CFLAGS) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libceremony.a $(CMOCKA_LIBS) $(LIBS_ALL)

# Fuzz harnesses with a small deterministic driver (run by make check); see `make fuzz`.
$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c $(BUILD)/libceremony.a
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< tests/fuzz/driver.c $(BUILD)/libceremony.a $(LIBS_ALL)

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libceremony.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libceremony.a $(LIBS_ALL)

# genman writes the man pages' OPTIONS sections from the option tables (src/cli);
# `make man` rewrites docs/man/*.1 in place, test_docs fails when one differs.
GENMAN    := $(BUILD)/genman
$(GENMAN): tools/genman.c $(BUILD)/libceremony.a
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(BUILD)/libceremony.a $(LIBS_ALL)

.PHONY: man
man: $(GENMAN)
	$(GENMAN) docs/man

# The fault-injecting PKCS#11 module the fault sweeps put in front of SoftHSM2 (tests only).
$(FAULTP11): tests/faultp11/faultp11.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -O2 -g -shared -fPIC \
		$(shell pkg-config --cflags p11-kit-1) $(CFLAGS) -o $@ $< -ldl -lpthread

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to install:$$missing" >&2; exit 1; fi; \
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $$missing || \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends $$missing; }; \
	else echo "deps: all Debian packages present"; fi

# `check` runs the unit and integration tests (real SoftHSM2 tokens), two at a time with
# per-test seconds; `make check TESTS="csr backup"` runs only those (JOBS=N to change).
check: deps
	$(MAKE) all unit-bins fuzz-bins toolkit $(FAULTP11) $(GENMAN)
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) TESTS="$(TESTS)" tests/run-tests.sh

.PHONY: unit-bins fuzz-bins fuzz
unit-bins: $(UNIT_BINS)
fuzz-bins: $(FUZZ_BINS)

# Open-ended fuzzing with clang's libFuzzer (apt-get install clang), one harness at a time:
#   make fuzz FUZZ=fuzz_csr FUZZ_TIME=600
FUZZ ?= fuzz_csr
FUZZ_TIME ?= 60
fuzz:
	@command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)"; exit 1; }
	$(MAKE) BUILD=build-fuzz CC=clang SANITIZE=1 CFLAGS=-fsanitize=fuzzer-no-link build-fuzz/libceremony.a
	mkdir -p build-fuzz/corpus/$(FUZZ)
	clang $(CFLAGS_ALL) -fsanitize=fuzzer,address,undefined -o build-fuzz/$(FUZZ) tests/fuzz/$(FUZZ).c \
		build-fuzz/libceremony.a $(LIBS_ALL)
	build-fuzz/$(FUZZ) -max_total_time=$(FUZZ_TIME) build-fuzz/corpus/$(FUZZ)

unit: unit-bins
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) TESTS="$(TESTS)" tests/run-tests.sh unit

integration: all fuzz-bins $(FAULTP11)
	BUILD=$(BUILD) SANITIZE=$(SANITIZE) TESTS="$(TESTS)" tests/run-tests.sh integration

bench: deps
	$(MAKE) all $(BENCH_BINS)
	BUILD=$(BUILD) tests/bench/run-bench.sh

# The toolkit a recovery kit carries (`ceremony backup kit --toolkit`): the tool's own
# source archive (the files git tracks, as they are here; every file when there is no
# git, e.g. when building from a kit), the exact Debian package versions it was built
# with, and the guides as printable HTML.
# `make toolkit DEBS=1` adds debs/: the .deb files (this machine's exact versions, with
# their dependencies) that building and running the tool needs, for a site with no network.
TOOLKIT := $(BUILD)/toolkit
KIT_DEB_PACKAGES = build-essential pkg-config libssl-dev openssl libp11-dev libp11-kit-dev \
	p11-kit libsodium-dev libyaml-dev libjansson-dev softhsm2 opensc make nettle-dev libgmp-dev
SRC_TAR := ceremony-$(VERSION)-src.tar.gz
.PHONY: toolkit
toolkit: $(BIN)
	@rm -rf $(TOOLKIT).new && mkdir -p $(TOOLKIT).new/tool $(TOOLKIT).new/guides
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  git ls-files -z -co --exclude-standard | tar --null -T - --sort=name --owner=0 --group=0 --numeric-owner \
	    --mtime=@0 -cf - | gzip -n >$(TOOLKIT).new/tool/$(SRC_TAR); \
	else \
	  find . \( -name 'build*' -o -name 'demo-out*' -o -name .git \) -prune -o -type f -print0 | \
	    tar --null -T - --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf - | \
	    gzip -n >$(TOOLKIT).new/tool/$(SRC_TAR); \
	fi
	$(Q)dpkg-query -W -f='$${Package}=$${Version}\n' $(DEB_PACKAGES) >$(TOOLKIT).new/tool/debian-packages.txt
	$(Q){ echo "ceremony $(VERSION)"; $(CC) --version | head -n1; openssl version; \
	  echo "built on $$(. /etc/os-release && echo $$PRETTY_NAME), $$(uname -m)"; } >$(TOOLKIT).new/tool/BUILD-INFO
	$(Q)cd $(TOOLKIT).new/tool && sha256sum $(SRC_TAR) debian-packages.txt BUILD-INFO >SHA256SUMS
	$(Q)for f in docs/*.md; do n=$$(basename $$f .md); \
	  { printf '<!doctype html>\n<html><head><meta charset="utf-8"><title>%s</title>\n' "$$n"; \
	    printf '<style>body{font:11pt/1.45 serif;max-width:46em;margin:2em auto}pre{white-space:pre-wrap;border:1px solid #999;padding:.5em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .4em}@media print{pre{page-break-inside:avoid}}</style></head><body>\n'; \
	    cmark --to html $$f; printf '</body></html>\n'; } >$(TOOLKIT).new/guides/$$n.html || exit 1; done
	$(Q)if [ "$(DEBS)" = 1 ]; then mkdir -p $(TOOLKIT).new/debs && cd $(TOOLKIT).new/debs && \
	  list=""; for p in $$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	    --no-breaks --no-replaces --no-enhances $(KIT_DEB_PACKAGES) | grep -E '^[a-z0-9]' | sort -u); do \
	    v=$$(dpkg-query -W -f='$${Version}' $$p 2>/dev/null); list="$$list $$p$${v:+=$$v}"; done; \
	  missing=""; for p in $$list; do apt-cache show $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "make toolkit DEBS=1: not in the archive any more:$$missing;" \
	    "upgrade them (apt-get upgrade), rebuild, and make the toolkit again, so the kit carries the" \
	    "versions the tool was built with" >&2; exit 1; fi; \
	  apt-get download $$list >/dev/null 2>&1 && sha256sum *.deb >SHA256SUMS || exit 1; fi
	@rm -rf $(TOOLKIT) && mv $(TOOLKIT).new $(TOOLKIT)
	@[ "$(V)" = 1 ] || echo "  TOOLKIT $(TOOLKIT)"

DEMO_DIR ?= ./demo-out
demo: deps
	$(MAKE) all toolkit
	CEREMONY=$(BIN) DEMO_DIR=$(DEMO_DIR) ceremony-scripts/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/ceremony/profiles \
		$(DESTDIR)$(PREFIX)/share/ceremony/scripts $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ceremony
	install -m 0644 ceremony-scripts/profiles/*.yaml $(DESTDIR)$(PREFIX)/share/ceremony/profiles/
	install -m 0644 ceremony-scripts/*.yaml $(DESTDIR)$(PREFIX)/share/ceremony/scripts/
	install -m 0644 ceremony-scripts/ceremony.yaml.example $(DESTDIR)$(PREFIX)/share/ceremony/
	install -m 0644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h) include/ceremony/*.h tests/unit/*.c

clean:
	rm -rf build build-san

-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)
