"""The request shapes as ``TypedDict``s, so a type checker catches a misspelt key.

Required keys are in the ``_...Required`` bases; the rest may be absent or ``None``.
Requests may also be any ``Mapping`` or a dataclass of the same shape.
"""

from datetime import datetime
from typing import List, Literal, Optional, TypedDict, Union

Time = Union[str, datetime]
"""RFC 3339 with an offset, or a timezone-aware ``datetime``."""

Purpose = Literal["support", "security_review", "legal_request", "incident"]

__all__ = ["AccessRequest", "Customer", "Employee", "Grant", "Purpose", "Shift", "Ticket", "Time"]


class Shift(TypedDict):
    start: Time
    end: Time


class _EmployeeRequired(TypedDict):
    id: str
    segments: List[str]  # an employee serves nothing until told


class Employee(_EmployeeRequired, total=False):
    roles: Optional[List[str]]
    teams: Optional[List[str]]
    office_country: Optional[str]
    shift: Optional[Shift]
    suspended: Optional[bool]


class Customer(TypedDict):
    id: str
    segment: Literal["consumer", "business", "government"]
    vip: bool
    employee: bool


class _TicketRequired(TypedDict):
    id: str
    customer: str
    queue: str
    status: Literal["open", "pending", "solved", "closed"]
    opened_at: Time


class Ticket(_TicketRequired, total=False):
    assignee: Optional[str]
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
