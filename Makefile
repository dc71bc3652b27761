# hoody-firewall: one Makefile, output in $(BUILD).
#
#   make            build build/agentd and build/hoody
#   make run        install dependencies, build, start the live sandbox
#   make check      install dependencies, run every test (needs root)
#   make check-man  lint the man pages, compare them with --help
#   make check-san-netns  the API's suites against the sanitizer build
#   make check-systemd    systemd-analyze verify and security of the unit
#   make bench      benchmarks; figures go to bench/RESULTS.md
#   make fuzz       every fuzz target, FUZZ_SECONDS each (FUZZ=name: one)
#   make fuzz-replay  every fuzz target over its seeds, once (in make check)
#   make SAN=1 ...  AddressSanitizer + UBSan build (in build/san)

BUILD	?= build
PREFIX	?= /usr/local
SYSTEMD_UNIT_DIR ?= /etc/systemd/system
MANDIR	?= $(PREFIX)/share/man
WERROR	?= -Werror
CFLAGS	?= -O2 -g

ifeq ($(SAN),1)
BUILD	:= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FORTIFY	:=
else
SANFLAGS :=
FORTIFY	:= -D_FORTIFY_SOURCE=2
endif

LIBS_CORE := libmnl libnftnl libnl-3.0 libnl-route-3.0 libcjson libmicrohttpd libcrypto zlib
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(LIBS_CORE) check))
PKG_LIBS := $(shell pkg-config --libs $(LIBS_CORE)) -pthread
CHECK_LIBS := $(shell pkg-config --libs check)
CLI_LIBS := $(shell pkg-config --libs libcurl libcjson)

CPPFLAGS += -D_GNU_SOURCE $(FORTIFY) -I. -DLIBEXECDIR='"$(PREFIX)/libexec/hoody-firewall"'
CFLAGS	+= -std=gnu11 -Wall -Wextra $(WERROR) -Wshadow -Wformat=2 \
	   -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	   -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wvla \
	   -fstack-protector-strong -fPIE $(SANFLAGS) $(PKG_CFLAGS) -MMD -MP
LDFLAGS	+= -pie -Wl,-z,relro,-z,now $(SANFLAGS)

FUZZ_SRC  := $(wildcard */fuzz_*.c)
RULES_SRC := $(filter-out %_test.c $(FUZZ_SRC),$(wildcard rules/*.c))
RESOLVER_SRC := $(filter-out %_test.c $(FUZZ_SRC),$(wildcard resolver/*.c))
NFT_SRC	  := $(filter-out %_test.c $(FUZZ_SRC),$(wildcard nft/*.c))
AGENTD_SRC := $(filter-out %_test.c $(FUZZ_SRC),$(wildcard agentd/*.c api/*.c))
RESOLVERD_SRC := $(wildcard resolverd/*.c)
CLI_SRC	  := tools/hoody.c tools/commands.c tools/http.c tools/print.c
TEST_SRC  := $(wildcard rules/*_test.c nft/*_test.c agentd/*_test.c resolver/*_test.c)
# ldns's pkg-config names no flags but the library, and may not be there before deps
RESOLVER_LIBS := -lldns

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
RULES_OBJ := $(call obj,$(RULES_SRC))
RESOLVER_OBJ := $(call obj,$(RESOLVER_SRC))
NFT_OBJ	  := $(call obj,$(NFT_SRC))
AGENTD_OBJ := $(call obj,$(AGENTD_SRC))
RESOLVERD_OBJ := $(call obj,$(RESOLVERD_SRC))
CLI_OBJ	  := $(call obj,$(CLI_SRC))
TEST_BIN  := $(patsubst %.c,$(BUILD)/tests/%,$(notdir $(TEST_SRC)))

.PHONY: all deps unit check check-unit check-san check-man check-netns check-san-netns check-systemd \
	bench fuzz fuzz-replay \
	run install \
	format format-check clean

all: $(BUILD)/agentd $(BUILD)/hoody $(BUILD)/hoody-resolver

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/agentd: $(AGENTD_OBJ) $(NFT_OBJ) $(RULES_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The resolver parses what containers send: no netlink, no privileges.
$(BUILD)/hoody-resolver: $(RESOLVERD_OBJ) $(RESOLVER_OBJ) $(RULES_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(RESOLVER_LIBS) -lcjson

# The CLI speaks only HTTP: no netlink, no rules/.
$(BUILD)/hoody: $(CLI_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(CLI_LIBS)

# Unit tests: every *_test.c links against the module it sits beside.
$(BUILD)/tests/%_test: $(BUILD)/obj/rules/%_test.o $(RULES_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
$(BUILD)/tests/%_test: $(BUILD)/obj/nft/%_test.o $(NFT_OBJ) $(RULES_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
$(BUILD)/tests/%_test: $(BUILD)/obj/agentd/%_test.o $(BUILD)/obj/agentd/%.o $(RULES_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)
$(BUILD)/tests/%_test: $(BUILD)/obj/resolver/%_test.o $(RESOLVER_OBJ) $(RULES_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(RESOLVER_LIBS) $(PKG_LIBS) $(CHECK_LIBS)

# libFuzzer targets, with ASan and UBSan, for every parser of outside
# input: <module>/fuzz_<name>.c, seeded from tests/fuzz/<name>/ (new
# finds go to build/fuzz/corpus/<name>, not the tree). make fuzz runs
# each for FUZZ_SECONDS (FUZZ=name ... picks some); make fuzz-replay
# runs each seed once, as make check does.
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra $(WERROR) -D_GNU_SOURCE -I. $(PKG_CFLAGS)
FUZZ_LIBS := $(RESOLVER_LIBS) $(PKG_LIBS)
FUZZ_NAMES := $(patsubst fuzz_%.c,%,$(notdir $(FUZZ_SRC)))
FUZZ	?= $(FUZZ_NAMES)
$(BUILD)/fuzz/fuzz_message: resolver/fuzz_message.c $(RESOLVER_SRC) $(RULES_SRC)
$(BUILD)/fuzz/fuzz_json: rules/fuzz_json.c $(RULES_SRC)
$(BUILD)/fuzz/fuzz_store: agentd/fuzz_store.c agentd/store.c $(RULES_SRC)
$(BUILD)/fuzz/fuzz_api: api/fuzz_api.c $(filter api/%,$(AGENTD_SRC)) $(RULES_SRC)
# the kernel's side of the sockets is the fuzzer's (see the target)
$(BUILD)/fuzz/fuzz_netlink: nft/fuzz_netlink.c $(NFT_SRC) $(RULES_SRC)
$(BUILD)/fuzz/fuzz_netlink: FUZZ_LIBS += \
	-Wl,--wrap=mnl_socket_sendto,--wrap=mnl_socket_recvfrom,--wrap=recvmmsg
$(BUILD)/fuzz/fuzz_%: $(wildcard */*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^) $(FUZZ_LIBS)

fuzz: deps $(foreach n,$(FUZZ),$(BUILD)/fuzz/fuzz_$(n))
	@set -e; for n in $(FUZZ); do \
		mkdir -p $(BUILD)/fuzz/corpus/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
		$(BUILD)/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
			-rss_limit_mb=1024 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$n- \
			$(BUILD)/fuzz/corpus/$$n tests/fuzz/$$n; \
	done

fuzz-replay: $(foreach n,$(FUZZ),$(BUILD)/fuzz/fuzz_$(n))
	@set -e; for n in $(FUZZ); do \
		echo "fuzz-replay: $$n ($$(ls tests/fuzz/$$n | wc -l) inputs)"; \
		out=$$($(BUILD)/fuzz/fuzz_$$n -timeout=5 -rss_limit_mb=1024 tests/fuzz/$$n/* 2>&1) || \
			{ printf '%s\n' "$$out"; exit 1; }; \
	done

unit: $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do echo "unit: $$t"; CK_FORK=no $$t; done

deps:
	@tools/install-deps

check: deps
	$(MAKE) format-check
	$(MAKE) all unit
	$(MAKE) SAN=1 unit
	$(MAKE) check-man
	$(MAKE) check-systemd
	$(MAKE) fuzz-replay
	$(MAKE) check-netns
	$(MAKE) check-san-netns

# The man pages: mandoc's lint, and their options against --help.
check-man: all
	mandoc -T lint -W warning docs/man/hoody-agentd.8 docs/man/hoody.1
	tests/man/check $(BUILD)

check-netns: all
	tests/netns/run

# The systemd unit: systemd-analyze verify, and its exposure score held.
check-systemd: all
	tools/systemd/check $(BUILD)

# The suites that make every API call, against the sanitizer build: a
# report stops the daemon (-fno-sanitize-recover), and a leak fails its exit.
SAN_SUITES := 100 120 125 130 150 160 170 180 200 210
check-san-netns:
	$(MAKE) SAN=1 all
	AGENTD=$(CURDIR)/build/san/agentd HOODY=$(CURDIR)/build/san/hoody tests/netns/run $(SAN_SUITES)

$(BUILD)/udprate: bench/udprate.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

bench: deps all $(BUILD)/udprate
	bench/run

run: deps all
	tools/sandbox

install: all
	install -D -m 0755 $(BUILD)/agentd $(DESTDIR)$(PREFIX)/sbin/hoody-agentd
	install -D -m 0755 $(BUILD)/hoody $(DESTDIR)$(PREFIX)/bin/hoody
	install -D -m 0755 $(BUILD)/hoody-resolver \
		$(DESTDIR)$(PREFIX)/libexec/hoody-firewall/hoody-resolver
	install -d $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	sed 's|@PREFIX@|$(PREFIX)|g' tools/systemd/hoody-firewall.service \
		>$(DESTDIR)$(SYSTEMD_UNIT_DIR)/hoody-firewall.service
	install -D -m 0644 docs/man/hoody-agentd.8 $(DESTDIR)$(MANDIR)/man8/hoody-agentd.8
	install -D -m 0644 docs/man/hoody.1 $(DESTDIR)$(MANDIR)/man1/hoody.1

FORMAT_SRC := $(wildcard agentd/*.[ch] nft/*.[ch] rules/*.[ch] resolver/*.[ch] resolverd/*.[ch] api/*.[ch] \
	tools/*.[ch] bench/*.[ch])

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
