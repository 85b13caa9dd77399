"""What the engine needs from a workload: a command, a parser per client, and a way to combine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from katatui.core.events import Metric
from katatui.core.transport.base import Stream


@dataclass(frozen=True)
class Reading:
    """One interval of one client: seconds since start, rates, and the interval's histograms."""

    t: float
    metrics: dict[str, float]
    hist: dict[str, dict[int, int]] = field(default_factory=dict)


class ClientParser(Protocol):
    """Turns one client's output into interval samples as it arrives, and a final state at the end."""

    def feed(self, stream: Stream, data: bytes) -> list[Reading]:
        """New readings found in this chunk."""
        ...

    def finish(self, returncode: int) -> tuple[Any | None, str | None]:
        """(final state or None, failure reason or None) once the process has exited."""
        ...


class WorkloadDriver(Protocol):
    kind: str
    tool: str  # the binary that must exist on the host or in the image
    needs_scratch: bool

    def argv(self, variant: Mapping[str, Any], directory: str | None) -> list[str]: ...

    def parser(self) -> ClientParser: ...

    def combine(self, finals: Sequence[Any]) -> dict[str, Metric]:
        """Results of a run from the final states of all its clients (histograms merged, rates summed)."""
        ...

    def timeout(self, variant: Mapping[str, Any]) -> float:
        """How long a run may take before it is stopped as hung."""
        ...
