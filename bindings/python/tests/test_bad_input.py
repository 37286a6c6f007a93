"""The bad-input catalogue (docs/bad-input.md): every row is a case here."""

import copy
import re
import shutil
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict

import pytest

import ticketgate
from conftest import ROOT

ROWS = re.findall(r"^\| `([a-z0-9-]+)` \|", (ROOT / "docs" / "bad-input.md").read_text(), re.M)


def nested(n: int) -> Any:
    v: Any = "x"
    for _ in range(n):
        v = [v]
    return v


def decide(change: Callable[[Dict[str, Any]], None], live: bool = False) -> Callable[[Dict[str, Any]], None]:
    def run(req: Dict[str, Any]) -> None:
        req = copy.deepcopy(req)
        change(req)
        (ticketgate.Gate() if live else ticketgate.Gate(clock="replay")).decide(req)

    return run


def bad_pack(tmp: Any) -> None:
    for f in (ROOT / "policies").glob("*.ceda*"):
        shutil.copy(f, tmp)
    (tmp / "broken.cedar").write_text('@id("x")\npermit (principal, action, resource)\nwhen { principal.nope };\n')
    ticketgate.Gate(policies=tmp)


CASES: Dict[str, Any] = {
    "malformed-json": (lambda req: ticketgate.Gate(clock="replay").decide('{"employee":'), ticketgate.InvalidRequest, ""),
    "wrong-type": (decide(lambda r: r["customer"].update(vip="yes")), ticketgate.InvalidRequest, "customer.vip"),
    "huge-string": (decide(lambda r: r.update(client="x" * 2000)), ticketgate.InvalidRequest, "client"),
    "huge-list": (decide(lambda r: r["employee"].update(teams=["t"] * 1_000_000)), ticketgate.InvalidRequest, "employee.teams"),
    "deep-nesting": (decide(lambda r: r.update(justification=nested(100_000))), ticketgate.InvalidRequest, "justification"),
    "non-utf8": (decide(lambda r: r["employee"].update(id="\ud800")), ticketgate.InvalidRequest, "employee.id"),
    "naive-time": (decide(lambda r: r.update(at=datetime(2026, 11, 28, 10))), ticketgate.InvalidRequest, "at"),
    "unknown-key": (decide(lambda r: r["employee"].update(nickname="x")), ticketgate.InvalidRequest, "employee.nickname"),
    "unknown-purpose": (decide(lambda r: r.update(purpose="curiosity")), ticketgate.InvalidRequest, "purpose"),
    "missing-fact": (decide(lambda r: r["customer"].pop("vip")), ticketgate.InvalidRequest, "customer"),
    "at-out-of-window": (
        decide(lambda r: r.update(at=datetime.now(timezone.utc) + timedelta(hours=1)), live=True),
        ticketgate.InvalidRequest,
        "at",
    ),
    "blank-id": (decide(lambda r: (r["customer"].update(id="  "), r["ticket"].update(customer="  "))),
                 ticketgate.InvalidRequest, "customer.id"),
    "ticket-mismatch": (decide(lambda r: r["ticket"].update(customer="c2")), ticketgate.InvalidRequest, "ticket.customer"),
    "duplicate-key": None,  # Node only: a Python dict cannot hold a key twice
    "empty-grant-key": (lambda req: ticketgate.Gate(grant_key=""), ticketgate.InvalidRequest, "grant_key"),
    "invalid-pack": ("pack", ticketgate.PolicyError, None),
}


def test_every_row_of_the_catalogue_is_a_case() -> None:
    assert ROWS and set(ROWS) == set(CASES)


@pytest.mark.parametrize("row", [r for r in ROWS if CASES.get(r)])
def test_bad_input(row: str, request_dict: Dict[str, Any], tmp_path: Any) -> None:
    run, exc, key = CASES[row]
    with pytest.raises(exc) as e:
        if run == "pack":
            bad_pack(tmp_path)
        else:
            run(request_dict)
    if key is not None:
        assert e.value.key == key or e.value.key.startswith(key + "["), e.value
    assert isinstance(e.value, ticketgate.TicketgateError)
