import json
import pathlib
from datetime import datetime, timedelta
from typing import Any, Dict, Iterator, List, Tuple

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


def vector_files() -> List[pathlib.Path]:
    files = sorted((ROOT / "policies" / "tests").glob("*.json"))
    files += sorted((ROOT / "tests" / "vectors").glob("*.json"))
    return files


def vector_cases() -> Iterator[Tuple[str, Dict[str, Any]]]:
    for f in vector_files():
        for case in json.loads(f.read_text()):
            yield f"{f.name}::{case['name']}", case


def parse_time(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def one_minute_before(at: str) -> datetime:
    return parse_time(at) - timedelta(minutes=1)


@pytest.fixture
def request_dict() -> Dict[str, Any]:
    return {
        "employee": {
            "id": "alice",
            "roles": ["agent"],
            "teams": ["billing"],
            "segments": ["consumer"],
            "office_country": "DE",
            "shift": {"start": "2026-11-28T08:00:00Z", "end": "2026-11-28T16:00:00Z"},
        },
        "customer": {"id": "c1", "segment": "consumer", "vip": False, "employee": False},
        "ticket": {
            "id": "T-1",
            "customer": "c1",
            "assignee": "alice",
            "queue": "billing",
            "status": "open",
            "opened_at": "2026-11-28T07:00:00Z",
        },
        "purpose": "support",
        "at": "2026-11-28T10:00:00Z",
    }
