#!/usr/bin/env bash
# Packaging as each ecosystem's users expect, checked from this checkout: the core crate
# packages; the Python wheel and the npm tarball install and run where no Rust toolchain is
# on PATH. Debug builds: this checks the packaging, not the speed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
NO_RUST_PATH="$(dirname "$(command -v node)"):$(dirname "$(command -v python3)"):/usr/bin:/bin"
if PATH="$NO_RUST_PATH" command -v cargo > /dev/null; then
  echo "cargo is still on the reduced PATH ($NO_RUST_PATH): the check would prove nothing" >&2
  exit 1
fi

echo "--- cargo package -p ticketgate"
# the packaged crate builds outside the workspace, so without the workspace's profile:
# its verify build would carry full debug info (a gigabyte of target/)
CARGO_PROFILE_DEV_DEBUG=false cargo package -p ticketgate --allow-dirty -q
tar tzf target/package/ticketgate-*.crate > "$OUT/crate.txt"
grep -q 'policies/schema.cedarschema' "$OUT/crate.txt"

echo "--- python: wheel and sdist, wheel installed in a fresh venv without cargo"
(cd bindings/python && VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH" \
  maturin build --profile dev -q -o "$OUT/py" 2> /dev/null && VIRTUAL_ENV="$ROOT/.venv" PATH="$ROOT/.venv/bin:$PATH" \
  maturin sdist -o "$OUT/py" > /dev/null 2>&1)
ls "$OUT"/py/ticketgate-*-abi3-*.whl "$OUT"/py/ticketgate-*.tar.gz > /dev/null
python3 -m venv "$OUT/venv"
PATH="$NO_RUST_PATH" "$OUT/venv/bin/pip" install -q --no-index "$OUT"/py/ticketgate-*-abi3-*.whl
(cd "$OUT" && PATH="$NO_RUST_PATH" "$OUT/venv/bin/python" - << 'PY'
import ticketgate
gate = ticketgate.Gate(clock="replay")
d = gate.decide({"employee": {"id": "a", "segments": ["consumer"]},
                 "customer": {"id": "c", "segment": "consumer", "vip": False, "employee": False},
                 "purpose": "support", "at": "2026-11-28T10:00:00Z"})
assert d.outcome("name") == "withhold", d
print("wheel ok:", ticketgate.__file__)
PY
)

echo "--- node: npm pack carries the prebuilt addon; it installs into an empty project without cargo"
(cd bindings/node && npm pack -q --pack-destination "$OUT" > /dev/null)
tar tzf "$OUT"/ticketgate-*.tgz > "$OUT/npm.txt"
grep -q 'package/ticketgate.linux-x64-gnu.node' "$OUT/npm.txt"
mkdir "$OUT/app"
(cd "$OUT/app" && PATH="$NO_RUST_PATH" npm init -y > /dev/null \
  && PATH="$NO_RUST_PATH" npm install -q --no-audit --no-fund "$OUT"/ticketgate-*.tgz > /dev/null \
  && PATH="$NO_RUST_PATH" node -e "
const { Gate } = require('ticketgate')
const d = new Gate({ clock: 'replay' }).decide({ employee: { id: 'a', segments: ['consumer'] },
  customer: { id: 'c', segment: 'consumer', vip: false, employee: false }, purpose: 'support', at: '2026-11-28T10:00:00Z' })
if (d.fields.name.outcome !== 'withhold') throw new Error(JSON.stringify(d))
console.log('npm tarball ok:', require.resolve('ticketgate'))
")
