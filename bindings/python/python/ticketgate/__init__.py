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
from ._native import OUTCOMES, Decision, Gate, mask, verify_audit
from ._types import AccessRequest, Customer, Employee, Grant, Shift, Ticket, WeeklyShift

__all__ = [
    "Gate",
    "Decision",
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
