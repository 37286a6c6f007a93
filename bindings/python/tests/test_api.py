"""Python-specific behaviour: inputs, exceptions, threads, typing."""

import dataclasses
import gc
import pathlib
import shutil
import subprocess
import sys
import threading
import types
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional

import pytest

import ticketgate
from conftest import ROOT


def test_decision_attributes_and_dict(request_dict: Dict[str, Any]) -> None:
    d = ticketgate.Gate(clock="replay").decide(request_dict)
    assert d.outcome("email") == "reveal"
    assert d.outcome("phone") == "mask"
    assert d.outcome("not-a-field") == "withhold"
    assert d.revealed == ["email", "name", "ticket_numbers"]
    assert d.fields["email"]["policies"] == ["R1-own-ticket"]
    assert d.velocity == {
        "count": 1, "soft": 15, "hard": 30, "window_s": 3600,
        "day": {"count": 1, "soft": 120, "hard": 240, "window_s": 86400},
    }
    assert d.ticket == "T-1" and d.grant is None and d.purpose == "support"
    assert d.policy_version.startswith("sha256:")
    as_dict = d.to_dict()
    assert as_dict["decision_id"] == d.decision_id
    assert as_dict["fields"]["phone"]["outcome"] == "mask"
    assert "email=reveal" in repr(d)


def test_aware_datetimes_are_accepted_and_naive_refused(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay")
    request_dict["at"] = datetime(2026, 11, 28, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert gate.decide(request_dict).at == "2026-11-28T10:00:00.000Z"
    request_dict["at"] = datetime(2026, 11, 28, 10, 0)
    with pytest.raises(ticketgate.InvalidRequest) as e:
        gate.decide(request_dict)
    assert e.value.key == "at"
    assert "naive" in str(e.value)


def test_a_datetime_subclass_is_read_as_the_instant_it_holds(request_dict: Dict[str, Any]) -> None:
    class LocalText(datetime):
        # as a library might: local wall time, its offset left out
        def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
            return "2026-11-28T23:00:00"

    request_dict["at"] = LocalText(2026, 11, 28, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert ticketgate.Gate(clock="replay").decide(request_dict).at == "2026-11-28T10:00:00.000Z"


@dataclasses.dataclass
class Employee:
    id: str
    roles: List[str]
    teams: List[str]
    segments: List[str]
    shift: Optional[Dict[str, str]] = None


@dataclasses.dataclass
class Request:
    employee: Employee
    customer: Mapping[str, Any]
    purpose: str
    at: datetime
    ticket: Optional[Dict[str, Any]] = None


def test_dataclasses_and_mappings(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay")
    req = Request(
        employee=Employee("alice", ["agent"], ["billing"], ["consumer"], request_dict["employee"]["shift"]),
        customer=types.MappingProxyType({"id": "c1", "segment": "consumer", "vip": False, "employee": False}),
        purpose="support",
        at=datetime(2026, 11, 28, 10, tzinfo=timezone.utc),
        ticket=OrderedDict(request_dict["ticket"]),
    )
    assert gate.decide(req).outcome("name") == "reveal"


@pytest.mark.parametrize(
    "mutate,key",
    [
        (lambda r: r["ticket"].update(customer="c2"), "ticket.customer"),
        (lambda r: r.update(purpose="curiosity"), "purpose"),
        (lambda r: r.update(fields=["name", "ssn"]), "fields[1]"),
        (lambda r: r["employee"].update(clearance="top"), "employee.clearance"),
        (lambda r: r["customer"].update(vip="yes"), "customer.vip"),
        (lambda r: r.update(at="2026-11-28T10:00:00"), "at"),
        (lambda r: r["ticket"].update(status="closed"), "ticket.closed_at"),
        (lambda r: r.update(at=object()), "at"),
    ],
)
def test_invalid_requests_name_the_key(request_dict: Dict[str, Any], mutate: Any, key: str) -> None:
    mutate(request_dict)
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(clock="replay").decide(request_dict)
    assert e.value.key == key
    assert isinstance(e.value, ValueError) and isinstance(e.value, ticketgate.TicketgateError)


def test_options_are_the_core_options_and_a_misspelt_one_is_named() -> None:
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(durablity="always")  # type: ignore[call-arg]
    assert e.value.key == "durablity"
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(peer_signals={"ratio": 0.5})
    assert e.value.key.startswith("peer_signals")
    # None is "not given", as for any keyword argument with a default
    gate = ticketgate.Gate(clock="replay", policies=None, canaries=None, velocity=None)
    assert gate.policy_version.startswith("sha256:")


def test_the_contracts_first_options_may_be_given_in_order(
    tmp_path: pathlib.Path, request_dict: Dict[str, Any]
) -> None:
    # DESIGN.md writes Gate(policies=None, audit_log=None, durability="always", velocity=None, ...)
    log = tmp_path / "audit.jsonl"
    gate = ticketgate.Gate(ROOT / "policies", log, "none", {"window_s": 60, "soft": 1, "hard": 2}, clock="replay")
    assert gate.decide(request_dict).velocity["hard"] == 2
    assert log.exists()
    with pytest.raises(TypeError):
        ticketgate.Gate(ROOT / "policies", policies=ROOT / "policies")  # type: ignore[misc]
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(None, None, "sometimes", clock="replay")
    assert e.value.key == "durability"


def test_not_a_mapping_is_invalid() -> None:
    with pytest.raises(ticketgate.InvalidRequest):
        ticketgate.Gate(clock="replay").decide(["not", "a", "request"])


def test_policy_errors_carry_file_and_line(tmp_path: pathlib.Path) -> None:
    for f in (ROOT / "policies").glob("*.ceda*"):
        shutil.copy(f, tmp_path)
    (tmp_path / "broken.cedar").write_text('@id("x")\npermit (principal, action, resource)\nwhen { principal.nope };\n')
    with pytest.raises(ticketgate.PolicyError) as e:
        ticketgate.Gate(clock="replay", policies=tmp_path)
    assert e.value.file == "broken.cedar"
    assert e.value.line == 3 and e.value.column == 8 and e.value.policy_id == "x"
    assert e.value.diagnostics[0]["file"] == "broken.cedar"
    gate = ticketgate.Gate(clock="replay")
    before = gate.policy_version
    with pytest.raises(ticketgate.PolicyError):
        gate.reload(tmp_path)
    assert gate.policy_version == before
    (tmp_path / "broken.cedar").unlink()
    assert gate.reload(tmp_path) == before  # same files, same version


def test_view_masks_the_record(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay")
    record = {"name": "Jane Doe", "email": "jane.doe@example.com", "phone": "555-555-1234",
              "ticket_numbers": ["TCK-004512"], "plan": "gold"}
    assert gate.view(request_dict, record)["phone"] == "***-***-1234"
    request_dict["ticket"]["assignee"] = "bob"
    masked = gate.view_many([(request_dict, record)])[0]
    assert isinstance(masked, dict)
    assert masked == {"name": "J*** D**", "email": "j***@example.com", "phone": "***-***-1234",
                      "ticket_numbers": None, "plan": "gold"}
    with pytest.raises(ticketgate.InvalidRequest) as e:
        gate.view(request_dict, {"phone": 5551234})
    assert e.value.key == "record.phone"
    # a record that is not an object (null included: it would read as an empty record) is the
    # record's fault, in a view and in a batch's item
    for bad in [None, 5, ["Jane Doe"]]:
        with pytest.raises(ticketgate.InvalidRequest) as e:
            gate.view(request_dict, bad)
        assert e.value.key == "record" and "expected" in e.value.reason and "an object" in e.value.reason, e.value
        failed = gate.view_many([(request_dict, record), (request_dict, bad)])[1]
        assert isinstance(failed, ticketgate.InvalidRequest) and failed.key == "[1].record", failed
    assert ticketgate.mask("name", "Γιώργος") == "Γ******"
    # a column named in another case is still the field
    assert gate.view(request_dict, {"Ticket_Numbers": ["TCK-004512"], "EMAIL": "jane.doe@example.com"}) == {
        "Ticket_Numbers": None, "EMAIL": "j***@example.com"}


def test_decide_many_and_bad_index(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay")
    ds = gate.decide_many([request_dict, request_dict])
    assert [d.outcome("name") for d in ds if isinstance(d, ticketgate.Decision)] == ["reveal", "reveal"]
    # one bad item does not lose the decisions already made for the others
    out = gate.decide_many([request_dict, {"employee": {"id": "x"}}, request_dict])
    assert isinstance(out[0], ticketgate.Decision) and isinstance(out[2], ticketgate.Decision)
    err = out[1]
    assert isinstance(err, ticketgate.InvalidRequest)
    assert err.key.startswith("[1]") and err.index == 1


def test_batch_results_are_made_without_gc_runs_and_leave_the_gc_as_found(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay")
    pairs = [(request_dict, {"name": "Jane Doe", "ticket_numbers": ["TCK-004512"]})] * 300 + [({}, {})]
    runs: List[int] = []

    def count(phase: str, info: Dict[str, int]) -> None:
        if phase == "start":
            runs.append(info["generation"])

    threshold = gc.get_threshold()
    gc.callbacks.append(count)
    try:
        # a collection every 10 new containers: 300 views (a dict, a list, a decision) would
        # set off about 90 if the results were made with the GC running
        gc.set_threshold(10)
        views = gate.view_many(pairs)
        decisions = gate.decide_many([request_dict] * 300)
        assert len(runs) < 10, runs
        assert gc.isenabled()
        assert isinstance(views[0], ticketgate.View) and isinstance(views[-1], ticketgate.InvalidRequest)
        assert views[0].decision.outcome("name") == "reveal" and len(decisions) == 300
        gc.disable()
        gate.view_many(pairs)
        assert not gc.isenabled(), "a GC the caller disabled stays disabled"
    finally:
        gc.enable()
        gc.set_threshold(*threshold)
        gc.callbacks.remove(count)


def test_eight_threads_decide_at_once(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay", velocity={"window_s": 3600, "soft": 10_000, "hard": 10_000, "day": {"soft": 10_000, "hard": 10_000}})
    errors: List[str] = []
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(200):
            r = {**request_dict, "customer": {**request_dict["customer"], "id": f"c{t}-{i}"},
                 "ticket": {**request_dict["ticket"], "customer": f"c{t}-{i}",
                            "assignee": "alice" if i % 2 else "bob"}}
            d = gate.decide(r)
            want = "reveal" if i % 2 else "mask"
            if d.outcome("name") != want or d.customer != f"c{t}-{i}":
                errors.append(f"{t}/{i}: {d!r}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def test_suspension_and_alert_callback(request_dict: Dict[str, Any]) -> None:
    seen: List[str] = []
    done = threading.Event()

    def on_alert(alert: Dict[str, str], decision: ticketgate.Decision) -> None:
        seen.append(alert["kind"])
        if alert["kind"] == "suspended":
            done.set()
            raise RuntimeError("a broken callback must not break decisions")

    gate = ticketgate.Gate(clock="replay", on_alert=on_alert)
    gate.suspend("alice", "investigation")
    assert gate.suspended()[0]["employee"] == "alice"
    with pytest.raises(ticketgate.InvalidRequest) as e:
        gate.suspend("", "x")
    assert e.value.key == "employee_id"
    d = gate.decide(request_dict)
    assert d.revealed == [] and any(a["kind"] == "suspended" for a in d.alerts)
    assert done.wait(5)
    assert gate.reinstate("alice") is True
    assert gate.decide(request_dict).outcome("name") == "reveal"
    assert "suspended" in seen


def test_bad_gate_options() -> None:
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(clock="replay", durability="sometimes")
    assert e.value.key == "durability"
    with pytest.raises(ticketgate.InvalidRequest):
        ticketgate.Gate(clock="replay", velocity={"window_s": 60, "soft": 10, "hard": 5})
    with pytest.raises(ticketgate.InvalidRequest):
        ticketgate.Gate(clock="replay", velocity={"windows": 60})


def test_audit_from_python(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    log = tmp_path / "audit.jsonl"
    gate = ticketgate.Gate(clock="replay", audit_log=log)
    gate.decide({**request_dict, "client": "helpdesk"})
    affected = gate.audit_affected("alice", reader="sec-team")
    assert [a["customer"] for a in affected] == ["c1"]
    assert gate.audit_customer("c1")[0]["client"] == "helpdesk"
    # questions that could only answer "nobody" are refused, not answered
    with pytest.raises(ticketgate.InvalidRequest) as e:
        gate.audit_affected("alice", since="2026-12-01T00:00:00Z", until="2026-11-01T00:00:00Z")
    assert e.value.key == "until"
    with pytest.raises(ticketgate.InvalidRequest) as e:
        gate.audit_suspects([])
    assert e.value.key == "customers"
    head = gate.audit_head()
    assert head is not None and head.startswith("3:")
    report = ticketgate.verify_audit([log], expect_head=head)
    assert report["records"] == 3
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    with pytest.raises(ticketgate.AuditError):
        ticketgate.verify_audit([log])


def test_unwritable_audit_log_is_an_audit_error(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ticketgate.AuditError):
        ticketgate.Gate(clock="replay", audit_log="/dev/full")


def test_stubs_match_the_module() -> None:
    r = subprocess.run([sys.executable, "-m", "mypy.stubtest", "ticketgate._native"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_package_type_checks_strictly() -> None:
    # py.typed promises types to the projects that use the package: mypy --strict holds it to that
    here = ROOT / "bindings" / "python"
    r = subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(here / "pyproject.toml"),
                        str(here / "python" / "ticketgate")], capture_output=True, text=True, cwd=here)
    assert r.returncode == 0, r.stdout + r.stderr


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_python_examples_in_the_docs_run(doc: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = doc.read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python\n")[1:]]
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, str(doc.relative_to(ROOT)), "exec"), {"__name__": "docs"})


def test_shadow_mode(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay", mode="shadow")
    d = gate.decide({**request_dict, "ticket": None})
    assert d.outcome("name") == "reveal"
    assert d.would_enforce is not None and d.would_enforce["name"] == "withhold"
    assert ticketgate.Gate(clock="replay").decide(request_dict).would_enforce is None
    with pytest.raises(ticketgate.InvalidRequest):
        ticketgate.Gate(clock="replay", mode="lenient")


def test_async_decisions_for_asgi_views(request_dict: Dict[str, Any]) -> None:
    import asyncio

    gate = ticketgate.Gate(clock="replay")

    async def main() -> List[str]:
        ds = await asyncio.gather(*(gate.decide_async(request_dict) for _ in range(20)))
        card = await gate.view_async(request_dict, {"name": "Jane Doe"})
        many = await gate.decide_many_async([request_dict, {**request_dict, "purpose": "nope"}])
        assert isinstance(many[1], ticketgate.InvalidRequest) and many[1].key == "[1].purpose"
        page = await gate.view_many_async([(request_dict, {"name": "Jane Doe"})] * 3)
        return [d.outcome("name") for d in ds] + [card["name"]] + [v["name"] for v in page]  # type: ignore[index]

    assert asyncio.run(main()) == ["reveal"] * 20 + ["Jane Doe"] * 4


def test_view_carries_its_one_decision(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    log = tmp_path / "audit.jsonl"
    gate = ticketgate.Gate(clock="replay", audit_log=log)
    v = gate.view(request_dict, {"name": "Jane Doe", "phone": "555-555-1234"})
    assert isinstance(v, ticketgate.View) and v == {"name": "Jane Doe", "phone": "***-***-1234"}
    assert v.decision.outcome("phone") == "mask" and v.decision.decision_id
    assert ticketgate.verify_audit([log])["records"] == 1  # one decision, one record
    many = gate.view_many([(request_dict, {"name": "Jane Doe"}), ({"employee": {}}, {})])
    assert isinstance(many[0], ticketgate.View) and many[0].decision.outcome("name") == "reveal"
    assert isinstance(many[1], ticketgate.InvalidRequest) and many[1].index == 1


def test_alerts_carry_severity_and_episode_and_peer_signals_are_checked(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay", peer_signals={"ratio": 4, "min_excess": 5, "min_peers": 2})
    no_ticket = {**request_dict, "ticket": None}
    first, second = gate.decide(no_ticket).alerts, gate.decide(no_ticket).alerts
    a = next(x for x in first if x["kind"] == "no_ticket")
    assert a["severity"] == "low" and a["occurrence"] == 1
    assert next(x for x in second if x["kind"] == "no_ticket")["occurrence"] == 2
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(clock="replay", peer_signals={"ratio": 0.5})
    assert e.value.key == "peer_signals.ratio"
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(clock="replay", peer_signals={"ratoi": 3})
    assert "ratoi" in str(e.value)


def test_a_restarted_gate_restores_what_its_memory_store_forgot(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    trail = tmp_path / "trail"
    trail.mkdir()
    velocity = {"window_s": 3600, "soft": 1, "hard": 1}
    before = ticketgate.Gate(clock="replay", audit_log=trail, velocity=velocity)
    assert before.decide(request_dict).outcome("name") == "reveal"
    before.suspend("mallory", "sold customer data")
    before.close()
    after = ticketgate.Gate(clock="replay", audit_log=trail, velocity=velocity)
    assert after.needs_restore  # the memory store, and a trail
    assert after.restore() == {"suspended": ["mallory"], "revoked": [], "counted": 1, "skipped": []}
    assert [s["employee"] for s in after.suspended()] == ["mallory"]
    other = {**request_dict, "customer": {**request_dict["customer"], "id": "c2"}}
    other["ticket"] = {**request_dict["ticket"], "customer": "c2"}
    assert after.decide(other).outcome("name") != "reveal"  # alice's one customer is counted
    mallory = {**request_dict, "employee": {**request_dict["employee"], "id": "mallory"}}
    mallory["ticket"] = {**request_dict["ticket"], "assignee": "mallory"}
    assert {f["outcome"] for f in after.decide(mallory).fields.values()} == {"withhold"}
    assert not ticketgate.Gate(clock="replay").needs_restore
    with pytest.raises(ticketgate.InvalidRequest):
        ticketgate.Gate(clock="replay").restore()  # no trail to restore from
    shared = ticketgate.Gate(clock="replay", audit_log=trail, velocity_store=f"sqlite:///{tmp_path}/v.db")
    assert not shared.needs_restore  # a shared store keeps its own state


def test_the_bench_loop_decides_and_audits_each_time_and_refuses_bad_input(
    tmp_path: pathlib.Path, request_dict: Dict[str, Any]
) -> None:
    # benches/python_bench.py times `decide` against it: it must be the core's real decide
    gate = ticketgate.Gate(clock="replay", audit_log=str(tmp_path / "audit.jsonl"))
    assert gate._call("decide_loop", {"request": request_dict, "times": 3}) >= 0
    head = gate.audit_head()
    assert head is not None and head.startswith("3:"), head
    with pytest.raises(ticketgate.InvalidRequest, match="employee"):
        gate._call("decide_loop", {"request": {**request_dict, "employee": 1}, "times": 1})
