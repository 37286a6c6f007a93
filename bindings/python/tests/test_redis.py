"""Velocity and the kill switch shared through a real Redis server across processes."""

import multiprocessing
import socket
import subprocess
import time
from typing import Any, Dict, Iterator, List

import pytest

import ticketgate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    port = free_port()
    try:
        proc = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        pytest.fail("redis-server is not installed (scripts/test.sh installs it with apt-get)")
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/"
    proc.kill()
    proc.wait()


def request(customer: str, employee: str = "alice") -> Dict[str, Any]:
    return {
        "employee": {"id": employee, "roles": ["agent"], "teams": ["billing"], "segments": ["consumer"],
                     "shift": {"start": "2026-11-28T00:00:00Z", "end": "2026-11-29T00:00:00Z"}},
        "customer": {"id": customer, "segment": "consumer", "vip": False, "employee": False},
        "ticket": {"id": f"T-{customer}", "customer": customer, "assignee": employee, "queue": "billing",
                   "status": "open", "opened_at": "2026-11-28T00:00:00Z"},
        "purpose": "support",
        "at": "2026-11-28T10:00:00Z",
    }


def _worker(url: str, employee: str, prefix: str, n: int) -> int:
    gate = ticketgate.Gate(clock="replay", redis_url=url)
    revealed = 0
    for i in range(n):
        d = gate.decide(request(f"{prefix}-{i}", employee))
        assert d.fields["name"]["errors"] == [], d.fields["name"]
        revealed += d.outcome("name") == "reveal"
    return revealed


def test_two_processes_racing_never_pass_the_hard_limit(redis_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        counts: List[int] = pool.starmap(_worker, [(redis_url, "racer", "p0", 25), (redis_url, "racer", "p1", 25)])
    assert sum(counts) == 30, counts


def test_suspension_reaches_another_gate(redis_url: str) -> None:
    a = ticketgate.Gate(clock="replay", redis_url=redis_url)
    b = ticketgate.Gate(clock="replay", redis_url=redis_url)
    a.suspend("mallory", "bulk export")
    d = b.decide(request("c1", "mallory"))
    assert d.revealed == [] and any(x["kind"] == "suspended" for x in d.alerts)
    assert [s["employee"] for s in b.suspended()] == ["mallory"]
    assert b.reinstate("mallory") is True
    assert a.decide(request("c1", "mallory")).outcome("name") == "reveal"


def test_unreachable_redis_fails_closed() -> None:
    gate = ticketgate.Gate(clock="replay", redis_url=f"redis://127.0.0.1:{free_port()}/")
    d = gate.decide(request("c1"))
    assert d.revealed == []
    assert d.outcome("email") == "mask"
    assert any("redis" in e for e in d.fields["name"]["errors"])
    with pytest.raises(ticketgate.StoreError):
        gate.suspend("alice", "x")
    with pytest.raises(ticketgate.StoreError):
        ticketgate.Gate(clock="replay", redis_url="not a url")
