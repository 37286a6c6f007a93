"""ticketgate: may this employee see this customer's contact data right now?

    >>> gate = Gate()                              # embedded default policy pack
    >>> decision = gate.decide(request)            # dict, Mapping or dataclass
    >>> decision.outcome("phone")                  # "reveal" | "mask" | "withhold"
    >>> gate.view(request, record)                 # the record with the decision applied (.decision)

``Gate(...)`` takes keyword options (the first six also in this order: ``policies``,
``audit_log``, ``durability``, ``velocity``, ``redis_url``, ``on_alert``), each documented in
the repository's docs/deployment.md, docs/audit.md and docs/grants.md:

- ``policies``: a pack directory (default: the embedded pack);
- ``clock``: ``"live"`` (default; ``at`` near now) or ``"replay"``; ``max_skew_s``, ``max_age_s``;
- ``velocity``: ``{"window_s": 3600, "soft": 15, "hard": 30}``; ``velocity_store``: ``"memory"``,
  ``"sqlite:///path"`` (the processes of one host) or ``"redis://..."`` (a fleet); ``redis_url``;
- ``audit_log``: a file, or a directory of per-process segments; ``durability``: ``"always"``,
  ``"batched"`` or ``"none"``; ``audit_key``; ``audit_checkpoint``; ``audit_rotate_bytes``;
  ``audit_rotate_daily``;
- ``grant_key``: the secret (or list of secrets, newest first) that signs and verifies grants;
- ``on_alert``: ``callable(alert: dict, decision: Decision | None)``, off the deciding thread;
- ``mode``: ``"enforce"`` or ``"shadow"``; ``canaries``: decoy customer ids.

Evaluation releases the GIL. Errors are ``TicketgateError`` subclasses.
"""

import asyncio
from datetime import datetime
from os import PathLike
from typing import Any, Callable, Dict, Iterable, List, Literal, Mapping, Optional, Tuple, Union, cast

from ._errors import AuditError, InvalidRequest, PolicyError, StoreError, TicketgateError
from . import _native
from ._native import OUTCOMES, Decision
from ._types import AccessRequest, Alert, Customer, Employee, Grant, PeerSignals, Severity, Shift, Ticket, WeeklyShift


_Path = Union[str, "PathLike[str]"]
_Time = Union[str, datetime]  # RFC 3339 with an offset, or an aware datetime
_Secret = Union[str, bytes]
_Grant = Union[Grant, Mapping[str, Any]]


def verify_audit(
    paths: Iterable[_Path],
    expect_head: Optional[str] = None,
    key: Optional[_Secret] = None,
    checkpoint: Optional[_Path] = None,
) -> Dict[str, Any]:
    """Verifies audit files or directories (every segment, each chain on its own); returns
    ``{"records", "files", "segments", "head"}`` or raises ``AuditError`` naming the file and
    line of the first break. ``expect_head`` (``"SEQ:HASH"``) or ``checkpoint`` catch a cut tail."""
    args = {"paths": paths, "expect_head": expect_head, "key": key, "checkpoint": checkpoint}
    return _native.verify_audit(args)


def mask(field: str, value: Union[str, List[str], None]) -> Union[str, List[Optional[str]], None]:
    """``value`` masked by the rules of ``field``, as ``view`` masks a record's value: a string,
    or a list of strings item by item (a record's ticket numbers). ``None`` where the rules
    cannot mask (an email without ``@``). Anything else raises ``InvalidRequest`` naming it."""
    return _native.mask({"field": field, "value": value})  # type: ignore[no-any-return]


class View(Dict[str, Any]):
    """A contact record with a decision applied: revealed values as they are, masked values
    masked, withheld values ``None``, other keys untouched. ``decision`` is the one decision
    (and audit record) behind it, with its id and reasons to show."""

    # one slot rather than an attribute dict per view, and dict's own __init__ called
    # directly: a list page of views is made three times faster (6 -> 2 ms for 10,000)
    __slots__ = ("decision",)
    decision: Decision

    def __init__(self, record: Mapping[str, Any], decision: Decision) -> None:
        dict.__init__(self, record)
        self.decision = decision


class Gate(_native.Gate):
    """Decides, per contact field, what an employee may see (see the module docstring).

    Besides the blocking methods, ``decide_async``, ``view_async``, ``decide_many_async`` and
    ``view_many_async`` are awaitable for ASGI views: they run on the event loop's thread pool,
    and the work itself releases the GIL.
    """

    def __new__(
        cls,
        policies: Optional[_Path] = None,
        audit_log: Optional[_Path] = None,
        durability: Optional[Literal["always", "batched", "none"]] = None,
        velocity: Optional[Mapping[str, Any]] = None,
        redis_url: Optional[str] = None,
        on_alert: Optional[Callable[[Alert, Optional[Decision]], object]] = None,
        **options: Any,
    ) -> "Gate":
        """DESIGN.md's first six options may also be given in its order; the rest by keyword."""
        named: Dict[str, Any] = dict(policies=policies, audit_log=audit_log, durability=durability,
                                     velocity=velocity, redis_url=redis_url, on_alert=on_alert)
        return cast("Gate", super().__new__(cls, **named, **options))

    def reload(self, policies: _Path) -> str:
        """Loads a pack directory and swaps it in atomically; returns the new version.
        On error the old pack keeps serving."""
        return self._call("reload", {"policies": policies})  # type: ignore[no-any-return]

    def suspend(self, employee_id: str, reason: str) -> None:
        """Suspends an employee on every gate sharing this store."""
        self._call("suspend", {"employee_id": employee_id, "reason": reason})

    def reinstate(self, employee_id: str) -> bool:
        """Lifts a suspension; returns whether there was one."""
        return self._call("reinstate", {"employee_id": employee_id})  # type: ignore[no-any-return]

    def suspended(self) -> List[Dict[str, str]]:
        """Current suspensions as dicts ``{employee, reason, at}``."""
        return self._call("suspended", {})  # type: ignore[no-any-return]

    def alert_stats(self) -> Tuple[int, int]:
        """Alert deliveries that did not go through: ``(failed, dropped)``."""
        stats = self._call("alert_stats", {}) or {}
        return stats.get("failed", 0), stats.get("dropped", 0)

    def alerts_delivered(self) -> int:
        """Alerts handed to ``on_alert`` so far (in this process)."""
        return (self._call("alert_stats", {}) or {}).get("delivered", 0)  # type: ignore[no-any-return]

    def record_reveal(self, employee_id: str, customer_id: str, at: _Time) -> None:
        """Records a past reveal, e.g. to warm velocity counts after a restart."""
        self._call("record_reveal", {"employee_id": employee_id, "customer_id": customer_id, "at": at})

    @property
    def needs_restore(self) -> bool:
        """Whether to call :meth:`restore` before deciding: the velocity store keeps nothing
        across a restart (the memory store) and there is an audit trail to restore from."""
        return self._call("needs_restore", {})  # type: ignore[no-any-return]

    def restore(self) -> Dict[str, Any]:
        """Restores from the audit trail what the velocity store forgot in a restart (the memory
        store keeps nothing): suspensions, revocations, recent reveals. Returns
        ``{suspended, revoked, counted, skipped}``. Call once at startup; it only adds."""
        return self._call("restore", {})  # type: ignore[no-any-return]

    def sign_grant(self, grant: _Grant) -> Dict[str, Any]:
        """Returns the grant with a signature this gate (and gates sharing its key) honour."""
        return self._call("sign_grant", {"grant": grant})  # type: ignore[no-any-return]

    def request_grant(self, grant: _Grant) -> Dict[str, Any]:
        """Records a request for an ``approved`` grant; returns it signed as pending (it
        reveals nothing until approved, and lapses after 12 h)."""
        return self._call("request_grant", {"grant": grant})  # type: ignore[no-any-return]

    def approve_grant(self, grant: _Grant, approver: Union[Employee, Mapping[str, Any]]) -> Dict[str, Any]:
        """Approves a pending request; ``approver`` is the approving employee's facts."""
        return self._call("approve_grant", {"grant": grant, "approver": approver})  # type: ignore[no-any-return]

    def issue_break_glass(self, grant: _Grant) -> Dict[str, Any]:
        """Issues a break-glass grant (reason and incident required, at most 1 h)."""
        return self._call("issue_break_glass", {"grant": grant})  # type: ignore[no-any-return]

    def revoke_grant(self, grant_id: str) -> None:
        """Revokes a grant on every gate sharing this gate's store."""
        self._call("revoke_grant", {"grant_id": grant_id})

    def close(self) -> None:
        """Writes out and closes the audit log (fsynced, checkpoint published, its file and lock
        let go, so a new gate may open it); a decision afterwards is an ``AuditError``. Also
        ``with ticketgate.Gate(...) as gate:``."""
        self._call("close", {})

    def __enter__(self) -> "Gate":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def audit_checkpoint(self) -> Optional[str]:
        """Forces the audit log to disk and publishes its checkpoint; returns the head
        ``"SEQ:HASH"`` (None without an audit log)."""
        return self._call("audit_checkpoint", {})  # type: ignore[no-any-return]

    def audit_head(self) -> Optional[str]:
        """The audit log's last record as ``"SEQ:HASH"`` (keep it elsewhere to detect a cut tail)."""
        return self._call("audit_head", {})  # type: ignore[no-any-return]

    def audit_affected(
        self, employee: str, since: Optional[_Time] = None, until: Optional[_Time] = None, reader: str = "python"
    ) -> List[Dict[str, Any]]:
        """Customers whose data ``employee`` saw (recorded as an ``audit_read`` by ``reader``)."""
        args = {"employee": employee, "since": since, "until": until, "reader": reader}
        return self._call("audit_affected", args)  # type: ignore[no-any-return]

    def audit_suspects(
        self, customers: Iterable[str], field: Optional[str] = None, reader: str = "python"
    ) -> List[Dict[str, Any]]:
        """Employees who saw customers who reported scam contact, most suspicious first:
        ``[{employee, matched, revealed_customers, p_value}]`` (recorded as an ``audit_read``)."""
        args = {"customers": customers, "field": field, "reader": reader}
        return self._call("audit_suspects", args)  # type: ignore[no-any-return]

    def audit_customer(self, customer: str, reader: str = "python") -> List[Dict[str, Any]]:
        """Every access to one customer (recorded as an ``audit_read`` by ``reader``)."""
        return self._call("audit_customer", {"customer": customer, "reader": reader})  # type: ignore[no-any-return]

    async def decide_async(self, request: Any) -> Decision:
        """``decide`` off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self.decide, request)

    async def view_async(self, request: Any, record: Mapping[str, Any]) -> View:
        """``view`` off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self.view, request, record)

    async def decide_many_async(self, requests: Iterable[Any]) -> List[Union[Decision, TicketgateError]]:
        """``decide_many`` off the event loop (an ASGI list page)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.decide_many, requests)

    async def view_many_async(
        self, items: Iterable[Tuple[Any, Mapping[str, Any]]]
    ) -> List[Union[View, TicketgateError]]:
        """``view_many`` off the event loop (an ASGI list page)."""
        return await asyncio.get_running_loop().run_in_executor(None, self.view_many, items)


__all__ = [
    "Gate",
    "Decision",
    "View",
    "TicketgateError",
    "InvalidRequest",
    "PolicyError",
    "AuditError",
    "StoreError",
    "verify_audit",
    "mask",
    "OUTCOMES",
    "AccessRequest",
    "Customer",
    "Employee",
    "Grant",
    "Alert",
    "PeerSignals",
    "Severity",
    "Shift",
    "Ticket",
    "WeeklyShift",
]
