#!/usr/bin/env bash
# Every check of the project, in all three languages. Safe to run on a fresh machine
# with cargo, python3 (with pip) and node/npm installed: it installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
# one clean build per run: incremental state would only add a gigabyte of target/
export CARGO_INCREMENTAL=0

step() { printf '\n=== %s ===\n' "$*"; }

step "rust: format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# the published crate's docs: every intra-doc link resolves
RUSTDOCFLAGS="-D warnings" cargo doc -q -p ticketgate --no-deps

step "redis: the velocity-store tests start their own redis-server on free loopback ports"
if ! command -v redis-server > /dev/null; then
  SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server > /dev/null
  # the package may start a system service; the tests use their own servers only
  $SUDO service redis-server stop > /dev/null 2>&1 || true
fi
redis-server --version

step "rust: tests"
cargo test --workspace

step "policy pack: ticketgate validate / test"
cargo run -q -p ticketgate-cli -- validate policies
cargo run -q -p ticketgate-cli -- test policies --vectors tests/vectors/requests.json | tail -n 1
cargo run -q -p ticketgate-cli -- decide --request examples/request.json > /dev/null

step "python: build the module (debug) into .venv and run pytest"
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "maturin>=1.7,<2" "pytest>=7" "mypy>=1.8" typing_extensions "django>=4.2,<6"
(cd bindings/python && VIRTUAL_ENV="$PWD/../../.venv" PATH="$PWD/../../.venv/bin:$PATH" maturin develop -q)
(cd bindings/python && ../../.venv/bin/python -m pytest -q)

step "node: build the addon (debug) and run node --test"
(cd bindings/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
(cd bindings/node && npm run -s build:debug)
(cd bindings/node && node --test __test__/)

step "packaging: cargo package, the wheel and the npm tarball installed without a Rust toolchain"
./scripts/package-check.sh
