# tokend — build, test, run. `make help` lists the targets.

# make install: the daemon in sbin (its manual is tokend(8)); the unit in
# systemd's search path for PREFIX (/usr/local/lib/systemd/system)
PREFIX    ?= /usr/local
DESTDIR   ?=
SBINDIR   ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR    ?= $(PREFIX)/share/man
DOCDIR    ?= $(PREFIX)/share/doc/tokend
UNITDIR   ?= $(PREFIX)/lib/systemd/system
# the console's static files (deploy/nginx/tokend.conf serves them at /console/)
CONSOLEDIR ?= $(PREFIX)/share/tokend/console
CONSOLE_FILES := console/index.html console/app.js console/app.css

CC        ?= cc
# libsystemd: sd_notify for Type=notify (src/server/notify.c)
PKGS      := fcgi json-c hiredis libcrypto libsystemd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lfcgi -ljson-c -lhiredis -lcrypto -lsystemd)
BUILD_ID  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
CFLAGS    ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude $(PKG_CFLAGS) -DTD_BUILD='"$(BUILD_ID)"'
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# the plain build is hardened as Debian builds its packages (dpkg-buildflags);
# the sanitizer and fuzz builds are not (fortify and ASan check the same)
HARDEN_CFLAGS  := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
HARDEN_LDFLAGS := -Wl,-z,relro -Wl,-z,now

# src/server (FastCGI, HTTP, config), src/api (one file per dialect),
# src/core (the rules), src/store (the only Redis code): see DESIGN in README
LAYERS    := server api core store
SRCS      := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
LIB_SRCS  := $(filter-out src/server/main.c,$(SRCS))
OBJS      := $(LIB_SRCS:src/%.c=build/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:src/%.c=build/asan/%.o)
FUZZ_OBJS := $(LIB_SRCS:src/%.c=build/fuzzobj/%.o)
# -MMD -MP: every object depends on exactly the headers it includes
DEPFLAGS  := -MMD -MP
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/unit/%)

PYTEST    := /usr/bin/python3 -m pytest

.PHONY: check-layers all asan install install-system uninstall deb deps deps-build deps-run deps-test \
	compat-deps browser-deps test test-unit test-integration test-asan test-fuzz fuzz bench deps-bench run clean help

all: build/tokend

help:
	@echo "make            build build/tokend (-Wall -Wextra -Werror -O2)"
	@echo "make asan       build build/tokend-asan (ASan + UBSan)"
	@echo "make run        start Redis + tokend + nginx on 127.0.0.1:\$${PORT:-8080}, data in ./var"
	@echo "make test       unit tests, then the integration suite against build/tokend and build/tokend-asan"
	@echo "make fuzz       run every libFuzzer target for FUZZ_SECONDS (default 300)"
	@echo "make bench      wrk against tokend and the floors; writes bench/LAST_RUN.md"
	@echo "make install    install to \$$DESTDIR\$$PREFIX (default /usr/local): binary, config, unit, man pages"
	@echo "make install-system  (root) install, then the user tokend, /var/lib/tokend and a keyring"
	@echo "make deb        build $(DEB), the Debian package"
	@echo "make deps       install the Debian packages needed to build, run and test"

# V=1 shows the full compiler command lines
Q := $(if $(V),,@)

build/obj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDEN_CFLAGS) $(DEPFLAGS) -c -o $@ $<

build/asan/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC asan $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -O1 -c -o $@ $<

build/libtokend.a: $(OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

build/libtokend-asan.a: $(ASAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

build/tokend: build/obj/server/main.o build/libtokend.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(HARDEN_CFLAGS) $(HARDEN_LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/tokend-asan: build/asan/server/main.o build/libtokend-asan.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -O1 -o $@ $^ $(PKG_LIBS)

asan: build/tokend-asan

build/unit/%: tests/unit/%.c build/libtokend-asan.a | build/unit
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(DEPFLAGS) -MT $@ -MF $@.d -O1 -o $@ $< \
		build/libtokend-asan.a $(PKG_LIBS) -lcmocka

build/unit build/fuzz:
	mkdir -p $@

# libFuzzer targets (clang): each fuzzes one parser, starting from its seed
# corpus in tests/fuzz/corpus/<name>; findings land in build/fuzz/.
FUZZ_CC    ?= clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude $(PKG_CFLAGS) \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZERS    := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 300

# the library once more, instrumented for coverage; each tests/fuzz/fuzz_*.c
# links against it, so a new fuzzer needs no Makefile line
build/fuzzobj/%.o: src/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC fuzz $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(DEPFLAGS) -c -o $@ $<

build/libtokend-fuzz.a: $(FUZZ_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/libtokend-fuzz.a | build/fuzz
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(DEPFLAGS) -MT $@ -MF $@.d -o $@ $< \
		build/libtokend-fuzz.a $(PKG_LIBS)

# each fuzzer for FUZZ_SECONDS (default 5 minutes); a crash fails the target
fuzz: deps-test $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$${f##*/fuzz_}; mkdir -p build/fuzz/corpus-$$n; \
		echo "== $$f ($(FUZZ_SECONDS) s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -artifact_prefix=build/fuzz/ \
			build/fuzz/corpus-$$n tests/fuzz/corpus/$$n; done

# the same, briefly, as part of make test: regressions show in CI
test-fuzz:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=15

# The unit is written with the paths of this install (deploy/systemd/
# tokend.service names /usr/local's); an existing config is never replaced.
install: build/tokend
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/tokend $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(CONSOLEDIR)
	install -m 0755 build/tokend $(DESTDIR)$(SBINDIR)/tokend
	install -m 0644 $(CONSOLE_FILES) $(DESTDIR)$(CONSOLEDIR)/
	test -e $(DESTDIR)$(SYSCONFDIR)/tokend/tokend.conf || \
		install -m 0640 deploy/tokend.conf $(DESTDIR)$(SYSCONFDIR)/tokend/tokend.conf
	sed -e 's|/usr/local/sbin/tokend|$(SBINDIR)/tokend|g' \
		-e 's|/usr/local/share/doc/tokend|$(DOCDIR)|g' \
		-e 's|/etc/tokend|$(SYSCONFDIR)/tokend|g' \
		deploy/systemd/tokend.service > $(DESTDIR)$(UNITDIR)/tokend.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tokend.service
	install -m 0644 man/tokend.8 $(DESTDIR)$(MANDIR)/man8/tokend.8
	install -m 0644 man/tokend.conf.5 $(DESTDIR)$(MANDIR)/man5/tokend.conf.5
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

# What the Debian package's postinst does, for other hosts (root, no DESTDIR)
install-system: install
	@DESTDIR='$(DESTDIR)' deploy/install-system.sh $(SBINDIR)/tokend $(SYSCONFDIR)/tokend/tokend.conf

# the config, the keyring and the user stay (they are the operator's)
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tokend $(DESTDIR)$(UNITDIR)/tokend.service \
		$(DESTDIR)$(MANDIR)/man8/tokend.8 $(DESTDIR)$(MANDIR)/man5/tokend.conf.5 \
		$(DESTDIR)$(DOCDIR)/README.md $(CONSOLE_FILES:console/%=$(DESTDIR)$(CONSOLEDIR)/%)
	-rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONSOLEDIR) $(dir $(DESTDIR)$(CONSOLEDIR))

# The Debian package: what make install puts under /usr, wrapped by
# deploy/debian/build-deb.sh; the version is the source's (tokend version).
VERSION   := $(shell sed -n 's/^\#define TD_VERSION "\(.*\)"$$/\1/p' include/tokend/api/admin.h)
DEB_ARCH  := $(shell dpkg --print-architecture 2>/dev/null || echo unknown)
DEB       := build/tokend_$(VERSION)_$(DEB_ARCH).deb

deb: deps-build $(DEB)

$(DEB): build/tokend man/tokend.8 man/tokend.conf.5 README.md deploy/tokend.conf \
		deploy/systemd/tokend.service $(wildcard deploy/debian/*) Makefile
	@rm -rf build/deb
	@$(MAKE) --no-print-directory -s install DESTDIR=$(CURDIR)/build/deb PREFIX=/usr \
		UNITDIR=/lib/systemd/system >/dev/null
	@deploy/debian/build-deb.sh build/deb $(VERSION) $@

deps:
	@deploy/install-deps.sh all

deps-build:
	@deploy/install-deps.sh build

deps-run:
	@deploy/install-deps.sh run

deps-test:
	@deploy/install-deps.sh test

deps-bench:
	@deploy/install-deps.sh bench

test-unit: deps-test check-layers $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# the direction of the layers: api/ never includes a store header, core/
# no HTTP or FastCGI header, and only store/ includes hiredis
check-layers:
	@tests/check-layers.sh

# the vendors' official clients, exactly as pinned in the lock file
tests/compat/node_modules/.package-lock.json: tests/compat/package.json tests/compat/package-lock.json
	cd tests/compat && npm ci --no-audit --no-fund --loglevel=error

compat-deps: tests/compat/node_modules/.package-lock.json

# playwright-core as pinned, driving Debian's chromium (no browser download)
tests/browser/node_modules/.package-lock.json: tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

browser-deps: tests/browser/node_modules/.package-lock.json

test-integration: deps-test compat-deps browser-deps build/tokend
	TOKEND_BIN=$(CURDIR)/build/tokend $(PYTEST) -q tests/integration

# The same suite against the sanitizer build; any ASan/UBSan report in a
# worker's stderr fails the test that caused it (see tests/integration/conftest.py).
test-asan: deps-test compat-deps browser-deps build/tokend-asan
	TOKEND_BIN=$(CURDIR)/build/tokend-asan TOKEND_SANITIZED=1 $(PYTEST) -q tests/integration

test: test-unit test-integration test-asan test-fuzz

# not part of make test: nginx, Redis, tokend and the floors under wrk
build/bench-floor: bench/floor.c
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS) -lpthread

bench: deps-bench build/tokend build/bench-floor
	TOKEND_BIN=$(CURDIR)/build/tokend /usr/bin/python3 bench/run.py

run: deps-run build/tokend
	@deploy/run.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
