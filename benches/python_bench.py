"""Per-decision time, side by side: ticketgate from Python, the Rust API, and cedarpy doing the
same four checks with the same policies and entities.

    .venv/bin/pip install cedarpy && (cd bindings/python && maturin develop --release)
    cargo build --release -p ticketgate-testkit
    .venv/bin/python benches/python_bench.py
"""

import json
import pathlib
import subprocess
import time

import ticketgate

ROOT = pathlib.Path(__file__).resolve().parents[1]
REQUEST = json.loads((ROOT / "examples" / "request.json").read_text())
FIELDS = ["name", "email", "phone", "ticket_numbers"]
N = 20_000


def per_call_us(fn, n: int = N) -> float:
    for _ in range(n // 10):
        fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) * 1e6 / n


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
                    "velocity": {"count": 0, "soft": 15, "hard": 30, "window_s": 3600, "new_customer": True}},
    } for f in FIELDS]
    policies = "\n".join(p.read_text() for p in sorted((ROOT / "policies").glob("*.cedar")))
    return requests, policies, ents


def main() -> None:
    rows = []
    gate = ticketgate.Gate()
    d = gate.decide(REQUEST)
    assert [d.outcome(f) for f in FIELDS] == ["reveal"] * 4, d
    rows.append(("ticketgate Gate.decide (Python, 4 fields)", per_call_us(lambda: gate.decide(REQUEST))))
    binary = ROOT / "target" / "release" / "bench-decide"  # cargo build --release -p ticketgate-testkit
    out = subprocess.run([str(binary), "--request", str(ROOT / "examples" / "request.json"),
                          "--iterations", str(N)], capture_output=True, text=True, check=True)
    rust = json.loads(out.stdout)["us_per_decision"]
    rows.append(("ticketgate Gate::decide (Rust API, 4 fields)", rust))
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
    py = rows[0][1]
    print(f"{'':60} {'µs/decision':>12} {'vs Python':>10}")
    for name, us in rows:
        print(f"{name:60} {us:12.1f} {us / py:9.2f}x")
    print(f"\nPython / Rust: {py / rust:.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
