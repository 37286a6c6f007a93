"""Per-decision time, side by side: ticketgate from Python, the Rust API (its own loop, in
turns with Python's in this process), cedarpy doing the same four checks with the same policies
and entities, and Casbin with an ABAC model of rule R1; then a 10,000-request batch against a
loop of single calls.

    .venv/bin/pip install cedarpy casbin && (cd bindings/python && maturin develop --release)
    .venv/bin/python benches/python_bench.py [--json] [--memory]

`benches/compare` runs this with `--json` and writes the table into BENCHMARKS.md.
Each figure is the median of 5 rounds (of 40 pairs for Python and the Rust API).
"""

import json
import pathlib
import statistics
import subprocess
import sys
import time
import types

import ticketgate

ROOT = pathlib.Path(__file__).resolve().parents[1]
REQUEST = json.loads((ROOT / "examples" / "request.json").read_text())
FIELDS = ["name", "email", "phone", "ticket_numbers"]
N = 20_000


def per_call_us(fn, n: int = N, rounds: int = 5) -> float:
    for _ in range(n // 10):
        fn()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(n // rounds):
            fn()
        times.append((time.perf_counter() - t) * 1e6 / (n // rounds))
    return statistics.median(times)


CASBIN_MODEL = """
[request_definition]
r = sub, obj, act
[policy_definition]
p = act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.act == p.act && r.sub.purpose == "support" && r.obj.assignee == r.sub.id && r.obj.ticket_customer == r.obj.id && (r.obj.status == "open" || r.obj.status == "pending")
"""


def paired_rounds(gate, pairs: int = 40, n: int = 500):
    """µs per decision of `gate.decide` and of the Rust API's own loop over the same request in
    this process (the `decide_loop` operation: the same build and allocator), in turns of `n`
    decisions each, so that a busy minute on a shared machine falls on both sides of a pair."""
    py_rounds, rust_rounds = [], []
    for i in range(pairs + 1):
        t = time.perf_counter()
        for _ in range(n):
            gate.decide(REQUEST)
        py = (time.perf_counter() - t) * 1e6 / n
        rust = gate._call("decide_loop", {"request": REQUEST, "times": n}) * 1e6 / n
        if i:  # the first pair warms up
            py_rounds.append(py)
            rust_rounds.append(rust)
    return py_rounds, rust_rounds


def casbin_rows():
    """Rule R1 as a Casbin ABAC model: the nearest a Casbin user would write."""
    try:
        import casbin
    except ImportError:
        print("casbin is not installed: pip install casbin", file=sys.stderr)
        return []
    e = casbin.Enforcer(casbin.Enforcer.new_model(text=CASBIN_MODEL))
    for f in ("name", "email", "ticket_numbers"):
        e.add_policy(f"reveal_{f}")
    t = REQUEST["ticket"]
    sub = types.SimpleNamespace(id=REQUEST["employee"]["id"], purpose=REQUEST["purpose"])
    obj = types.SimpleNamespace(id=REQUEST["customer"]["id"], assignee=t["assignee"],
                                ticket_customer=t["customer"], status=t["status"])
    got = [e.enforce(sub, obj, f"reveal_{f}") for f in FIELDS]
    assert got == [True, True, False, True], got
    return [("Casbin enforce x4 (Python, ABAC model of R1)",
             per_call_us(lambda: [e.enforce(sub, obj, f"reveal_{f}") for f in FIELDS], 5000))]


def batch_rows():
    """10,000 requests over 50 employees: a loop of `decide` against one `decide_many`."""
    reqs = []
    for i in range(10_000):
        r = json.loads(json.dumps(REQUEST))
        r["employee"]["id"] = r["ticket"]["assignee"] = f"e{i % 50}"
        r["customer"]["id"] = r["ticket"]["customer"] = f"c{i}"
        reqs.append(r)

    def gate():
        return ticketgate.Gate(clock="replay", velocity={"window_s": 3600, "soft": 10**6, "hard": 10**6, "day": {"soft": 10**6, "hard": 10**6}})

    def loop(g):
        for r in reqs:
            g.decide(r)

    def many(g):
        g.decide_many(reqs)

    record = {"name": "Ann Lee", "email": "ann@example.com", "phone": "+49 30 1234567", "ticket_numbers": ["T-1"]}
    pairs = [(r, record) for r in reqs]

    def view_loop(g):
        for r in reqs:
            g.view(r, record)

    def view_many(g):
        g.view_many(pairs)

    names = ["Python: loop of 10,000 decide (ms)", "Python: decide_many of 10,000 (ms)",
             "Python: loop of 10,000 view (ms)", "Python: view_many of 10,000 (ms)"]
    works = [loop, many, view_loop, view_many]
    # a fresh gate per run (velocity from zero), built outside the timing, as the criterion
    # benches do: building parses the pack, which is neither side's work. The four take
    # turns, round by round, so that a slow minute on a shared machine weighs on a loop and
    # its batch alike; the first round warms up.
    times: list = [[] for _ in works]
    for _ in range(6):
        for work, out in zip(works, times):
            g = gate()
            t = time.perf_counter()
            work(g)
            out.append((time.perf_counter() - t) * 1000)
    return [(name, statistics.median(out[1:])) for name, out in zip(names, times)]


def dt(s: str) -> dict:
    return {"__extn": {"fn": "datetime", "arg": s.replace("Z", ".000Z") if "." not in s else s}}


def cedar_inputs():
    r, e, c, t = REQUEST, REQUEST["employee"], REQUEST["customer"], REQUEST["ticket"]
    ents = [
        {"uid": {"type": "Employee", "id": e["id"]}, "parents": [], "attrs": {
            "roles": e["roles"], "teams": e["teams"], "segments": ["consumer"], "suspended": False,
            "shift": {"start": dt(e["shift"]["start"]), "end": dt(e["shift"]["end"])}}},
        {"uid": {"type": "Customer", "id": c["id"]}, "parents": [], "attrs": {
            "segment": c.get("segment", "consumer"), "vip": False, "employee": False}},
        {"uid": {"type": "Ticket", "id": t["id"]}, "parents": [], "attrs": {
            "customer": {"__entity": {"type": "Customer", "id": t["customer"]}},
            "assignee": {"__entity": {"type": "Employee", "id": t["assignee"]}},
            "queue": t["queue"], "status": t["status"], "opened_at": dt(t["opened_at"]),
            "callback_at": dt(t["callback_at"])}},
        {"uid": {"type": "Action", "id": "reveal"}, "parents": [], "attrs": {}},
        {"uid": {"type": "Action", "id": "mask"}, "parents": [], "attrs": {}},
    ]
    for f in FIELDS:
        for g in ("reveal", "mask"):
            ents.append({"uid": {"type": "Action", "id": f"{g}_{f}"}, "attrs": {},
                         "parents": [{"type": "Action", "id": g}]})
    requests = [{
        "principal": f'Employee::"{e["id"]}"', "action": f'Action::"reveal_{f}"', "resource": f'Customer::"{c["id"]}"',
        "context": {"at": dt(r["at"]), "purpose": r["purpose"], "field": f,
                    "ticket": {"__entity": {"type": "Ticket", "id": t["id"]}},
                    "velocity": {"count": 0, "soft": 15, "hard": 30, "window_s": 3600, "new_customer": True,
                                 "day_count": 0, "day_soft": 120, "day_hard": 240, "day_window_s": 86400,
                                 "day_new_customer": True}},
    } for f in FIELDS]
    policies = "\n".join(p.read_text() for p in sorted((ROOT / "policies").glob("*.cedar")))
    return requests, policies, ents


def rss_mb() -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def memory_rows(total: int = 1_000_000):
    """RSS along 1,000,000 decisions (50 employees, 1,000 customers): it should stay flat."""
    gate = ticketgate.Gate(clock="replay", velocity={"window_s": 3600, "soft": 10**6, "hard": 10**6, "day": {"soft": 10**6, "hard": 10**6}})
    r = json.loads(json.dumps(REQUEST))
    marks = {total // 10: "RSS after 100,000 decisions (MB)", total // 2: "RSS after 500,000 decisions (MB)",
             total: "RSS after 1,000,000 decisions (MB)"}
    rows = []
    for i in range(1, total + 1):
        r["employee"]["id"] = r["ticket"]["assignee"] = f"e{i % 50}"
        r["customer"]["id"] = r["ticket"]["customer"] = f"c{i % 1000}"
        gate.decide(r)
        if i in marks:
            rows.append((f"Python: {marks[i]}", rss_mb()))
    return rows


def main() -> None:
    if "--memory-only" in sys.argv:
        print(json.dumps(memory_rows()))
        return
    rows = []
    gate = ticketgate.Gate(clock="replay")
    d = gate.decide(REQUEST)
    assert [d.outcome(f) for f in FIELDS] == ["reveal"] * 4, d
    py_rounds, rust_rounds = paired_rounds(gate)
    rows.append(("ticketgate Gate.decide (Python, 4 fields)", statistics.median(py_rounds)))
    rows.append(("ticketgate Gate::decide (Rust API, 4 fields)", statistics.median(rust_rounds)))
    paired = statistics.median(p / r for p, r in zip(py_rounds, rust_rounds))
    try:
        import cedarpy
    except ImportError:
        print("cedarpy is not installed: pip install cedarpy")
    else:
        requests, policies, ents = cedar_inputs()
        got = [cedarpy.is_authorized(q, policies, ents).decision.value for q in requests]
        assert got == ["Allow"] * 4, got
        rows.append(("cedarpy is_authorized x4 (policy and entity strings)",
                     per_call_us(lambda: [cedarpy.is_authorized(q, policies, ents) for q in requests], 2000)))
        rows.append(("cedarpy is_authorized_batch (4 requests, strings)",
                     per_call_us(lambda: cedarpy.is_authorized_batch(requests, policies, ents), 2000)))
        if hasattr(cedarpy, "PolicySet") and hasattr(cedarpy, "Entities"):
            ps, es = cedarpy.PolicySet.from_str(policies), cedarpy.Entities.from_json_str(json.dumps(ents))
            rows.append(("cedarpy is_authorized_batch (preparsed PolicySet/Entities)",
                         per_call_us(lambda: cedarpy.is_authorized_batch(requests, ps, es), 2000)))
    rows.extend(casbin_rows())
    batches = batch_rows()
    # in a process of its own, so that what the runs above left on the heap does not move it
    memory = []
    if "--memory" in sys.argv:
        out = subprocess.run([sys.executable, __file__, "--memory-only"], capture_output=True, text=True, check=True)
        memory = [tuple(row) for row in json.loads(out.stdout)]
    if "--json" in sys.argv:
        print(json.dumps({"decide": rows, "paired": paired, "batch": batches, "memory": memory}))
        return
    py, rust = rows[0][1], rows[1][1]
    print(f"{'':60} {'µs/decision':>12} {'vs Python':>10}")
    for name, us in rows:
        print(f"{name:60} {us:12.1f} {us / py:9.2f}x")
    print(f"\nPython / Rust: {py / rust:.2f}x, median of the pairs' ratios {paired:.2f}x (target <= 1.15x)")
    for name, ms in batches:
        print(f"{name:60} {ms:12.1f}")
    print(f"decide_many speed-up: {batches[0][1] / batches[1][1]:.2f}x, view_many {batches[2][1] / batches[3][1]:.2f}x")
    for name, mb in memory:
        print(f"{name:60} {mb:12.1f}")


if __name__ == "__main__":
    main()
