# FPGACluster: build, demo, tests, benchmark, docs and formatting.
#
#   make demo         compress a 256 MiB sample on simulated FPGAs and check it with gzip
#   make test         run the tests (all but the 1 GiB stream test), under a watchdog
#   make test-stress  the same while stress-ng --cpu 2 loads both cores
#   make test-stream  run the 1 GiB stream test
#   make test-observability  Prometheus, Chromium and tmux against workers during real jobs
#   make test-slurm   the Slurm batch script of Samples/Deploy on a real single-node Slurm (root)
#   make fuzz         a million seeded frames through the connections' frame decoder
#   make bench        compare fpga-compress with gzip, pigz and igzip on a 1 GiB input, and fpga-compress -d
#                     with igzip -d (a foreign single-member file and its own file, medians of 5), then
#                     the pipeline's ceiling (bench-pipeline), every figure as a ratio to its peer
#   make bench-pipeline  EchoJob (no work) through an embedded cluster against memcpy and 4 GB/s, and
#                     through two loopback workers against iperf3 --bidir
#   make bench-transport  measure remote workers on loopback against iperf3 and a local run
#   make bench-cnv    the CNV-W1A1 engine's images/s on 1 and 2 threads, every kernel variant
#   make brevitas-parity  check the Brevitas converter and fpga-classify against Brevitas (a CPU torch in
#                         .build/brevitas-venv)
#   make bench-brevitas   Brevitas CNV-W1A1 images/s at batch 1, 32 and 256 on 2 threads
#   make bench-classify   fpga-classify --local 2 against Brevitas on the same model and images, and the
#                         fixed cost of 100 images through two remote workers
#   make docs         build the DocC site into DocsSite/.build/site
#   make check-links  check that release fpga-compress links no CoreFoundation, ICU or
#                     FoundationInternationalization and loads no libstdc++.so (each would cost
#                     every run ~0.5-1 ms of start-up)
#   make format       format the Swift sources in place
#   make lint         check the Swift sources against .swift-format
#
# Every target that builds first installs the Debian packages it needs, when missing.

SWIFT ?= swift
PYTHON ?= python3
# Set SCRATCH_PATH to build somewhere other than .build (passed as --scratch-path).
SCRATCH_PATH ?=
SWIFTPM_FLAGS := $(if $(SCRATCH_PATH),--scratch-path $(SCRATCH_PATH))
# Release binaries carry the Swift runtime and Foundation inside them: they run on hosts
# without a Swift toolchain (worker hosts need only the Debian libraries) and start about
# 10 ms sooner. fpga-compress carries FoundationEssentials only (see check-links). Every release build uses the same flags, so none rebuilds another's work.
RELEASE_FLAGS := -c release --static-swift-stdlib
BUILD_DIR := $(or $(SCRATCH_PATH),.build)

# Debian packages the build and the tests need (curl: the tests of the metrics endpoints; slurm-client: scontrol,
# the reference for Slurm host lists; dnsmasq-base: a real DNS server for `--workers dns:`; systemd and
# python3-yaml: systemd-analyze and a YAML parser for the deployment samples), and those only the benchmark needs.
DEPS_PACKAGES := zlib1g-dev libisal-dev libuv1-dev libc-ares-dev libxrt-dev pkg-config gzip python3 iproute2 curl \
	slurm-client dnsmasq-base systemd python3-yaml
BENCH_PACKAGES := pigz isal time iperf3
STRESS_PACKAGES := stress-ng
BENCH_TRANSPORT_PACKAGES := iperf3 time
# The real programs the observability tests start: a Prometheus server, a headless browser, a terminal.
OBSERVABILITY_PACKAGES := prometheus chromium tmux
# A single-node Slurm cluster for the deployment sample's batch script.
SLURM_PACKAGES := slurmctld slurmd munge slurm-client

# sudo only when not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

FPGA_COMPRESS := $(BUILD_DIR)/release/fpga-compress
DEMO_DIR := .build/demo
DEMO_INPUT := $(DEMO_DIR)/sample
DEMO_SIZE := 268435456

SWIFT_FORMAT_PATHS := Package.swift Sources Tests Samples

.PHONY: all deps deps-stress test-stress deps-observability test-observability deps-slurm test-slurm deps-bench deps-bench-transport build demo test test-stream bench bench-pipeline bench-transport bench-cnv docs \
	format lint check-links clean-demo brevitas-parity bench-brevitas bench-classify fuzz

all: build

# Installs the missing packages of $(1) with one apt-get update.
define install_missing
	@missing=""; \
	for pkg in $(1); do \
	    if ! dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'install ok installed'; then \
	        missing="$$missing $$pkg"; \
	    fi; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "Installing missing Debian packages:$$missing"; \
	    $(SUDO) apt-get update && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing; \
	else \
	    echo "Debian packages present: $(1)"; \
	fi
endef

deps:
	$(call install_missing,$(DEPS_PACKAGES))

deps-stress: deps
	$(call install_missing,$(STRESS_PACKAGES))

deps-observability: deps
	$(call install_missing,$(OBSERVABILITY_PACKAGES))

deps-slurm: deps
	$(call install_missing,$(SLURM_PACKAGES))

deps-bench: deps
	$(call install_missing,$(BENCH_PACKAGES))

deps-bench-transport: deps
	$(call install_missing,$(BENCH_TRANSPORT_PACKAGES))

build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product fpga-compress $(SWIFTPM_FLAGS)

$(DEMO_INPUT): Scripts/make-demo-input.py
	@mkdir -p $(DEMO_DIR)
	$(PYTHON) Scripts/make-demo-input.py --size $(DEMO_SIZE) --output $@.tmp
	@mv $@.tmp $@

demo: build $(DEMO_INPUT)
	@rm -f $(DEMO_DIR)/sample.gz
	$(FPGA_COMPRESS) -f -o $(DEMO_DIR)/sample.gz $(DEMO_INPUT)
	gzip -t $(DEMO_DIR)/sample.gz
	gzip -dc $(DEMO_DIR)/sample.gz | cmp - $(DEMO_INPUT)
	@in=$$(stat -c %s $(DEMO_INPUT)); out=$$(stat -c %s $(DEMO_DIR)/sample.gz); \
	    echo "$(DEMO_INPUT): $$in bytes -> $(DEMO_DIR)/sample.gz: $$out bytes" \
	         "($$(awk -v a=$$out -v b=$$in 'BEGIN { printf "%.1f%%", 100 * a / b }'))"
	@echo OK

clean-demo:
	rm -rf $(DEMO_DIR)

# The whole run is watched: every test bounds its own waits, and this bounds the run itself, so
# a test that hangs anyway fails `make test` with a message instead of holding the machine.
# TEST_WATCHDOG is in seconds; the suite takes about a minute on 2 cores after the build.
TEST_WATCHDOG ?= 900
test: deps
	$(SWIFT) build --build-tests $(SWIFTPM_FLAGS)
	@status=0; timeout --kill-after=30 $(TEST_WATCHDOG) \
	    $(SWIFT) test --skip-build --skip FPGAClusterStreamTests --skip ObservabilityTests $(SWIFTPM_FLAGS) || status=$$?; \
	if [ $$status -eq 124 ] || [ $$status -eq 137 ]; then \
	    echo "make test: the test run passed its $(TEST_WATCHDOG) s watchdog and was killed (a test hung)" >&2; \
	fi; \
	exit $$status

# `make test` while stress-ng keeps both cores busy: a test that leans on wall-clock time or a
# lucky schedule fails here. stress-ng is stopped however the run ends.
test-stress: deps-stress
	@stress-ng --cpu $(or $(STRESS_CPUS),2) --timeout $$(( $(TEST_WATCHDOG) + 600 )) --quiet & stress=$$!; \
	trap 'kill $$stress 2>/dev/null; wait $$stress 2>/dev/null' EXIT; \
	echo "stress-ng --cpu $(or $(STRESS_CPUS),2) running as $$stress"; \
	$(MAKE) --no-print-directory test

# ObservabilityTests: Debian's prometheus scraping workers, chromium rendering the dashboard, tmux
# showing `fpga-worker status --watch`, each during a real job; artifacts under .build/observability.
test-observability: deps-observability
	$(SWIFT) build --build-tests $(SWIFTPM_FLAGS)
	@status=0; timeout --kill-after=30 $(TEST_WATCHDOG) \
	    $(SWIFT) test --skip-build --filter ObservabilityTests $(SWIFTPM_FLAGS) || status=$$?; \
	if [ $$status -eq 124 ] || [ $$status -eq 137 ]; then \
	    echo "make test-observability: the test run passed its $(TEST_WATCHDOG) s watchdog and was killed" >&2; \
	fi; \
	exit $$status

# Samples/Deploy/slurm/fpga-compress.sbatch on a real single-node Slurm (Scripts/slurm-cluster.sh):
# two workers started through srun, a file compressed across them and checked. Needs root; prints
# "skipped: ..." where slurmd cannot run.
test-slurm: deps-slurm
	$(SWIFT) build $(RELEASE_FLAGS) --product fpga-worker $(SWIFTPM_FLAGS)
	$(SWIFT) build $(RELEASE_FLAGS) --product fpga-compress $(SWIFTPM_FLAGS)
	FPGA_WORKER=$(BUILD_DIR)/release/fpga-worker FPGA_COMPRESS=$(FPGA_COMPRESS) Scripts/slurm-test.sh

test-stream: deps
	$(SWIFT) test --filter FPGAClusterStreamTests $(SWIFTPM_FLAGS)

# FrameDecoder, which every connection reads through, on FUZZ_FRAMES frames built from FUZZ_SEED
# (valid frames, frames over the limits, cut short, mutated, garbage), each stream read in whole,
# 1-byte and random-sized reads and checked against a one-pass reference reading. The same seed
# gives the same cases; a failure prints the --case that replays it. Exits non-zero on a failure.
FUZZ_FRAMES ?= 1000000
FUZZ_SEED ?= 1
fuzz: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product fpga-transport-fuzz $(SWIFTPM_FLAGS)
	$(BUILD_DIR)/release/fpga-transport-fuzz --frames $(FUZZ_FRAMES) --seed $(FUZZ_SEED)

bench: deps-bench build
	FPGA_COMPRESS=$(FPGA_COMPRESS) Scripts/bench-compress.sh
	SWIFT=$(SWIFT) SCRATCH_PATH=$(SCRATCH_PATH) Scripts/bench-pipeline.sh

# Builds fpga-worker and fpga-transport-bench in release mode (unless FPGA_WORKER or
# FPGA_TRANSPORT_BENCH name binaries) and runs Scripts/bench-pipeline.sh.
bench-pipeline: deps-bench
	SWIFT=$(SWIFT) SCRATCH_PATH=$(SCRATCH_PATH) Scripts/bench-pipeline.sh

# Builds fpga-worker, fpga-compress and fpga-transport-bench in release mode (unless FPGA_WORKER,
# FPGA_COMPRESS or FPGA_TRANSPORT_BENCH name binaries) and runs Scripts/bench-transport.sh.
bench-transport: deps-bench-transport
	SWIFT=$(SWIFT) SCRATCH_PATH=$(SCRATCH_PATH) Scripts/bench-transport.sh

# A random model over 4096 random images (CNV_IMAGES to change); prints figures, never fails on speed.
CNV_IMAGES ?= 4096
bench-cnv: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product fpga-cnv-bench $(SWIFTPM_FLAGS)
	$(BUILD_DIR)/release/fpga-cnv-bench --kernel all --threads 1,2 --images $(CNV_IMAGES)

# Both create or reuse the virtual environment of Scripts/brevitas-venv.sh; where torch or Brevitas
# cannot be installed they print "skipped: ..." and succeed without measuring or comparing anything.
BREVITAS_VENV ?= .build/brevitas-venv

FPGA_CLASSIFY := $(BUILD_DIR)/release/fpga-classify

# The converter and numpy reference against Brevitas, then release fpga-classify as the candidate
# (Scripts/classify-parity-candidate.sh). The build is skipped with the check where torch is missing.
brevitas-parity: deps
	@status=0; Scripts/brevitas-venv.sh $(BREVITAS_VENV) >/dev/null || status=$$?; \
	if [ $$status -eq 0 ]; then $(SWIFT) build $(RELEASE_FLAGS) --product fpga-classify $(SWIFTPM_FLAGS); fi
	@if [ -x $(FPGA_CLASSIFY) ]; then \
	    BREVITAS_VENV=$(BREVITAS_VENV) FPGA_CLASSIFY=$(FPGA_CLASSIFY) \
	        PARITY_CANDIDATE=Scripts/classify-parity-candidate.sh Scripts/brevitas-parity.sh; \
	else \
	    BREVITAS_VENV=$(BREVITAS_VENV) Scripts/brevitas-parity.sh; \
	fi

bench-brevitas: deps
	@status=0; Scripts/brevitas-venv.sh $(BREVITAS_VENV) || status=$$?; \
	if [ $$status -eq 3 ]; then echo "bench-brevitas: skipped"; \
	elif [ $$status -ne 0 ]; then exit $$status; \
	else $(BREVITAS_VENV)/bin/python Scripts/bench-brevitas.py; fi

# Release fpga-classify and fpga-worker (unless FPGA_CLASSIFY or FPGA_WORKER name binaries), then
# Scripts/bench-classify.sh; Brevitas is measured where torch installs. Prints figures, never fails on speed.
bench-classify: deps
	SWIFT=$(SWIFT) SCRATCH_PATH=$(SCRATCH_PATH) BREVITAS_VENV=$(BREVITAS_VENV) Scripts/bench-classify.sh

docs: deps
	DocsSite/build.sh

# fpga-compress starts once per file in every pipeline it joins, so its start-up counts:
# linking full Foundation (CoreFoundation, ICU, FoundationInternationalization) adds ~1,900
# protocol conformance records that the runtime scans on each first cast, 36 MB of data and
# ~1 ms per run. One `import Foundation`, or one Foundation-only API such as
# `String.contains(_: String)` where a module sees Foundation, brings it back.
check-links: build
	@if nm $(FPGA_COMPRESS) | grep -q -e FoundationInternationalization -e __CFInitialize; then \
	    echo "$(FPGA_COMPRESS) links full Foundation: find the reference with" \
	         "swift build $(RELEASE_FLAGS) --product fpga-compress -Xlinker -Map=map.txt"; \
	    exit 1; \
	fi; echo "$(FPGA_COMPRESS): FoundationEssentials only"
	@if readelf -d $(FPGA_COMPRESS) | grep -q 'NEEDED.*libstdc++'; then \
	    echo "$(FPGA_COMPRESS) loads libstdc++.so: its release link should find Samples/Compress/Link first" \
	         "(see compressLinkerSettings in Package.swift)"; \
	    exit 1; \
	fi; echo "$(FPGA_COMPRESS): libstdc++ linked in, no C++ library loaded"

format:
	$(SWIFT) format format --in-place --recursive --parallel $(SWIFT_FORMAT_PATHS)

lint:
	$(SWIFT) format lint --strict --recursive --parallel $(SWIFT_FORMAT_PATHS)
