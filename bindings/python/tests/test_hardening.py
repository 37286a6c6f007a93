"""Hostile and careless callers (issue 11) and the audit trail in real deployments (issue 12),
through the Python package."""

import copy
import os
import pathlib
import sys
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import pytest

import ticketgate
from conftest import ROOT

NOW = datetime.now(timezone.utc)


def live_request(base: Dict[str, Any], customer: str, at: datetime = NOW) -> Dict[str, Any]:
    """`base` moved to the live clock: a shift and an open ticket around `at`."""
    r = copy.deepcopy(base)
    r["at"] = at
    r["employee"]["shift"] = {"start": at - timedelta(hours=4), "end": at + timedelta(hours=4)}
    r["customer"]["id"] = customer
    r["ticket"].update(id=f"T-{customer}", customer=customer, opened_at=at - timedelta(hours=5))
    return r


def test_a_request_dated_ahead_cannot_empty_the_velocity_window(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(velocity={"window_s": 3600, "soft": 2, "hard": 3})
    for i in range(3):
        assert gate.decide(live_request(request_dict, f"c{i}")).outcome("name") == "reveal"
    assert gate.decide(live_request(request_dict, "c3")).outcome("name") != "reveal"
    # the old trick: one request 70 minutes (or 8,000 years) ahead
    for ahead in (timedelta(minutes=70), datetime(9999, 1, 1, tzinfo=timezone.utc) - NOW):
        with pytest.raises(ticketgate.InvalidRequest) as e:
            gate.decide(live_request(request_dict, "c4", NOW + ahead))
        assert e.value.key == "at"
    # and back at the present the window is as full as before
    assert gate.decide(live_request(request_dict, "c5")).outcome("name") != "reveal"


def test_a_request_too_far_in_the_past_is_refused_on_a_live_gate(request_dict: Dict[str, Any]) -> None:
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate().decide(live_request(request_dict, "c1", NOW - timedelta(hours=1)))
    assert e.value.key == "at" and "behind" in e.value.reason
    # a replay gate takes history at its own times, and needs `at`
    replay = ticketgate.Gate(clock="replay")
    assert replay.decide(request_dict).outcome("name") == "reveal"
    with pytest.raises(ticketgate.InvalidRequest) as e:
        replay.decide({k: v for k, v in request_dict.items() if k != "at"})
    assert e.value.key == "at"


@pytest.mark.parametrize(
    "field,value,masked",
    [
        ("phone", "０９０-１２３４-５６７８", "***-****-５６７８"),
        ("phone", "٠٥٠١٢٣٤٥٦٧", "******٤٥٦٧"),
        ("phone", "tel:555-1234", "*******-1234"),
        ("ticket_numbers", "billing-42", "billing-**"),
        ("phone", "no digits", None),
        ("email", "not-an-email", None),
    ],
)
def test_masks_follow_the_rules_in_every_script(field: str, value: str, masked: Any) -> None:
    assert ticketgate.mask(field, value) == masked


def test_mask_takes_a_list_as_a_record_holds_it() -> None:
    numbers = ["billing-42", "TCK-004512"]
    assert ticketgate.mask("ticket_numbers", numbers) == ["billing-**", "TCK-****12"]
    assert ticketgate.mask("email", ("a@x.org", "nope")) == ["a***@x.org", None]
    assert ticketgate.mask("phone", None) is None
    for bad, key in [(5, "value"), ({"a": "b"}, "value"), (["a", 5], "value[1]")]:
        with pytest.raises(ticketgate.InvalidRequest) as e:
            ticketgate.mask("name", bad)  # type: ignore[arg-type]
        assert e.value.key == key
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.mask(5, "x")  # type: ignore[arg-type]
    assert e.value.key == "field"


def test_an_unmaskable_value_is_withheld_in_a_view(request_dict: Dict[str, Any]) -> None:
    request_dict["ticket"]["assignee"] = "bob"  # alice sees masks only
    view = ticketgate.Gate(clock="replay").view(request_dict, {"email": "no at sign", "phone": "n/a"})
    assert view == {"email": None, "phone": None}


@pytest.mark.parametrize("key", ["", "short", b"x" * 31])
def test_short_grant_keys_are_refused(key: Any) -> None:
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(grant_key=key)
    assert e.value.key == "grant_key"


@pytest.mark.parametrize("options,key", [
    ({"on_alert": 5}, "on_alert"),
    ({"audit_log": "audit.jsonl", "audit_rotate_bytes": 0}, "audit_rotate_bytes"),
])
def test_options_that_cannot_work_are_refused_by_name(tmp_path: pathlib.Path, options: Dict[str, Any], key: str) -> None:
    if "audit_log" in options:
        options = {**options, "audit_log": tmp_path / options["audit_log"]}
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(**options)
    assert e.value.key == key


@pytest.mark.parametrize("option,seconds", [("max_skew_s", 3601), ("max_age_s", 86_401), ("max_age_s", 10**12)])
def test_a_live_clock_tolerance_past_its_bound_is_refused(option: str, seconds: int) -> None:
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(**{option: seconds})
    assert e.value.key == option


@pytest.mark.parametrize(
    "part,key", [("customer", "segment"), ("customer", "vip"), ("customer", "employee"), ("employee", "segments")]
)
def test_missing_sensitivity_facts_are_invalid(request_dict: Dict[str, Any], part: str, key: str) -> None:
    del request_dict[part][key]
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(clock="replay").decide(request_dict)
    assert key in str(e.value)


def test_hostile_shapes_get_typed_errors_not_crashes(request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay")
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    cases = [
        ({**request_dict, "justification": deep}, "justification"),
        ({**request_dict, "employee": {**request_dict["employee"], "teams": ["t"] * 1_000_000}}, "employee.teams"),
        ({**request_dict, "justification": "x" * 10_000}, "justification"),
        ({**request_dict, "client": "x" * 2_000}, "client"),
    ]
    for req, key in cases:
        with pytest.raises(ticketgate.InvalidRequest) as e:
            gate.decide(req)
        assert e.value.key.startswith(key), e.value
    # where any value goes (a record's other keys) the depth limit itself names the level past it
    with pytest.raises(ticketgate.InvalidRequest) as e:
        gate.view(request_dict, {"name": "Jane Doe", "notes": deep})
    assert e.value.key == "record.notes" + "[0]" * 16 and "deeper than 16" in e.value.reason, e.value
    teams = {"billing"}  # any iterable is a list
    assert gate.decide({**request_dict, "employee": {**request_dict["employee"], "teams": teams}}).outcome("name") == "reveal"


def test_a_panic_inside_the_core_is_an_exception() -> None:
    with pytest.raises(ticketgate.TicketgateError):
        ticketgate._native._test_panic()  # type: ignore[attr-defined]
    assert ticketgate.mask("name", "Jane") == "J***"  # the process is alive


def without_r7(tmp_path: pathlib.Path) -> pathlib.Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    for f in (ROOT / "policies").glob("*.ceda*"):
        text = f.read_text()
        if "R7-suspended" in text:
            start = text.index('@id("R7-suspended")')
            end = text.index(";", start) + 1
            text = text[:start] + text[end:]
        (pack / f.name).write_text(text)
    return pack


@pytest.mark.parametrize("mode", ["enforce", "shadow"])
def test_suspension_holds_in_every_mode_and_without_r7(
    tmp_path: pathlib.Path, request_dict: Dict[str, Any], mode: str
) -> None:
    gate = ticketgate.Gate(policies=without_r7(tmp_path), mode=mode, clock="replay")
    assert gate.decide(request_dict).outcome("name") == "reveal"
    gate.suspend("alice", "sold data")
    d = gate.decide(request_dict)
    assert {d.outcome(f) for f in gate.fields} == {"withhold"}
    assert "suspended" in [a["kind"] for a in d.alerts]
    flagged = copy.deepcopy(request_dict)
    flagged["employee"]["suspended"] = True
    gate.reinstate("alice")
    assert {gate.decide(flagged).outcome(f) for f in gate.fields} == {"withhold"}


def test_a_kill_switched_employee_gets_nothing_while_the_store_is_down(request_dict: Dict[str, Any]) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    gate = ticketgate.Gate(clock="replay", redis_url=f"redis://127.0.0.1:{port}/")
    with pytest.raises(ticketgate.StoreError):
        gate.suspend("alice", "investigation")
    d = gate.decide(request_dict)
    assert {d.outcome(f) for f in gate.fields} == {"withhold"}  # not even masks
    request_dict["employee"]["id"] = "bob"
    request_dict["ticket"]["assignee"] = "alice"
    assert ticketgate.Gate(clock="replay", redis_url=f"redis://127.0.0.1:{port}/").decide(request_dict).outcome("name") == "mask"


# ---- the audit trail --------------------------------------------------------------------

KEY = "k" * 32


def test_a_second_writer_is_refused_and_a_directory_gives_segments(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    log = tmp_path / "audit.jsonl"
    first = ticketgate.Gate(clock="replay", audit_log=log)
    with pytest.raises(ticketgate.AuditError) as e:
        ticketgate.Gate(clock="replay", audit_log=log)
    assert "another writer" in str(e.value)
    del first
    d = tmp_path / "segments"
    d.mkdir()
    a = ticketgate.Gate(clock="replay", audit_log=d)
    b = ticketgate.Gate(clock="replay", audit_log=d)
    a.decide(request_dict)
    b.decide(request_dict)
    report = ticketgate.verify_audit([d])
    assert report["records"] == 2 and len(report["segments"]) == 2


def test_a_keyed_trail_detects_a_plain_rewrite(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    log = tmp_path / "audit.jsonl"
    gate = ticketgate.Gate(clock="replay", audit_log=log, audit_key=KEY)
    gate.decide(request_dict)
    del gate
    ticketgate.verify_audit([log], key=KEY)
    log.unlink()
    forged = ticketgate.Gate(clock="replay", audit_log=log)
    forged.decide(request_dict)
    del forged
    with pytest.raises(ticketgate.AuditError):
        ticketgate.verify_audit([log], key=KEY)
    with pytest.raises(ticketgate.InvalidRequest):
        ticketgate.Gate(audit_log=tmp_path / "x.jsonl", audit_key="short")


def test_a_cut_tail_is_refused_at_restart(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    log = tmp_path / "audit.jsonl"
    cp = tmp_path / "elsewhere" / "head"
    gate = ticketgate.Gate(clock="replay", audit_log=log, audit_checkpoint=cp)
    for _ in range(4):
        gate.decide(request_dict)
    head = gate.audit_checkpoint()
    assert head is not None and head.startswith("4:")
    del gate
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:2]))
    with pytest.raises(ticketgate.AuditError) as e:
        ticketgate.Gate(clock="replay", audit_log=log, audit_checkpoint=cp)
    assert "cut" in str(e.value)
    with pytest.raises(ticketgate.AuditError):
        ticketgate.verify_audit([log], checkpoint=cp)


def test_a_segment_deleted_whole_is_named_by_its_checkpoint(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    trail, heads = tmp_path / "trail", tmp_path / "heads"
    trail.mkdir()
    workers = [ticketgate.Gate(clock="replay", audit_log=trail, audit_checkpoint=heads) for _ in range(3)]
    for w in workers:
        w.decide(request_dict)
    del workers, w
    assert ticketgate.verify_audit([trail], checkpoint=heads)["records"] == 3
    victim = sorted(trail.iterdir())[1]
    victim.unlink()
    with pytest.raises(ticketgate.AuditError) as e:
        ticketgate.verify_audit([trail], checkpoint=heads)
    assert victim.name in str(e.value) and "missing" in str(e.value)


def test_a_live_file_deleted_under_the_gate_stops_reveals(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    log = tmp_path / "audit.jsonl"
    gate = ticketgate.Gate(clock="replay", audit_log=log, audit_checkpoint=tmp_path / "cp")
    assert gate.decide(request_dict).outcome("name") == "reveal"
    log.unlink()  # the insider hides what comes next
    for _ in range(2):
        with pytest.raises(ticketgate.AuditError) as e:
            gate.decide(request_dict)
        assert "deleted" in str(e.value)
    del gate
    with pytest.raises(ticketgate.AuditError):  # and a restart finds the log behind its checkpoint
        ticketgate.Gate(clock="replay", audit_log=log, audit_checkpoint=tmp_path / "cp")


@pytest.mark.parametrize("path", ["/dev/full", "/dev/zero"])
def test_special_files_are_refused_at_once(path: str) -> None:
    with pytest.raises(ticketgate.AuditError):
        ticketgate.Gate(audit_log=path)


def test_a_batch_costs_one_record_per_item_and_all_or_nothing_durability(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    log = tmp_path / "audit.jsonl"
    gate = ticketgate.Gate(clock="replay", audit_log=log)
    rows = [(request_dict, {"name": "Jane Doe"})] * 50
    views = gate.view_many(rows)
    assert all(isinstance(v, dict) and v["name"] == "Jane Doe" for v in views)
    assert ticketgate.verify_audit([log])["records"] == 50


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_gate_made_before_fork_writes_its_own_segment_and_delivers_alerts(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    d = tmp_path / "audit"
    d.mkdir()
    seen: List[str] = []
    gate = ticketgate.Gate(clock="replay", audit_log=d, on_alert=lambda a, _d: seen.append(a["kind"]))
    gate.decide(request_dict)
    no_ticket = {**request_dict, "ticket": None}
    pids = []
    for w in range(4):
        pid = os.fork()
        if pid == 0:  # a worker
            code = 1
            try:
                for k in range(5):  # five employees: five alert episodes to deliver
                    gate.decide({**no_ticket, "employee": {**no_ticket["employee"], "id": f"w{w}-e{k}"}})
                for i in range(3):
                    c = f"w{w}-{i}"
                    r = copy.deepcopy(request_dict)
                    r["customer"]["id"] = c
                    r["ticket"].update(id=f"T-{c}", customer=c)
                    assert gate.decide(r).outcome("name") == "reveal"
                import time

                deadline = time.time() + 5
                while gate.alerts_delivered() < 5 and time.time() < deadline:
                    time.sleep(0.01)
                code = 0 if gate.alerts_delivered() >= 5 else 3
            finally:
                os._exit(code)
        pids.append(pid)
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    report = ticketgate.verify_audit([d])
    assert report["records"] == 1 + 4 * (5 + 3) and len(report["segments"]) == 5
    # the forensic answer over the merged trail is what the workers were shown
    affected = {a["customer"] for a in gate.audit_affected("alice", reader="sec")}
    assert affected == {"c1"} | {f"w{w}-{i}" for w in range(4) for i in range(3)}


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_worker_with_the_memory_store_is_alerted_once(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    # each worker would count velocity and hold suspensions on its own: said once per worker
    for store, expected in [(None, 1), (f"sqlite:///{tmp_path / 'v.db'}", 0)]:
        seen: List[str] = []
        gate = ticketgate.Gate(clock="replay", velocity_store=store, on_alert=lambda a, _d: seen.append(a["kind"]))
        gate.decide(request_dict)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for _ in range(3):
                    gate.decide(request_dict)
                import time

                deadline = time.time() + 5
                while len(seen) < expected and time.time() < deadline:
                    time.sleep(0.01)
                time.sleep(0.05)
                code = 0 if seen.count("store_per_process") == expected else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, store
        assert "store_per_process" not in seen  # the process that made the gate is not warned


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_single_file_mode_refuses_a_forked_child(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay", audit_log=tmp_path / "audit.jsonl")
    gate.decide(request_dict)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            gate.decide(request_dict)
        except ticketgate.AuditError as e:
            code = 0 if "fork" in str(e) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert gate.decide(request_dict).outcome("name") == "reveal"  # the parent goes on
    assert sys.platform.startswith("linux") or True


# ---- grants with a lifecycle (issue 14) -----------------------------------------------------


def grant_request(now: datetime, fields: List[str], minutes: int = 60, kind: str = "approved") -> Dict[str, Any]:
    g: Dict[str, Any] = {
        "id": "g-1", "kind": kind, "grantee": "alice", "customer": "vip-1", "fields": fields,
        "purpose": "support", "reason": "customer called about fraud",
        "issued_at": now - timedelta(minutes=1), "expires_at": now + timedelta(minutes=minutes - 1),
    }
    if kind == "break_glass":
        g["incident"] = "INC-7"
    return g


def vip_request(base: Dict[str, Any], grant: Any) -> Dict[str, Any]:
    r = live_request(base, "vip-1")
    r["customer"]["vip"] = True
    r["ticket"] = None
    r["grant"] = grant
    return r


def test_grants_are_issued_with_checks_and_revoked_across_gates(request_dict: Dict[str, Any]) -> None:
    import socket
    import subprocess
    import time

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        key = "a fleet key of at least 32 bytes!"
        a = ticketgate.Gate(grant_key=key, redis_url=url)
        b = ticketgate.Gate(grant_key=["a newer fleet key, 32 bytes long", key], redis_url=url)
        now = datetime.now(timezone.utc)
        pending = a.request_grant(grant_request(now, ["phone"]))
        assert a.decide(vip_request(request_dict, pending)).outcome("phone") == "withhold"
        sup = {"id": "sam", "roles": ["supervisor"], "segments": ["consumer"]}
        with pytest.raises(ticketgate.InvalidRequest) as e:
            a.approve_grant(pending, {**sup, "id": "alice"})
        assert e.value.key == "approver.id"
        with pytest.raises(ticketgate.InvalidRequest) as e:
            a.approve_grant(pending, {**sup, "roles": ["agent"]})
        assert e.value.key == "approver.roles"
        approved = a.approve_grant(pending, sup)
        d = b.decide(vip_request(request_dict, approved))  # b verifies with the old key
        assert d.outcome("phone") == "reveal" and d.outcome("email") != "reveal"
        a.revoke_grant(approved["id"])
        d = b.decide(vip_request(request_dict, approved))
        assert d.outcome("phone") == "withhold" and "grant_revoked" in [x["kind"] for x in d.alerts]
        with pytest.raises(ticketgate.InvalidRequest):
            a.request_grant(grant_request(now, ["phone"], minutes=9 * 60))
        with pytest.raises(ticketgate.InvalidRequest):
            a.issue_break_glass(grant_request(now, ["phone"], minutes=61, kind="break_glass"))
        bg = a.issue_break_glass({**grant_request(now, ["name"], minutes=30, kind="break_glass"), "id": "g-2"})
        d = a.decide(vip_request(request_dict, bg))
        assert d.outcome("name") == "reveal" and "break_glass" in [x["kind"] for x in d.alerts]
    finally:
        server.kill()
        server.wait()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_sqlite_store_holds_the_limit_and_the_kill_switch_across_8_processes(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    url = f"sqlite://{tmp_path / 'velocity.db'}"
    gate = ticketgate.Gate(velocity_store=url)  # made before the fork, as with gunicorn --preload
    r, w = os.pipe()
    pids = []
    for p in range(8):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                revealed = 0
                for i in range(10):
                    d = gate.decide(live_request(request_dict, f"c{p}-{i}"))
                    revealed += d.outcome("name") == "reveal"
                os.write(w, f"{revealed}\n".encode())
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    for pid in pids:
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    os.close(w)
    with os.fdopen(r) as f:
        counts = [int(x) for x in f.read().split()]
    assert sum(counts) == 30, counts
    # a suspension made by one process is seen by another at its next decision
    other = ticketgate.Gate(velocity_store=url)
    gate.suspend("bob", "investigation")
    bob = live_request(request_dict, "z1")
    bob["employee"]["id"] = "bob"
    bob["ticket"]["assignee"] = "bob"
    assert {other.decide(bob).outcome(f) for f in other.fields} == {"withhold"}
    with pytest.raises(ticketgate.InvalidRequest) as e:
        ticketgate.Gate(velocity_store="mongodb://nope")
    assert e.value.key == "velocity_store"


def test_break_glass_is_alerted_at_issue(request_dict: Dict[str, Any]) -> None:
    import threading

    got: List[Any] = []
    done = threading.Event()

    def on_alert(alert: Dict[str, str], decision: Any) -> None:
        got.append((alert["kind"], decision))
        done.set()

    gate = ticketgate.Gate(on_alert=on_alert)
    now = datetime.now(timezone.utc)
    gate.issue_break_glass(grant_request(now, ["name"], minutes=30, kind="break_glass"))
    assert done.wait(5)
    assert got == [("break_glass", None)]


def test_canaries_and_suspects(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay", audit_log=tmp_path / "a.jsonl", canaries=["c-canary"])
    canary = copy.deepcopy(request_dict)
    canary["customer"]["id"] = "c-canary"
    canary["ticket"]["customer"] = "c-canary"
    assert "canary" in [a["kind"] for a in gate.decide(canary).alerts]
    assert "canary" not in [a["kind"] for a in gate.decide(request_dict).alerts]
    # mallory sees 3 customers, all of whom complain; 5 agents see 20 customers each
    for emp, customers in [("mallory", ["v1", "v2", "v3"])] + [(f"a{i}", [f"n{i}-{j}" for j in range(20)]) for i in range(5)]:
        for c in customers:
            r = copy.deepcopy(request_dict)
            r["employee"]["id"] = emp
            r["customer"]["id"] = c
            r["ticket"].update(customer=c, assignee=emp, id=f"T-{c}")
            gate.decide(r)
    ranked = gate.audit_suspects(["v1", "v2", "v3", "n0-1"], reader="sec")
    assert ranked[0]["employee"] == "mallory" and ranked[0]["matched"] == 3
    assert ranked[0]["p_value"] < ranked[1]["p_value"]


def test_a_batch_that_is_not_a_list_is_an_invalid_request() -> None:
    gate = ticketgate.Gate(clock="replay")
    for batch in (5, None):
        for run in (gate.decide_many, gate.view_many):
            with pytest.raises(ticketgate.InvalidRequest, match="expected a list"):
                run(batch)


def test_a_batch_past_the_limit_is_refused_before_it_is_read_to_the_end() -> None:
    gate = ticketgate.Gate(clock="replay")
    taken = 0

    def endless() -> Any:
        nonlocal taken
        while True:
            taken += 1
            yield {}

    with pytest.raises(ticketgate.InvalidRequest) as e:
        gate.decide_many(endless())
    assert "batch" in str(e.value)
    assert taken <= 100_001


def test_a_batch_whose_iteration_fails_midway_raises_and_the_gate_goes_on(
    request_dict: Dict[str, Any],
) -> None:
    # the requests read before the failure are being decided on the other cores when the
    # iteration raises: the batch stops there, hands out nothing, and the gate still decides
    gate = ticketgate.Gate(clock="replay")

    def failing(pairs: bool) -> Any:
        for i in range(300):
            r = copy.deepcopy(request_dict)
            r["employee"]["id"] = r["ticket"]["assignee"] = f"e{i % 7}"
            yield (r, {"name": "Ann Lee"}) if pairs else r
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        gate.decide_many(failing(pairs=False))
    with pytest.raises(RuntimeError, match="went away"):
        gate.view_many(failing(pairs=True))
    assert gate.decide(request_dict).outcome("name") == "reveal"
    assert gate.view(request_dict, {"name": "Ann Lee"})["name"] == "Ann Lee"


def test_close_writes_out_the_log_and_lets_a_new_gate_open_it(tmp_path: pathlib.Path, request_dict: Dict[str, Any]) -> None:
    log = tmp_path / "audit.jsonl"
    with ticketgate.Gate(clock="replay", audit_log=log, durability="batched") as gate:
        gate.decide(request_dict)
        with pytest.raises(ticketgate.AuditError):
            ticketgate.Gate(clock="replay", audit_log=log)  # one writer while it is open
    with pytest.raises(ticketgate.AuditError) as e:
        gate.decide(request_dict)  # closed: no record, so no decision
    assert "closed" in str(e.value)
    again = ticketgate.Gate(clock="replay", audit_log=log)
    again.decide(request_dict)
    again.close()
    assert ticketgate.verify_audit([log])["records"] == 2
