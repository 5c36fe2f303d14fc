# furrow: one plain Makefile for every stage.
#
#   make              build bin/collector, bin/enrich, bin/es-sink, bin/s3-sink, bin/inspect,
#                     bin/pg-sink
#   make test         unit (Check) + integration tests; ends with "N passed, N failed"
#   make sanitize     the same tests on an ASan+UBSan build (in build/san)
#   make check        install what the tests need, then build with -Werror, test, sanitize
#   make run          install build dependencies, build, start the pipeline on its default
#   make fuzz         build and run the libFuzzer targets for FUZZ_SECONDS each
#   make install      PREFIX=/usr/local DESTDIR=
#
# Sources are found by wildcard: a stage is a folder with a main.c; its other .c files form a
# private library that the unit tests link against. common/*.c is libfurrow.a.

VERSION   = 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
BUILD    ?= build
BIN      ?= bin
WERROR   ?= 0
CFLAGS   ?= -O2 -g
LDFLAGS  ?=

PKGS      = libevent jansson libcurl zlib libpcre2-8 yaml-0.1 libmaxminddb libcrypto libssl libpq rdkafka
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)

WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
ifeq ($(WERROR),1)
WARN += -Werror
endif

ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DFURROW_VERSION=\"$(VERSION)\" $(WARN) $(CFLAGS) \
             -Icommon $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) -Wl,--as-needed

STAGES := $(patsubst %/main.c,%,$(wildcard collector/main.c enrich/main.c es-sink/main.c s3-sink/main.c \
                                          iglu-server/main.c inspect/main.c pg-sink/main.c))

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
LIBFURROW  := $(BUILD)/libfurrow.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

STAGE_BINS := $(STAGES:%=$(BIN)/%)

all: $(STAGE_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBFURROW): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# Duktape (the JavaScript enrichment): Debian's duktape-dev ships the amalgamated source, built
# here with the execution-timeout hook (DUK_USE_EXEC_TIMEOUT_CHECK, which its shared library
# lacks) so that a runaway script ends as a bad row. The hook is enr_javascript.c's.
DUK_SRC ?= /usr/share/duktape
DUK_OBJ := $(BUILD)/duktape/duktape.o
$(DUK_OBJ): $(DUK_SRC)/duktape.c $(DUK_SRC)/duk_config.h
	@mkdir -p $(dir $@)
	cp $(DUK_SRC)/duktape.c $(DUK_SRC)/duktape.h $(dir $@)
	sed -e 's|^#undef DUK_USE_EXEC_TIMEOUT_CHECK$$|#define DUK_USE_EXEC_TIMEOUT_CHECK(u) enr_js_timeout_check(u)\nint enr_js_timeout_check(void *);|' \
	    -e 's|^#undef DUK_USE_INTERRUPT_COUNTER$$|#define DUK_USE_INTERRUPT_COUNTER|' \
	    -e 's|^#undef DUK_USE_JSON_STRINGIFY_FASTPATH$$|#define DUK_USE_JSON_STRINGIFY_FASTPATH|' \
	    $(DUK_SRC)/duk_config.h >$(dir $@)duk_config.h
	grep -q enr_js_timeout_check $(dir $@)duk_config.h
	$(CC) -std=c99 -O3 -g -w -c $(dir $@)duktape.c -o $@
enrich_EXTRA_OBJ := $(DUK_OBJ)

# One block per stage: lib<stage>.a from its modules, bin/<stage> from main.c.
define stage_rules
$(1)_MOD_OBJ := $$(patsubst %.c,$(BUILD)/%.o,$$(filter-out $(1)/main.c,$$(wildcard $(1)/*.c))) \
    $$($(1)_EXTRA_OBJ)
$(BUILD)/lib$(1).a: $$($(1)_MOD_OBJ) $(BUILD)/empty.o
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
$(BIN)/$(1): $(BUILD)/$(1)/main.o $(BUILD)/lib$(1).a $(LIBFURROW)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) $$(ALL_LDFLAGS) -o $$@ $$^ $$(PKG_LIBS)
endef
$(foreach s,$(STAGES),$(eval $(call stage_rules,$(s))))

# An empty object so that a stage with only main.c still has a valid archive.
$(BUILD)/empty.o:
	@mkdir -p $(dir $@)
	echo 'typedef int furrow_empty_unit;' | $(CC) -x c -c - -o $@

STAGE_LIBS := $(STAGES:%=$(BUILD)/lib%.a)

$(BUILD)/tests/%: tests/unit/%.c $(STAGE_LIBS) $(LIBFURROW)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< \
	    $(STAGE_LIBS) $(LIBFURROW) $(CHECK_LIBS) $(PKG_LIBS)

unit: $(UNIT_BIN)

test: all unit
	FURROW_BIN=$(abspath $(BIN)) FURROW_UNIT=$(abspath $(BUILD)/tests) \
	    bash tests/run.sh $(UNIT_BIN) $(sort $(wildcard tests/integration/*.sh)) $(TEST_EXTRA)

# The whole suite on an AddressSanitizer + UndefinedBehaviorSanitizer build.
SAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# The kill -9 tests kill each stage 3 times instead of 10 there: the first pass shows the
# reconciliation over 10 kills; this one looks for memory errors on the restart paths.
sanitize:
	$(MAKE) BUILD=build/san BIN=build/san/bin CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
	    WERROR=$(WERROR) FURROW_SANITIZED=1 FURROW_TEST_KILLS=3 test

# Dependencies: build-only (deps) or everything the test suite needs (test-deps).
deps:
	sh tests/install-deps.sh build
test-deps:
	sh tests/install-deps.sh test

# The README's second command: everything needed, a -Werror build, the tests, the sanitizers.
# The builds use every core; tests/run.sh runs the tests FURROW_TEST_JOBS at a time.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
check: test-deps
	$(MAKE) -j$(JOBS) WERROR=1 all unit
	$(MAKE) WERROR=1 test TEST_EXTRA="$(sort $(wildcard tests/e2e/*.sh))"
	$(MAKE) -j$(JOBS) WERROR=1 sanitize

# The README's first command. The launcher is a bash script (/bin/sh is dash on Debian), and
# make runs this line without a shell, so Ctrl-C reaches make and the launcher, which stops the
# pipeline in order; make waits for it.
run: deps
	$(MAKE) all
	bash fifo-setup.sh start

# libFuzzer targets: tests/fuzz/fuzz_<name>.c, built with clang.
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
fuzz:
	$(MAKE) BUILD=build/fuzz BIN=build/fuzz/bin CC=clang \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" fuzz-build
	sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_SRC:tests/fuzz/%.c=%)
fuzz-build: $(STAGE_LIBS) $(LIBFURROW)
	@mkdir -p $(BUILD)/fuzzers
	for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	    $(CC) $(ALL_CFLAGS) -fsanitize=fuzzer,address,undefined -o $(BUILD)/fuzzers/$$n $$f \
	        $(STAGE_LIBS) $(LIBFURROW) $(PKG_LIBS) || exit 1; done

# The launcher keeps its name (fifo-setup.sh(1)) and finds the stages beside it and its data in
# $(PREFIX)/share/furrow.
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man7 $(DESTDIR)$(PREFIX)/share/furrow
	install -m 755 $(STAGE_BINS) $(DESTDIR)$(PREFIX)/bin/
	for m in man/*.1; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done; true
	for m in man/*.7; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man7/; done; true
	install -m 755 fifo-setup.sh $(DESTDIR)$(PREFIX)/bin/fifo-setup.sh
	cp -R schemas systemd $(DESTDIR)$(PREFIX)/share/furrow/
	install -d $(DESTDIR)$(PREFIX)/share/furrow/ui
	install -m 644 inspect/ui/* $(DESTDIR)$(PREFIX)/share/furrow/ui/
	[ ! -d enrichments ] || cp -R enrichments $(DESTDIR)$(PREFIX)/share/furrow/

clean:
	rm -rf build bin

.PHONY: all unit test sanitize deps test-deps check run fuzz fuzz-build install clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
