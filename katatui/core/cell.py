"""A matrix cell: one workload variant with a number of clients, the same for every scenario.

Its ``key`` is the text sessions store (``fio[rw=randread,bs=4k,iodepth=8,numjobs=1,clients=1]``)
and its ``label`` what people read (``fio randread bs=4k iodepth=8 numjobs=1 clients=1``). The
variant keeps the values the profile validated (an iodepth is an int), as sessions store them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class Cell:
    workload: str  # the workload's name in the profile
    kind: str  # the workload type: "fio", ...
    variant: Mapping[str, Any]  # axis -> value, in the workload's axis order
    clients: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "variant", MappingProxyType(dict(self.variant)))

    def __hash__(self) -> int:
        return hash(self.key)

    def __copy__(self) -> Cell:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Cell:
        return self  # immutable: a model's checkpoint shares it

    @property
    def variant_words(self) -> list[str]:
        """``["rw=randread", "bs=4k", ...]``."""
        return [f"{k}={v}" for k, v in self.variant.items()]

    @property
    def variant_text(self) -> str:
        """``rw=randread,bs=4k,iodepth=8,numjobs=1``."""
        return ",".join(self.variant_words)

    @property
    def key(self) -> str:
        """What identifies the cell in a session: ``fio[rw=randread,bs=4k,...,clients=1]``."""
        return f"{self.workload}[{self.variant_text},clients={self.clients}]"

    @property
    def label(self) -> str:
        """``fio randread bs=4k iodepth=8 numjobs=1 clients=1``: the pattern (``rw``) by its value alone."""
        words = [str(v) if k == "rw" else f"{k}={v}" for k, v in self.variant.items()]
        return " ".join([self.workload, *words, f"clients={self.clients}"])

    @classmethod
    def recorded(cls, key: str, workload: str, kind: str, variant: Mapping[str, Any], clients: int) -> Cell:
        """The cell of a run as its session recorded it: ``key`` as stored, even where an older
        session spelled it otherwise than ``Cell.key`` does now (it keeps its label too)."""
        cell = cls(workload, kind, variant, clients)
        return cell if cell.key == key else _Verbatim(workload, kind, variant, clients, key)


@dataclass(frozen=True)
class _Verbatim(Cell):
    """A stored key spelled otherwise than ``Cell.key``: kept, and labelled from its text as the
    views always did."""

    text: str = ""

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def key(self) -> str:
        return self.text

    @property
    def label(self) -> str:
        name, _, rest = self.text.partition("[")
        return " ".join([name, *(p.removeprefix("rw=") for p in rest.rstrip("]").split(",") if p)])
