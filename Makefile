# Makefile - thin wrapper over CMake: make | make test | make demo | make demo-c | make package | make bench | make fuzz | make clean
SHARED ?= ../shared
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
FUZZ_CC ?= $(shell command -v clang-19 || command -v clang)
CMAKE ?= cmake
MAKEFLAGS += --no-print-directory

SPEC_JSON = $(SHARED)/spec/wasm-2.0/json
SHARED_ABS = $(abspath $(SHARED))

# $(call configure,DIR,BUILD_TYPE,EXTRA_CMAKE_ARGS)
configure = $(CMAKE) -S . -B $(1) -DCMAKE_BUILD_TYPE=$(2) -DKILN_SHARED_DIR=$(SHARED_ABS) $(3)

.PHONY: all build deps test demo demo-c bench fuzz clean package

all: build

deps:
	@bash scripts/deps.sh

build: deps
	$(call configure,build,Release,)
	$(CMAKE) --build build -j $(JOBS)

# Release build, then a sanitizer build that keeps assert()s (no -DNDEBUG); tests run in both.
test: deps
	$(call configure,build,Release,)
	$(call configure,build-asan,RelWithDebInfo,-DKILN_SANITIZE=ON "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O2 -g")
	$(CMAKE) --build build -j $(JOBS)
	$(CMAKE) --build build-asan -j $(JOBS)
	ctest --test-dir build --output-on-failure -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j $(JOBS)
	@if [ ! -d "$(SHARED)/spec" ]; then \
	  echo "spec suite absent ($(SHARED)/spec not found): skipping the spec run"; \
	else \
	  for dir in build build-asan; do \
	    if [ ! -x $$dir/spec_runner ]; then \
	      echo "$$dir/spec_runner not built (no tests/spec/spec_runner.c yet): skipping"; \
	      continue; \
	    fi; \
	    for tier in interp compiled auto auto-osr auto-never; do \
	      echo "== $$dir/spec_runner --tier=$$tier $(SPEC_JSON)"; \
	      $$dir/spec_runner --tier=$$tier $(SPEC_JSON) || exit 1; \
	    done; \
	  done; \
	fi

demo: build
	@if [ -f bindings/node/build/kiln.node ]; then \
	  node examples/offload/demo.mjs; \
	else \
	  echo "make demo needs the Node.js addon, which was not built: Node-API headers not found in /usr/include/node" >&2; \
	  exit 1; \
	fi

# The npm package kiln as a tarball ready to publish (scripts/package.mjs): build/package/kiln-VERSION.tgz,
# with the addon and the CLI prebuilt for linux-x64 (glibc) and the sources for a build elsewhere.
package: build
	node scripts/package.mjs --build-dir build --out build/package

# The C embedding demo (examples/embed/embed.c): kiln.h from C.
demo-c: build
	build/kiln-embed-demo

# Benchmarks (bench/README.md): the C kernels of bench/kernels/ natively (gcc, clang) and as
# WASI commands on kiln, on V8 and on the peers of $KILN_BENCH_PEERS, then start-up, the cost
# of the interrupt and fuel checks, and bench/micro.c. Builds in build-bench/ (never build/);
# the report goes to stdout and bench/results/latest.{md,csv,svg,png}. QUICK=1: n about 10x
# smaller. BENCH_ARGS passes more options to bench/bench.py (e.g. BENCH_ARGS="--kernels fib,lz").
bench: build
	@bash scripts/deps.sh --bench
	bash bench/build.sh build-bench
	python3 bench/bench.py --build-dir build-bench $(if $(filter-out 0,$(QUICK)),--quick) $(BENCH_ARGS) \
	  --command "make bench$(if $(QUICK), QUICK=$(QUICK))$(if $(BENCH_ARGS), BENCH_ARGS=\"$(BENCH_ARGS)\")"
	@echo "== time to speed: the first seconds of a long run in each tier (bench/time_to_speed.py)"
	python3 bench/time_to_speed.py build-bench/kiln/kiln $(if $(filter-out 0,$(QUICK)),--quick) \
	  --command "make bench$(if $(QUICK), QUICK=$(QUICK))"
	@echo "== a large real program (yosys from npm, 30.8 MB of wasm): start-up and memory, kiln vs Node (bench/large_module.py)"
	python3 bench/large_module.py build-bench/kiln/kiln --work build-bench/large $(if $(filter-out 0,$(QUICK)),-n 3) \
	  --out bench/results/large.md
	@echo "== Node.js: calls into kiln from JavaScript (bench/node_bench.mjs)"
	node bench/node_bench.mjs $(if $(filter-out 0,$(QUICK)),--quick) | tee bench/results/node.txt
	@echo "== say(\"world\"): kiln's generated glue vs V8's WebAssembly (same steps) vs plain JavaScript"
	KILN=$(CURDIR)/build/kiln node bench/say_bench.mjs $(if $(filter-out 0,$(QUICK)),--quick) | tee bench/results/say.txt
	@echo "== examples/image: kiln vs V8's WebAssembly (same glue) vs pure JavaScript"
	KILN=$(CURDIR)/build/kiln node examples/image/bench.mjs $(if $(filter-out 0,$(QUICK)),--quick) | tee bench/results/image.txt
	@echo "== examples/crates: Rust crates (sha2, miniz_oxide, pulldown-cmark, serde_json, regex) on kiln vs V8's WebAssembly vs Node's own"
	KILN=$(CURDIR)/build/kiln node examples/crates/bench.mjs $(if $(filter-out 0,$(QUICK)),--quick) | tee bench/results/crates.txt
	@echo "== examples/ocr: reading text in pictures, the Rust guest on kiln (WASI-NN) vs the same pipeline in Node (onnxruntime-node)"
	KILN=$(CURDIR)/build/kiln node examples/ocr/bench.mjs $(if $(filter-out 0,$(QUICK)),--quick) | tee bench/results/ocr.txt

# libFuzzer targets (fuzz/NAME.c -> build-fuzz/NAME), each run FUZZ_SECONDS on build-fuzz/corpus-NAME
# with fuzz/NAME.dict (or fuzz/wasm.dict when it has none). fuzz_diff (compiled tier against
# interpreter; built with the LLVM tier only) starts from valid modules that
# scripts/diff_fuzz.sh makes with wasm-opt -ttf when its corpus is empty.
fuzz: deps
	@if [ -z "$(FUZZ_CC)" ]; then echo "make fuzz needs clang-19 or clang" >&2; exit 1; fi
	$(call configure,build-fuzz,RelWithDebInfo,-DKILN_FUZZ=ON -DCMAKE_C_COMPILER=$(FUZZ_CC) "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g")
	$(CMAKE) --build build-fuzz -j $(JOBS)
	@set -e; found=0; \
	for source in fuzz/*.c; do \
	  [ -f "$$source" ] || continue; \
	  found=1; name=$$(basename "$$source" .c); \
	  if [ ! -x build-fuzz/$$name ]; then echo "== $$name not built (fuzz_diff needs the LLVM tier): skipping"; continue; fi; \
	  dict=fuzz/$$name.dict; [ -f "$$dict" ] || dict=fuzz/wasm.dict; \
	  mkdir -p build-fuzz/corpus-$$name; rss=2048; \
	  if [ $$name = fuzz_diff ]; then \
	    rss=4096; \
	    if [ -z "$$(ls -A build-fuzz/corpus-$$name)" ] && command -v wasm-opt >/dev/null; then \
	      echo "== seeding build-fuzz/corpus-$$name with wasm-opt -ttf modules"; \
	      bash scripts/diff_fuzz.sh seeds build-fuzz/corpus-$$name 100; \
	    fi; \
	  fi; \
	  echo "== fuzzing $$name for $(FUZZ_SECONDS)s"; \
	  build-fuzz/$$name -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-fuzz/$$name- -dict=$$dict -max_len=65536 -rss_limit_mb=$$rss -timeout=10 \
	    build-fuzz/corpus-$$name; \
	done; \
	if [ $$found -eq 0 ]; then echo "no fuzz targets yet (fuzz/*.c)"; fi

clean:
	rm -rf build build-asan build-fuzz
