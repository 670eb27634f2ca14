# ngx_http_mcp_module — the two set-up commands are `make run` and `make test`.

PORT  ?= 8000
CONF  ?= conf/demo.conf
FUZZ_SECONDS ?= 30
SHELL := /bin/bash

.PHONY: all deps build build-asan run test test-plain test-asan conformance clean bench \
        fuzz

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@scripts/build.sh

build-asan: deps
	@SANITIZE=1 scripts/build.sh

# nginx in the foreground (daemon off, logs on the terminal); Ctrl-C stops it
run: build
	@scripts/run.sh "$(CONF)" "$(PORT)"

# everything the tests need, then the whole suite: plain build, sanitizer
# build, conformance
test: build build-asan
	@scripts/test.sh

conformance: build
	@scripts/conformance.sh

# the libFuzzer targets of t/fuzz/ (clang, ASan, UBSan), FUZZ_SECONDS each;
# make test runs them for 30 seconds
fuzz: deps
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

clean:
	rm -rf build

# benchmarks (not tests): the module against nginx's ceiling and the TypeScript
# SDK server, about 8 minutes; docs/PERFORMANCE.md
bench: build
	@bench/run.sh
