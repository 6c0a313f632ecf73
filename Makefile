# pidbox: one non-recursive Makefile.
#   make            build pidboxd and pidboxctl (into ./build)
#   make check      build and run every test; ends "tests: N passed, N failed"
#   make check-asan the same under AddressSanitizer + UBSan (./build-asan)
#   make check-valgrind  the same with the daemons under valgrind
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
B		?= build

PKGS	 = hiredis json-c yaml-0.1 libbsd-overlay libpcre2-8
WARN	 = -std=gnu11 -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
	   -Wundef -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wwrite-strings -Wcast-qual -Wvla \
	   -Wimplicit-fallthrough -Wbad-function-cast \
	   -Wdeclaration-after-statement -Werror
OPT	?= -O2 -g
HARDEN	?= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDLD	?= -pie -Wl,-z,relro,-z,now
PKGCFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) | sed 's/-I\//-isystem \//g')
PKGLIBS	  := $(shell $(PKG_CONFIG) --libs $(PKGS))
ALLCFLAGS = -D_GNU_SOURCE $(WARN) $(OPT) $(HARDEN) $(PKGCFLAGS) -Icommon -MMD -MP $(CFLAGS)
ALLLDFLAGS = $(HARDLD) $(LDFLAGS)
LIBS	 = $(PKGLIBS) -lresolv -lm

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

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) -Idaemon -Icli -c -o $@ $<

$(B)/libpidbox.a: $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $(COMMON_OBJ)

$(B)/pidboxd: $(DAEMON_OBJ) $(B)/libpidbox.a
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $(DAEMON_OBJ) $(B)/libpidbox.a $(LIBS)

$(B)/pidboxctl: $(CLI_OBJ) $(B)/libpidbox.a
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $(CLI_OBJ) $(B)/libpidbox.a $(LIBS)

$(B)/tests/%: $(B)/tests/unit/%.o $(DAEMON_LIB) $(B)/libpidbox.a
	@mkdir -p $(@D)
	$(CC) $(ALLCFLAGS) $(ALLLDFLAGS) -o $@ $< $(DAEMON_LIB) $(B)/libpidbox.a $(LIBS) -lcmocka

units: $(UNIT_BIN)

# The whole suite: unit tests, integration against a private redis-server,
# interop with real kombu/Celery. TEST_PREFIX wraps the daemons (valgrind).
check:
	@tests/deps.sh
	@$(MAKE) --no-print-directory all units
	BUILD=$(B) tests/run

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
	install -m 0644 systemd/pidboxd.service $(DESTDIR)$(UNITDIR)/pidboxd.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/pidboxd $(DESTDIR)$(BINDIR)/pidboxctl \
	    $(DESTDIR)$(UNITDIR)/pidboxd.service

clean:
	rm -rf build build-asan build-vg build-clang

.PHONY: all units check check-asan check-valgrind run demo deps install uninstall clean

-include $(wildcard $(B)/*/*.d $(B)/tests/unit/*.d)
