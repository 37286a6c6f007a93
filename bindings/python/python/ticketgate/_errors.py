"""The exception tree of ticketgate. The native module raises these classes."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

__all__ = ["TicketgateError", "InvalidRequest", "PolicyError", "AuditError", "StoreError"]


class TicketgateError(Exception):
    """Base class of every error ticketgate raises."""


class InvalidRequest(TicketgateError, ValueError):
    """The request (or record) is malformed; no decision was made.

    ``key`` is the dotted path of the bad key (e.g. ``"ticket.closed_at"``), ``reason`` why.
    """

    key: str = ""
    reason: str = ""


class PolicyError(TicketgateError):
    """A policy pack failed to load or validate.

    ``diagnostics`` lists every problem as ``{file, line, column, policy_id, message}``;
    ``file``, ``line``, ``column`` and ``policy_id`` repeat the first one.
    """

    diagnostics: List[Dict[str, Any]] = []
    file: Optional[str] = None
    line: Optional[int] = None
    column: Optional[int] = None
    policy_id: Optional[str] = None


class AuditError(TicketgateError):
    """The audit log could not be written, read or verified. ``path`` names the file."""

    path: Optional[str] = None


class StoreError(TicketgateError):
    """The velocity / suspension store (e.g. Redis) failed."""
