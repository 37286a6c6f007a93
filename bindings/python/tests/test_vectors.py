"""Every shared JSON vector, through the Python surface."""

from typing import Any, Dict

import pytest

import ticketgate
from conftest import one_minute_before, vector_cases

CASES = list(vector_cases())


def test_there_are_enough_vectors() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("name,case", CASES, ids=[n for n, _ in CASES])
def test_vector(name: str, case: Dict[str, Any]) -> None:
    gate = ticketgate.Gate(clock="replay")
    request = dict(case["request"])
    if isinstance(request.get("grant"), dict) and case.get("sign_grant", True):
        request["grant"] = gate.sign_grant(request["grant"])
    if "expect_error" in case:
        with pytest.raises(getattr(ticketgate, case["expect_error"])):
            gate.decide(request)
        return
    if case.get("revoke_grant"):
        gate.revoke_grant(request["grant"]["id"])
    for i in range(case.get("velocity_count", 0)):
        gate.record_reveal(request["employee"]["id"], f"velocity-seed-{i}", one_minute_before(request["at"]))
    decision = gate.decide(request)
    got = {field: decision.outcome(field) for field in case["expect"]}
    assert got == case["expect"], decision.fields
    if "expect_alerts" in case:
        assert sorted(a["kind"] for a in decision.alerts) == sorted(case["expect_alerts"])
