# pidbox: one non-recursive Makefile.
#   make            build pidboxd and pidboxctl (into ./build)
#   make check      build and run every test; ends "tests: N passed, N failed"
#   make check-asan the same under AddressSanitizer + UBSan (./build-asan)
#   make check-valgrind  the same with the daemons under valgrind
#   make check-systemd  the .deb under a real systemd (systemd-nspawn)
#   make check-peers  the interop tests against ../shared/peers' kombu/Celery
#   make run        build, start redis if needed, run pidboxd, ping it
#   make install DESTDIR= PREFIX=
.SUFFIXES:

CC		?= cc
PKG_CONFIG	?= pkg-config
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
SYSCONFDIR	?= /etc
UNITDIR		?= /lib/systemd/system
COMPLETIONDIR	?= $(PREFIX)/share/bash-completion/completions
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
DOCDIR		?= $(PREFIX)/share/doc/pidbox
B		?= build

PKGS	 = hiredis json-c yaml-0.1 libbsd-overlay libpcre2-8
# libcrypto: headers only; common/sign.c dlopen()s it when signing is used
CRYPTO_PKG = libcrypto
WARN	 = -std=gnu11 -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
	   -Wundef -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wwrite-strings -Wcast-qual -Wvla \
	   -Wimplicit-fallthrough -Wbad-function-cast \
	   -Wdeclaration-after-statement -Werror
OPT	?= -O2 -g
HARDEN	?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDLD	?= -pie -Wl,-z,relro,-z,now
PKGCFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) $(CRYPTO_PKG) | sed 's/-I\//-isystem \//g')
PKGLIBS	  := $(shell $(PKG_CONFIG) --libs $(PKGS))
ALLCFLAGS = -D_GNU_SOURCE $(WARN) $(OPT) $(HARDEN) $(PKGCFLAGS) -Icommon -MMD -MP $(CFLAGS)
ALLLDFLAGS = $(HARDLD) $(LDFLAGS)
LIBS	 = $(PKGLIBS) -lresolv -lm
# pidboxctl and pidboxd link only what every run uses: libyaml (-c,
# --yaml, the daemon's config) and libpcre2 (--matcher pcre, argument
# schemas with a regex) are dlopen()ed on first use (common/yamllib.c,
# common/match.c): less loading and relocation at start-up, and a node
# that never needs libpcre2 does not map it (debian/control names both,
# which dpkg-shlibdeps cannot see).
CLI_PKGS = hiredis json-c libbsd-overlay
CLI_LIBS := $(shell $(PKG_CONFIG) --libs $(CLI_PKGS)) -lresolv -lm
DAEMON_LIBS = $(CLI_LIBS)

COMMON_SRC := $(sort $(wildcard common/*.c))
DAEMON_SRC := $(sort $(wildcard daemon/*.c))
CLI_SRC	   := $(sort $(wildcard cli/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/t_*.c))

COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(B)/%.o)
CLI_OBJ	   := $(CLI_SRC:%.c=$(B)/%.o)
# daemon objects minus main(), for unit tests of node logic
DAEMON_LIB := $(filter-out $(B)/daemon/pidboxd.o,$(DAEMON_OBJ))
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

all: $(B)/pidboxd $(B)/pidboxctl

# Include paths by directory: common/ sees only itself, daemon/ and cli/
# see common/ and themselves, a unit test what it tests; a wrong-way
# include does not build.
$(B)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(B)/daemon/%.o: daemon/%.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Idaemon -c -o $@ $<

$(B)/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Icli -c -o $@ $<

$(B)/libpidbox.a: $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $(COMMON_OBJ)

$(B)/pidboxd: $(DAEMON_OBJ) $(B)/libpidbox.a
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $(DAEMON_OBJ) $(B)/libpidbox.a $(DAEMON_LIBS)

$(B)/pidboxctl: $(CLI_OBJ) $(B)/libpidbox.a
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $(CLI_OBJ) $(B)/libpidbox.a $(CLI_LIBS)

# Unit tests: each links libpidbox.a and only the objects it tests
# (UNIT_DEPS_t_x), and sees the headers of their directory (UNIT_INC_t_x);
# a test of common/ code sees common/ alone.
D		 = $(B)/daemon
NODE_DEPS	 = $(D)/atomic.o $(D)/node.o $(D)/registry.o $(D)/handlers.o $(D)/celery.o \
		   $(D)/schema.o $(D)/exec.o $(D)/loop.o $(D)/audit.o \
		   $(D)/policy.o $(D)/nonce.o $(D)/replies.o $(D)/service.o \
		   $(D)/mailbox_in.o $(D)/health.o $(D)/link.o $(D)/events.o \
		   $(D)/config.o $(D)/conftab.o $(D)/methods_conf.o $(D)/state.o \
		   $(D)/twin.o $(D)/inventory.o $(D)/results.o $(D)/metrics.o
UNIT_DEPS_t_node	= $(NODE_DEPS)
UNIT_DEPS_t_sdnotify	= $(D)/sdnotify.o $(D)/loop.o
UNIT_DEPS_t_config	= $(NODE_DEPS)
UNIT_DEPS_t_audit	= $(D)/audit.o
UNIT_DEPS_t_policy	= $(D)/policy.o
UNIT_DEPS_t_nonce	= $(D)/nonce.o $(D)/atomic.o
UNIT_DEPS_t_atomic	= $(D)/atomic.o
UNIT_DEPS_t_schema	= $(D)/schema.o
# The CLI's parser and command table (t_cliargs stubs the table's exec
# functions).
UNIT_DEPS_t_cliargs	= $(B)/cli/args.o $(B)/cli/cmd.o
UNIT_DEPS_t_verscmp	= $(B)/cli/verscmp.o
DAEMON_TESTS	 = t_node t_sdnotify t_config t_audit t_policy t_nonce t_schema \
		   t_atomic
$(foreach t,$(DAEMON_TESTS),$(eval UNIT_INC_$(t) = -Idaemon))
UNIT_INC_t_cliargs	= -Icli
UNIT_INC_t_verscmp	= -Icli

$(B)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(UNIT_INC_$*) -c -o $@ $<

# The load generator and the fuzz targets: common/ only, but the config
# target, which drives daemon/config.c.
$(B)/tests/bench/%.o: tests/bench/%.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -c -o $@ $<

$(B)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(if $(filter fuzz_config,$*),-Idaemon) -c -o $@ $<

.SECONDEXPANSION:
$(B)/tests/%: $(B)/tests/unit/%.o $$(sort $$(UNIT_DEPS_$$*)) $(B)/libpidbox.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(sort $(UNIT_DEPS_$*)) \
	    $(B)/libpidbox.a $(LIBS) -lcmocka

units: $(UNIT_BIN)

# The whole suite: unit tests, integration against a private redis-server,
# interop with real kombu/Celery. TEST_PREFIX wraps the daemons (valgrind).
check:
	@tests/deps.sh
	@$(MAKE) --no-print-directory all units
	BUILD=$(B) tests/run

# The interop tests (tests/interop, and the integration tests that run a
# kombu or Celery peer) with the kombu 5.6 / Celery 5.6 release sources of
# ../shared/peers as the Python peers (PEERS=kombu56, see tests/lib.sh);
# `make check` runs them with Debian's kombu 5.2 / Celery 5.2.
PEER_TESTS = interop/ integration/85-ctl-config integration/87-signing \
	     integration/95-tty integration/96-clock-poison \
	     integration/94-sentinel integration/97-reply-routing
check-peers:
	@tests/deps.sh
	@$(MAKE) --no-print-directory all units
	PEERS=kombu56 BUILD=$(B) tests/run $(PEER_TESTS)

# The service's life under a real systemd 252 (tests/systemd): a bookworm
# tree debootstrapped once into $(B)/systemd-test, booted with
# systemd-nspawn, the .deb of `make deb B=build-deb` installed in it.
check-systemd:
	@tests/deps.sh --systemd
	@$(MAKE) --no-print-directory deb B=build-deb
	SUITES=systemd TEST_TIMEOUT=1200 BUILD=$(B) \
	    PIDBOX_DEB="$$(ls build-deb/deb/pidbox_*.deb | head -n 1)" tests/run systemd/

check-asan:
	$(MAKE) B=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    HARDEN= HARDLD="-fsanitize=address,undefined" check

check-valgrind:
	@tests/deps.sh
	$(MAKE) B=build-vg OPT="-O1 -g" HARDEN= HARDLD= all units
	BUILD=build-vg TEST_PREFIX="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --track-origins=yes" tests/run

run:
	@tests/deps.sh
	@$(MAKE) --no-print-directory all
	tests/demo.sh run

demo:
	@tests/deps.sh
	@$(MAKE) --no-print-directory all
	tests/demo.sh demo

deps:
	tests/deps.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)/pidbox
	install -m 0755 $(B)/pidboxd $(DESTDIR)$(SBINDIR)/pidboxd
	install -m 0755 $(B)/pidboxctl $(DESTDIR)$(BINDIR)/pidboxctl
	[ -e $(DESTDIR)$(SYSCONFDIR)/pidbox/pidboxd.yaml ] || \
	    install -m 0640 conf/pidboxd.yaml $(DESTDIR)$(SYSCONFDIR)/pidbox/pidboxd.yaml
	install -d $(DESTDIR)$(UNITDIR)
	@mkdir -p $(B)/systemd
	for u in $(UNITS); do \
	    sed -e 's|/usr/sbin/pidboxd|$(SBINDIR)/pidboxd|g' \
	        -e 's|/etc/pidbox/|$(SYSCONFDIR)/pidbox/|g' \
	        -e 's|/etc/default/|$(SYSCONFDIR)/default/|g' \
	        systemd/$$u >$(B)/systemd/$$u && \
	    install -m 0644 $(B)/systemd/$$u $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR) \
	    $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 docs/pidboxctl.1 $(DESTDIR)$(MANDIR)/man1/pidboxctl.1
	install -m 0644 docs/pidboxd.yaml.5 $(DESTDIR)$(MANDIR)/man5/pidboxd.yaml.5
	install -m 0644 docs/pidboxd.8 $(DESTDIR)$(MANDIR)/man8/pidboxd.8
	install -m 0644 completion/pidboxctl.bash $(DESTDIR)$(COMPLETIONDIR)/pidboxctl
	install -m 0644 systemd/pidbox.sysusers $(DESTDIR)$(SYSUSERSDIR)/pidbox.conf
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 systemd/diagnostics.conf $(DESTDIR)$(DOCDIR)/examples/diagnostics.conf
	@if [ -z "$(DESTDIR)" ] && getent group pidbox >/dev/null; then \
	    chgrp pidbox $(SYSCONFDIR)/pidbox/pidboxd.yaml; \
	else \
	    echo "install: create the pidbox user (systemd-sysusers), then" \
	        "chgrp pidbox $(SYSCONFDIR)/pidbox/pidboxd.yaml"; \
	fi

# The units name the Debian paths; install rewrites them to ours.
UNITS = pidboxd.service pidboxd@.service

# Leaves the configuration in $(SYSCONFDIR)/pidbox, as dpkg's remove does.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pidboxd $(DESTDIR)$(BINDIR)/pidboxctl \
	    $(UNITS:%=$(DESTDIR)$(UNITDIR)/%) \
	    $(DESTDIR)$(MANDIR)/man1/pidboxctl.1 \
	    $(DESTDIR)$(MANDIR)/man5/pidboxd.yaml.5 \
	    $(DESTDIR)$(MANDIR)/man8/pidboxd.8 \
	    $(DESTDIR)$(COMPLETIONDIR)/pidboxctl \
	    $(DESTDIR)$(SYSUSERSDIR)/pidbox.conf \
	    $(DESTDIR)$(DOCDIR)/examples/diagnostics.conf

# The Debian package (issue 7), built from a copy of the tree in $(B)/deb
# and checked with lintian; the .deb is left in $(B)/deb.
DEB_DIR = $(B)/deb/pidbox-$(shell sed -n 's/^\#define PIDBOX_VERSION "\(.*\)"/\1/p' common/pidbox.h)
deb:
	rm -rf $(B)/deb
	mkdir -p $(DEB_DIR)
	{ git ls-files --cached --others --exclude-standard 2>/dev/null || \
	    find . -path ./.git -prune -o -path './build*' -prune -o -type f -print; } | \
	    while read -r f; do [ -f "$$f" ] && echo "$$f"; done | \
	    tar -cf - -T - | tar -xf - -C $(DEB_DIR)
	cd $(DEB_DIR) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u B \
	    dpkg-buildpackage -us -uc -b
	lintian --fail-on error --info $(B)/deb/*.changes

# Man pages: mandoc -Tlint clean (make check runs tests/integration/92).
lint-man:
	mandoc -Tlint -Wwarning docs/pidboxd.8 docs/pidboxctl.1 docs/pidboxd.yaml.5

# Benchmarks side by side with kombu/Celery (tests/bench/run.sh; issue 6).
# Builds its own -O2 copies in build-bench; BENCH_QUICK=1 for a short run.
$(B)/loadgen: $(B)/tests/bench/loadgen.o $(B)/libpidbox.a
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(B)/libpidbox.a $(LIBS)

# A few minutes of garbage and valid requests against pidboxd under
# valgrind (SOAK_SECONDS, default 180): no error, no leak, no growth.
soak: all
	BUILD=$(B) tests/soak.sh

bench:
	@$(MAKE) --no-print-directory B=build-bench OPT="-O2 -g" \
	    build-bench/pidboxd build-bench/pidboxctl build-bench/loadgen
	BUILD=build-bench tests/bench/run.sh

# libFuzzer targets (tests/fuzz; issue 5): our objects rebuilt by clang with
# the fuzzer's coverage plus ASan/UBSan in $(FUZZ_B); FUZZ_TIME seconds each.
FUZZ_B		?= build-fuzz
FUZZ_TIME	?= 60
FUZZ_TARGETS	 = envelope request url kv config
FUZZ_OPT	 = -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
		   -fno-sanitize-recover=all -fno-omit-frame-pointer

FUZZ_DEPS_config = $(DAEMON_LIB)

$(B)/fuzz/fuzz_%: $(B)/tests/fuzz/fuzz_%.o $$(FUZZ_DEPS_$$*) $(B)/libpidbox.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
	    $(FUZZ_DEPS_$*) $(B)/libpidbox.a $(LIBS)

fuzz-build:
	@$(MAKE) --no-print-directory B=$(FUZZ_B) CC=clang OPT="$(FUZZ_OPT)" \
	    HARDEN= HARDLD= $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz/fuzz_%)

fuzz: fuzz-build
	tests/fuzz/run $(FUZZ_B) $(FUZZ_TIME) $(FUZZ_TARGETS)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=10

clean:
	rm -rf build build-asan build-vg build-clang build-fuzz

.PHONY: soak all units check check-systemd check-peers check-asan check-valgrind run demo deps install uninstall clean deb lint-man bench fuzz fuzz-build fuzz-smoke

-include $(wildcard $(B)/*/*.d $(B)/tests/unit/*.d $(B)/tests/fuzz/*.d \
    $(B)/tests/bench/*.d)
