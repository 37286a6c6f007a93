"""The request shapes as ``TypedDict``s, so a type checker catches a misspelt key.

Required keys are in the ``_...Required`` bases; the rest may be absent or ``None``.
Requests may also be any ``Mapping`` or a dataclass of the same shape.
"""

from datetime import datetime
from typing import List, Literal, Optional, TypedDict, Union

Time = Union[str, datetime]
"""RFC 3339 with an offset, or a timezone-aware ``datetime``."""

Purpose = Literal["support", "security_review", "legal_request", "incident"]

__all__ = [
    "AbsoluteShift",
    "AccessRequest",
    "Alert",
    "PeerSignals",
    "Severity",
    "Customer",
    "Employee",
    "Grant",
    "Id",
    "Purpose",
    "Shift",
    "Ticket",
    "Time",
    "WeeklyShift",
]


Id = Union[str, int]
"""Ids are text; an integer is taken as its decimal text."""


class AbsoluteShift(TypedDict):
    start: Time
    end: Time


class WeeklyShift(TypedDict):
    days: List[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    start: str  # local "HH:MM"
    end: str  # local "HH:MM"; before the start: the next day
    tz: str  # IANA, e.g. "Europe/Berlin"


Shift = Union[AbsoluteShift, WeeklyShift]


class _EmployeeRequired(TypedDict):
    id: Id
    segments: List[str]  # an employee serves nothing until told


class Employee(_EmployeeRequired, total=False):
    roles: Optional[List[str]]
    teams: Optional[List[str]]
    office_country: Optional[str]
    shift: Optional[Shift]
    suspended: Optional[bool]


class Customer(TypedDict):
    id: Id
    segment: Literal["consumer", "business", "government"]
    vip: bool
    employee: bool


class _TicketRequired(TypedDict):
    id: Id
    customer: Id
    queue: str
    status: Literal["open", "pending", "solved", "closed"]
    opened_at: Time


class Ticket(_TicketRequired, total=False):
    assignee: Optional[Id]
    closed_at: Optional[Time]
    callback_at: Optional[Time]
    assigned_at: Optional[Time]
    assigned_by: Optional[str]


class _GrantRequired(TypedDict):
    id: str
    kind: Literal["approved", "break_glass"]
    grantee: str
    customer: str
    fields: List[str]
    purpose: Purpose
    issued_at: Time
    expires_at: Time


class Grant(_GrantRequired, total=False):
    reason: Optional[str]
    incident: Optional[str]
    approver: Optional[str]
    approver_roles: Optional[List[str]]
    requested_at: Optional[Time]
    signature: Optional[str]


class _AccessRequestRequired(TypedDict):
    employee: Employee
    customer: Customer
    purpose: Purpose


class AccessRequest(_AccessRequestRequired, total=False):
    ticket: Optional[Ticket]
    grant: Optional[Grant]
    fields: Optional[List[str]]
    justification: Optional[str]
    at: Optional[Time]
    client: Optional[str]
    source_ip: Optional[str]
    intent: Optional[Literal["view", "preview"]]


Severity = Literal["info", "low", "medium", "high"]


class Alert(TypedDict):
    """An alert in a decision; ``occurrence`` is its place in its episode (one employee,
    kind and UTC day), 1 when it opens it. ``on_alert`` hears of an alert when it opens its
    episode or its severity rises, not for every decision."""

    kind: str
    message: str
    severity: Severity
    occurrence: int


class PeerSignals(TypedDict, total=False):
    """Thresholds of the live ``reveal_volume`` and ``self_assigned`` signals."""

    ratio: float
    min_excess: int
    min_peers: int
