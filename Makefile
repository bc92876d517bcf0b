# The two commands: `make run` (the best demo) and `make test` (everything CI checks).
# Both first run scripts/bootstrap.sh, which installs missing system packages with apt-get
# (as root or via sudo) and the cargo tools; it is silent when all is present.

SHELL := /bin/bash
FUZZ_SECONDS ?= 30

.PHONY: run test bootstrap fmt-check clippy unit pesq-check header-check c-examples fuzz-smoke bench header fuzz service-sdk chromium-interop

# `make run`: a WebRTC call between two engines over UDP, direct and relayed through coturn.
# `make run DEMO=sim CONDITION=clean|wifi|cellular|congested`: the network-simulator demo
# (a shipped trace).
DEMO ?= udp
CONDITION ?= wifi

run: bootstrap
	DEMO=$(DEMO) CONDITION=$(CONDITION) scripts/run-demo.sh

test: bootstrap fmt-check clippy pesq-check unit chromium-interop header-check c-examples fuzz-smoke service-sdk
	@echo "make test: all checks passed"

bootstrap:
	@scripts/bootstrap.sh

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace
	cargo test --quiet -p mediacore-benches --benches

# The PESQ scorer the call tests rely on, checked on its own first (about 3 s).
pesq-check:
	scripts/test-pesq.sh

# WebRTC calls with headless Chromium (both offerer roles, PESQ both ways), run inside a
# network namespace holding only loopback (needs root for unshare).
chromium-interop:
	scripts/test-chromium.sh

header-check:
	scripts/check-header.sh

c-examples:
	scripts/c-examples.sh
	scripts/c-misuse.sh

fuzz-smoke:
	scripts/fuzz-smoke.sh $(FUZZ_SECONDS)

# Not part of `make test`: timing belongs in benchmarks, not tests.
bench: bootstrap
	cargo bench -p mediacore-benches

header:
	cbindgen --quiet --config ffi/cbindgen.toml --crate mediacore-ffi --output include/mediacore.h ffi

fuzz: bootstrap
	scripts/fuzz-smoke.sh 600

# The official Azure SDK for Python against the local service over TLS, and coturn accepting
# its relay credentials (installs coturn and a venv at .venv-sdk when missing).
service-sdk:
	scripts/service-sdk-test.sh
