"""Instructions per decision, counted by valgrind's callgrind rather than timed: the Rust API,
Python and Node deciding the example request, and the part of Node's that is `index.js` making
the request's JSON text. A count does not move with the machine's load, so the binding overhead
it gives is the same from run to run, where the timed one moves by a tenth on this shared
machine. Each figure is the difference between two loop lengths divided by the decisions
between them, so that start-up (imports, building the gate) cancels out.

    apt-get install valgrind
    cargo build --release -p ticketgate-testkit
    (cd bindings/python && maturin develop --release) && (cd bindings/node && npm run build)
    .venv/bin/python benches/instructions.py [--json]

`benches/compare` runs it with `--json` when valgrind is installed. Instructions are not time
(a cache miss costs more than an addition), but here time follows them: docs/benchmarks.md.
"""

import json
import os
import pathlib
import re
import subprocess
import sys
from typing import Callable, List, Optional

ROOT = pathlib.Path(__file__).resolve().parents[1]
REQUEST = ROOT / "examples" / "request.json"

PYTHON_LOOP = """
import json, sys, ticketgate
request = json.load(open(sys.argv[1]))
gate = ticketgate.Gate(clock="replay")
for _ in range(int(sys.argv[2])):
    gate.decide(request)
"""

# camelCase keys, as a JavaScript caller writes them (benches/node_bench.mjs does the same)
NODE_LOOP = """
const [file, n] = process.argv.slice(-2)
const { Gate, _text } = require(process.env.TICKETGATE_NODE)
const camel = (v) => Array.isArray(v) ? v.map(camel) : v && typeof v === 'object'
  ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), camel(x)]))
  : v
const request = camel(JSON.parse(require('fs').readFileSync(file, 'utf8')))
const gate = new Gate({ clock: 'replay' })
function run(times) {
  if (process.env.TICKETGATE_TEXT_ONLY) for (let i = 0; i < times; i++) _text(request)
  else for (let i = 0; i < times; i++) gate.decide(request)
}
run(+n)
"""


def instructions(cmd: List[str], env: Optional[dict]) -> int:
    """Instructions the command executes, as callgrind counts them."""
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                         capture_output=True, text=True, env=env, check=True)
    counted = re.search(r"Collected : (\d+)", run.stderr)
    if counted is None:
        raise RuntimeError(f"no count from callgrind: {run.stderr[-500:]}")
    return int(counted.group(1))


def per_decision(cmd: Callable[[int], List[str]], decisions: Callable[[int], int],
                 short: int, long: int, env: Optional[dict] = None) -> float:
    """Instructions of one decision: two loop lengths, the difference over the decisions between."""
    counts = [instructions(cmd(n), env) for n in (short, long)]
    return (counts[1] - counts[0]) / (decisions(long) - decisions(short))


def main() -> None:
    env = dict(os.environ, TICKETGATE_NODE=str(ROOT / "bindings" / "node" / "index.js"))
    bench = str(ROOT / "target" / "release" / "bench-decide")
    rows = [
        # bench-decide warms up with a tenth of its iterations, then times five rounds of a fifth
        ("Rust API (`bench-decide`)", per_decision(
            lambda n: [bench, "--request", str(REQUEST), "--iterations", str(n)],
            lambda n: n // 10 + 5 * (n // 5), 500, 2500)),
        ("Python `gate.decide(dict)`", per_decision(
            lambda n: [sys.executable, "-c", PYTHON_LOOP, str(REQUEST), str(n)], lambda n: n, 500, 2500)),
        # V8 compiles the loop's JavaScript in tiers over its first thousand calls; its
        # background threads (compiling, marking) do more or less work as the machine is
        # busy: one run counted 25% more. On one thread the count repeats within about 1%
        # (337,900 to 342,000 in seven runs on 2026-11-30).
        ("Node `gate.decide(object)`", per_decision(
            lambda n: ["node", "--single-threaded", "-e", NODE_LOOP, str(REQUEST), str(n)],
            lambda n: n, 3000, 6000, env)),
        # what `gate.decide` does in JavaScript before the addon is called (`_text`): check
        # that the request may go as JSON text and write it. Alone it takes most of the 0.15x
        # that a 1.15x overhead leaves, and V8 has no cheaper way to hand an object to native
        # code (docs/benchmarks.md)
        ("Node: the request's JSON text alone", per_decision(
            lambda n: ["node", "--single-threaded", "-e", NODE_LOOP, str(REQUEST), str(n)],
            lambda n: n, 3000, 6000, dict(env, TICKETGATE_TEXT_ONLY="1"))),
    ]
    if "--json" in sys.argv:
        print(json.dumps(rows))
        return
    rust = rows[0][1]
    for name, n in rows:
        print(f"{name:40} {n:12,.0f} {n / rust:8.2f}x")


if __name__ == "__main__":
    main()
