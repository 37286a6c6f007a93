"""ticketgate: may this employee see this customer's contact data right now?

    >>> gate = Gate()                              # embedded default policy pack
    >>> decision = gate.decide(request)            # dict, Mapping or dataclass
    >>> decision.outcome("phone")                  # "reveal" | "mask" | "withhold"
    >>> gate.view(request, record)                 # the record with the decision applied (.decision)

``Gate(...)`` takes keyword options, each documented in the repository's docs/deployment.md,
docs/audit.md and docs/grants.md:

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
from typing import Any, Dict, Iterable, List, Mapping, Tuple, Union

from ._errors import AuditError, InvalidRequest, PolicyError, StoreError, TicketgateError
from . import _native
from ._native import OUTCOMES, Decision, mask, verify_audit
from ._types import AccessRequest, Alert, Customer, Employee, Grant, PeerSignals, Severity, Shift, Ticket, WeeklyShift



class View(Dict[str, Any]):
    """A contact record with a decision applied: revealed values as they are, masked values
    masked, withheld values ``None``, other keys untouched. ``decision`` is the one decision
    (and audit record) behind it, with its id and reasons to show."""

    decision: Decision

    def __init__(self, record: Mapping[str, Any], decision: Decision) -> None:
        super().__init__(record)
        self.decision = decision


class Gate(_native.Gate):
    """Decides, per contact field, what an employee may see (see the module docstring).

    Besides the blocking methods, ``decide_async`` and ``view_async`` are awaitable for ASGI
    views: they run on the event loop's thread pool, and the work itself releases the GIL.
    """

    def view(self, request: Any, record: Mapping[str, Any]) -> View:  # type: ignore[override]
        """The record with the decision applied, and the decision (``.decision``)."""
        shown, decision = super().view(request, record)
        return View(shown, decision)

    def view_many(  # type: ignore[override]
        self, items: Iterable[Tuple[Any, Mapping[str, Any]]]
    ) -> List[Union[View, TicketgateError]]:
        """``view`` for many pairs: a ``View`` or the exception (not raised) per pair."""
        return [x if isinstance(x, TicketgateError) else View(*x) for x in super().view_many(items)]

    async def decide_async(self, request: Any) -> Decision:
        """``decide`` off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self.decide, request)

    async def view_async(self, request: Any, record: Mapping[str, Any]) -> View:
        """``view`` off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, self.view, request, record)


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
