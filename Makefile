# dfpar — build, run the sample job, test, benchmark. Targets are portable (GNU or BSD make).
CARGO ?= cargo
BIN := target/release/dfpar
OUT := out

.PHONY: all build run test test-slurm install lint bench bench-criterion bench-scanner profile soak dist clean

all: build

build:
	$(CARGO) build --release

# The main job on the sample data: count, per row, the values in [4, 8].
run: build
	mkdir -p $(OUT)
	$(BIN) apply --by row --fn count_range --arg min=4 --arg max=8 data/sample.csv -o $(OUT)/sample_count_range.csv
	@echo "wrote $(OUT)/sample_count_range.csv:"
	@head -5 $(OUT)/sample_count_range.csv

# The tests, and first what they need beyond the Rust toolchain (tests/deps.sh).
test:
	tests/deps.sh
	$(CARGO) test

# Sharding on a real (single-node) Slurm cluster: installs Debian's slurm and munge, starts
# the daemons under $(SLURM_DIR) without systemd, runs tests/slurm/shards.sh, stops them.
SLURM_DIR ?= /tmp/dfpar-slurm
test-slurm:
	$(CARGO) build
	tests/slurm/cluster.sh install
	tests/slurm/cluster.sh run $(SLURM_DIR) -- tests/slurm/shards.sh target/debug/dfpar

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

# The end-to-end benchmark on a generated 20,000,000 x 5 file (about 200 MB).
bench: build
	benches/compare.sh

# Not in CI: about 2 GB through row mode, bounded memory, serial == parallel.
soak: build
	benches/soak.sh

# Criterion benches of the same and of the pipeline at --jobs 1 and 2 (about 3 minutes to
# run; the first time, about 30 more to build the dependencies with the dev-dependencies'
# features, which differ from the release build's: make bench-scanner needs no such build).
bench-criterion:
	$(CARGO) bench --bench pipeline

# The record scanner alone (MB/s per core, SIMD beside the reference, quote-free and
# quoted) and the reader thread alone, on the T1 file of make bench: under a minute.
bench-scanner: build
	@[ -f bench-data/gen_20000000x5.csv ] || (mkdir -p bench-data && $(BIN) gen --rows 20000000 --cols 5 --seed 1 -o bench-data/gen_20000000x5.csv)
	$(BIN) bench-scanner bench-data/gen_20000000x5.csv

# A release build with symbols for perf and callgrind: target/profiling/dfpar.
profile:
	$(CARGO) build --profile profiling --bin dfpar

# The binary, its man pages and shell completions under $(PREFIX) (BIN=... installs
# another build of the binary).
PREFIX ?= /usr/local
MAN1 := $(DESTDIR)$(PREFIX)/share/man/man1
install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(MAN1) $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/dfpar
	$(BIN) man > $(MAN1)/dfpar.1
	for c in apply bench bench-scanner merge list gen info completions man; do $(BIN) man $$c > $(MAN1)/dfpar-$$c.1; done
	$(BIN) completions bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/dfpar
	$(BIN) completions zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_dfpar
	$(BIN) completions fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/dfpar.fish

target/release/dfpar:
	$(CARGO) build --release

# The distributable binary (fat LTO, one codegen unit: slow to link).
dist:
	$(CARGO) build --profile dist

clean:
	$(CARGO) clean
	rm -rf $(OUT) bench-data
