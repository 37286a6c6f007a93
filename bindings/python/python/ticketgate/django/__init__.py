"""Django integration: one gate per process configured from ``settings.TICKETGATE``, access
requests built from ``request.user`` through a small adapter the project supplies, a template
filter and tag that render a gated contact card, and middleware that records ``client`` and
``source_ip``.

Add ``"ticketgate.django"`` to ``INSTALLED_APPS`` and ``"ticketgate.django.TicketgateMiddleware"``
to ``MIDDLEWARE``, and configure::

    TICKETGATE = {
        "velocity_store": "sqlite:////var/lib/helpdesk/velocity.db",  # any Gate option
        "audit_log": "/var/log/helpdesk/audit/",                         # a directory: a segment per worker
        "adapter": "helpdesk.access.Adapter",                            # optional; see EmployeeAdapter
        "client": "helpdesk-web",
    }
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Protocol, Tuple

from .. import Gate, View

__all__ = ["EmployeeAdapter", "ProfileAdapter", "TicketgateMiddleware", "access", "gate", "view", "view_many"]

_lock = threading.Lock()
_gate: Optional[Gate] = None
_pid: Optional[int] = None
_NOT_GATE_OPTIONS = {"adapter", "client", "trusted_proxy", "restore"}


def _settings() -> Dict[str, Any]:
    from django.conf import settings

    return dict(getattr(settings, "TICKETGATE", {}))


def gate() -> Gate:
    """The process's gate, made on first use from ``settings.TICKETGATE`` (and again in a
    process forked after it was made, so each worker has its own). With an ``audit_log`` and
    the memory velocity store, which keeps nothing across a restart, the new gate restores
    suspensions, revocations and velocity counts from the trail (``"restore": False`` skips
    it)."""
    global _gate, _pid
    with _lock:
        if _gate is None or _pid != os.getpid():
            conf = _settings()
            options = {k: v for k, v in conf.items() if k not in _NOT_GATE_OPTIONS}
            made = Gate(**options)
            if conf.get("restore", made.needs_restore):
                for gap in made.restore()["skipped"]:
                    logging.getLogger("ticketgate").warning("restore passed over part of the trail: %s", gap)
            _gate, _pid = made, os.getpid()
        return _gate


class EmployeeAdapter(Protocol):
    """Turns the signed-in user into the employee facts of an access request."""

    def employee(self, user: Any) -> Dict[str, Any]: ...


def _listed(v: Any) -> List[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    return list(v)


class ProfileAdapter:
    """The default adapter, for a user model carrying a profile (``user.profile`` by default)
    with ``roles``, ``teams``, ``segments`` (lists or comma-separated text), ``office_country``
    and ``shift`` (an absolute ``{start, end}`` or a weekly ``{days, start, end, tz}``)."""

    def __init__(self, attribute: str = "profile") -> None:
        self.attribute = attribute

    def employee(self, user: Any) -> Dict[str, Any]:
        profile = getattr(user, self.attribute)
        return {
            "id": str(user.pk),
            "roles": _listed(getattr(profile, "roles", None)),
            "teams": _listed(getattr(profile, "teams", None)),
            "segments": _listed(getattr(profile, "segments", None)),
            "office_country": getattr(profile, "office_country", None) or None,
            "shift": getattr(profile, "shift", None) or None,
            "suspended": not user.is_active,
        }


def _adapter() -> EmployeeAdapter:
    path = _settings().get("adapter")
    if not path:
        return ProfileAdapter()
    from django.utils.module_loading import import_string

    adapter: EmployeeAdapter = import_string(path)()
    return adapter


class TicketgateMiddleware:
    """Records the calling tool and the client's address on ``request.ticketgate``. Behind
    proxies you trust, set ``TICKETGATE["trusted_proxy"]`` to their number (``True`` is one):
    the address is then the one the outermost of them saw, counted from the right of
    ``X-Forwarded-For``. The left end is whatever the client sent, and an insider who could
    write it would choose the address the audit trail shows."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        conf = _settings()
        ip = request.META.get("REMOTE_ADDR")
        proxies = int(conf.get("trusted_proxy") or 0)
        hops = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if proxies and hops:
            ip = hops[-min(proxies, len(hops))]
        request.ticketgate = {"client": conf.get("client", "django"), "source_ip": ip or None}
        return self.get_response(request)


def access(
    request: Any,
    *,
    customer: Mapping[str, Any],
    ticket: Optional[Mapping[str, Any]] = None,
    purpose: str = "support",
    fields: Optional[Iterable[str]] = None,
    intent: Optional[str] = None,
    grant: Optional[Mapping[str, Any]] = None,
    justification: Optional[str] = None,
) -> Dict[str, Any]:
    """The access request for the signed-in user of a Django request."""
    r: Dict[str, Any] = {
        "employee": _adapter().employee(request.user),
        "customer": dict(customer),
        "ticket": dict(ticket) if ticket is not None else None,
        "purpose": purpose,
        "at": datetime.now(timezone.utc),
        **getattr(request, "ticketgate", {}),
    }
    for k, v in (("fields", fields), ("intent", intent), ("grant", grant), ("justification", justification)):
        if v is not None:
            r[k] = list(v) if k == "fields" else v
    return r


def view(request: Any, record: Mapping[str, Any], **kwargs: Any) -> View:
    """The record as the signed-in user may see it, with its decision (``.decision``)."""
    return gate().view(access(request, **kwargs), record)


def view_many(
    request: Any, rows: Iterable[Tuple[Mapping[str, Any], Mapping[str, Any]]], **common: Any
) -> List[View]:
    """A list page: each ``(record, keywords)`` row as the signed-in user may see it, the
    keywords those of ``access`` (``customer``, ``ticket``, ...) on top of ``common`` (such as
    ``intent="preview"``). One batch: one audit fsync for the page rather than one per row
    (one agent's rows are decided in order, as velocity counts them). A row that cannot be
    decided raises its error (``InvalidRequest`` keyed ``[i]...``), so a page is never
    rendered with a row missing unseen."""
    items = [(access(request, **{**common, **keywords}), record) for record, keywords in rows]
    out = gate().view_many(items)
    for v in out:
        if isinstance(v, Exception):
            raise v
    return out  # type: ignore[return-value]
