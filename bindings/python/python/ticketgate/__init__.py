"""ticketgate: may this employee see this customer's contact data right now?

    >>> gate = Gate()                              # embedded default policy pack
    >>> decision = gate.decide(request)            # dict, Mapping or dataclass
    >>> decision.outcome("phone")                  # "reveal" | "mask" | "withhold"
    >>> gate.view(request, record)                 # the record with the decision applied

``Gate(policies=None, audit_log=None, durability="always", velocity=None, redis_url=None,
on_alert=None, grant_key=None)``:

- ``policies``: a pack directory (default: the embedded pack);
- ``audit_log``: path of the hash-chained audit log; ``durability``: ``"always"`` (fsync
  before returning, group-committed), ``"batched"`` or ``"none"``;
- ``velocity``: ``{"window_s": 3600, "soft": 15, "hard": 30}``;
- ``redis_url``: share velocity counts and suspensions across hosts;
- ``on_alert``: ``callable(alert: dict, decision: Decision)``, run off the deciding thread;
- ``grant_key``: the secret that signs and verifies grants (share it across a fleet).

Evaluation releases the GIL. Errors are ``TicketgateError`` subclasses.
"""

from ._errors import AuditError, InvalidRequest, PolicyError, StoreError, TicketgateError
import asyncio
from typing import Any, Dict, Iterable, List, Mapping, Tuple, Union

from . import _native
from ._native import OUTCOMES, Decision, mask, verify_audit
from ._types import AccessRequest, Customer, Employee, Grant, Shift, Ticket, WeeklyShift



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
    "Shift",
    "Ticket",
    "WeeklyShift",
]
