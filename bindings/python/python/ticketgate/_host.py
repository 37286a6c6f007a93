"""What an uncommon Python value stands for, for the native reader of ``ticketgate._native``.

The reader takes dicts, lists, tuples, str, int, float, bool, None and bytes as they are, and
asks ``stand_in`` about anything else; it then reads the answer in its place, within the same
input limits (depth, size, string length), so nothing here needs to bound what it returns
beyond taking no more items than the limit allows.
"""

import dataclasses
import datetime
import enum
import os
from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any


def stand_in(obj: Any, limit: int) -> Any:
    """The plain value ``obj`` stands for; ``TypeError`` saying why if it stands for none."""
    if isinstance(obj, datetime.datetime):
        if obj.utcoffset() is None:
            raise TypeError("naive datetime; pass a timezone-aware datetime (e.g. tzinfo=timezone.utc)")
        # the base class's text of the instant, not a subclass's own `isoformat` (a pandas
        # Timestamp writes nanoseconds; another may write local time without its offset)
        return datetime.datetime.isoformat(obj)
    if isinstance(obj, datetime.date):
        raise TypeError("a date is not an instant; pass an aware datetime")
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, Mapping):
        # one more than the limit is taken, for the reader to refuse, never all of a huge one
        return dict(islice(obj.items(), limit + 1))
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # field by field rather than `asdict`, which deep-copies
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, Iterable) and not isinstance(obj, bytearray):
        # sets, frozensets, generators
        return list(islice(obj, limit + 1))
    raise TypeError(f"unsupported type `{type(obj).__name__}`")
