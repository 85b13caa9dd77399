"""Building blocks of the profile schema shared by targets, scenarios and workloads."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

SIZE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?([kmgtp]i?b?|b)?$", re.IGNORECASE)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


def parse_size(text: str) -> int:
    """Bytes in a size such as ``64m``, ``4Gi`` or ``512MiB`` (powers of 1024, as fio and Docker do)."""
    m = SIZE_RE.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a size such as 4k, 64m or 2g")
    number = float(text.strip()[: m.start(2)] if m.group(2) else text.strip())
    suffix = (m.group(2) or "").lower()[:1]
    return int(number * UNITS[suffix])


def check_name(v: str) -> str:
    if not NAME_RE.match(v):
        raise ValueError(f"expected letters, digits, '.', '_' or '-' (at most 63), got {v!r}")
    return v


def check_sizes(v: Any) -> Any:
    for item in v if isinstance(v, list) else [v]:
        if isinstance(item, str):
            parse_size(item)
    return v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
