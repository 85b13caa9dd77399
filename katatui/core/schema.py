"""Building blocks of the profile schema shared by targets, scenarios and workloads."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

SIZE_RE = re.compile(r"^[0-9]+(\.[0-9]+)?([kmgtp]i?b?|b)?$", re.IGNORECASE)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}


MAX_SIZE = 1024**6  # 1 EiB: more than any disk or memory, and well within what fio and Docker take


def parse_size(text: str) -> int:
    """Bytes in a size such as ``64m``, ``4Gi`` or ``512MiB`` (powers of 1024, as fio and Docker do).
    A size of more than 1 EiB is refused (a ValueError), whatever its number of digits."""
    m = SIZE_RE.match(text.strip())
    if not m:
        raise ValueError(f"{shown(text)} is not a size such as 4k, 64m or 2g")
    number = float(text.strip()[: m.start(2)] if m.group(2) else text.strip())
    suffix = (m.group(2) or "").lower()[:1]
    size = number * UNITS[suffix]
    if not size <= MAX_SIZE:  # also inf
        raise ValueError(f"{shown(text)} is too large (at most 1024p, 1 EiB)")
    return int(size)


DURATION_RE = re.compile(r"^([0-9]{1,9}(?:\.[0-9]{1,6})?)\s*(s|m|min|h)?$", re.IGNORECASE)
DURATION_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600}


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``90``, ``90s``, ``10m`` or ``1.5h``; a ValueError otherwise."""
    m = DURATION_RE.match(text.strip())
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"{shown(text)} is not a duration such as 90s, 10m or 1.5h")
    return float(m.group(1)) * DURATION_UNITS[(m.group(2) or "s").lower()]


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters, so that an error never echoes a huge input."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"


class SecretValueError(ValueError):
    """A value refused because it holds a secret: its message never echoes the value."""


def check_name(v: str) -> str:
    if not NAME_RE.match(v):
        raise ValueError(f"expected letters, digits, '.', '_' or '-' (at most 63), got {v!r}")
    return v


def check_sizes(v: Any) -> Any:
    """Sizes that can be used: each one parses, and is at least one byte (fio and dd refuse 0)."""
    for item in v if isinstance(v, list) else [v]:
        if isinstance(item, str) and parse_size(item) < 1:
            raise ValueError(f"{shown(item)} is not a size of at least one byte (such as 4k, 64m or 2g)")
    return v


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
