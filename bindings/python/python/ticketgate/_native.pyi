from datetime import datetime
from os import PathLike
from typing import Any, Callable, Dict, Iterable, List, Literal, Mapping, Optional, Tuple, Union

from typing_extensions import TypeAlias, disjoint_base, final

from . import View
from ._errors import TicketgateError
from ._types import AccessRequest, Alert, Employee, Grant, PeerSignals

_Outcome: TypeAlias = Literal["reveal", "mask", "withhold"]
_Path: TypeAlias = Union[str, "PathLike[str]"]
_Time: TypeAlias = Union[str, datetime]  # RFC 3339 with an offset, or an aware datetime
_Secret: TypeAlias = Union[str, bytes]

__all__ = ["Decision", "Gate", "OUTCOMES", "mask", "verify_audit", "_test_panic"]

# Requests may also be any Mapping or a dataclass of the same shape.
_Request: TypeAlias = Union[AccessRequest, Mapping[str, Any], Any]

OUTCOMES: Tuple[str, str, str]

@final
class Decision:
    @property
    def decision_id(self) -> str: ...
    @property
    def at(self) -> str: ...
    @property
    def employee(self) -> str: ...
    @property
    def customer(self) -> str: ...
    @property
    def ticket(self) -> Optional[str]: ...
    @property
    def grant(self) -> Optional[str]: ...
    @property
    def purpose(self) -> str: ...
    @property
    def policy_version(self) -> str: ...
    @property
    def fields(self) -> Dict[str, Dict[str, Any]]: ...
    @property
    def alerts(self) -> List[Alert]: ...
    @property
    def velocity(self) -> Optional[Dict[str, Any]]: ...
    @property
    def would_enforce(self) -> Optional[Dict[str, _Outcome]]: ...
    @property
    def revealed(self) -> List[str]: ...
    def outcome(self, field: str) -> _Outcome: ...
    def to_dict(self) -> Dict[str, Any]: ...

@disjoint_base
class Gate:
    def __new__(
        cls,
        *,
        policies: Optional[_Path] = None,
        audit_log: Optional[_Path] = None,
        durability: Literal["always", "batched", "none"] = "always",
        velocity: Optional[Mapping[str, Any]] = None,
        redis_url: Optional[str] = None,
        on_alert: Optional[Callable[[Alert, Optional[Decision]], object]] = None,
        grant_key: Optional[Union[_Secret, List[_Secret]]] = None,
        mode: Literal["enforce", "shadow"] = "enforce",
        clock: Literal["live", "replay"] = "live",
        audit_key: Optional[_Secret] = None,
        audit_checkpoint: Optional[_Path] = None,
        audit_rotate_bytes: Optional[int] = None,
        audit_rotate_daily: bool = False,
        max_skew_s: Optional[int] = None,
        max_age_s: Optional[int] = None,
        velocity_store: Optional[str] = None,
        canaries: Optional[Iterable[Union[str, int]]] = None,
        peer_signals: Optional[PeerSignals] = None,
    ) -> "Gate": ...
    def decide(self, request: _Request) -> Decision: ...
    def decide_many(self, requests: Iterable[_Request]) -> List[Union[Decision, TicketgateError]]: ...
    def view(self, request: _Request, record: Mapping[str, Any]) -> View: ...
    def view_many(self, items: Iterable[Tuple[_Request, Mapping[str, Any]]]) -> List[Union[View, TicketgateError]]: ...
    def _call(self, op: str, args: Mapping[str, Any]) -> Any: ...
    @property
    def policy_version(self) -> str: ...
    @property
    def fields(self) -> List[str]: ...

def verify_audit(args: Mapping[str, Any]) -> Dict[str, Any]: ...
def mask(args: Mapping[str, Any]) -> Any: ...
def _test_panic() -> None: ...
