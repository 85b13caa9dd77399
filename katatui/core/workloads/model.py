"""The settings every workload type shares; each type's own model extends ``WorkloadBase``.

A list value on a matrix field is an axis: the plan runs every combination. ``clients`` is always
an axis of its own (processes started together whose results are aggregated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field, field_validator

from katatui.core.schema import Strict, check_name

PositiveInt = Annotated[int, Field(gt=0)]
Port = Annotated[int, Field(ge=1024, le=65535)]


class WorkloadBase(Strict):
    AXES: ClassVar[tuple[str, ...]] = ()
    # Launchers this workload makes sense under (a footprint of "bare" is nothing to measure).
    LAUNCHERS: ClassVar[tuple[str, ...]] = ("bare", "docker", "containerd", "kubernetes")

    if TYPE_CHECKING:
        type: str  # each type's model has it as a literal, the discriminator of ``config.Workload``
    name: str
    clients: PositiveInt | Annotated[list[PositiveInt], Field(min_length=1)] = 1

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return check_name(v)

    def axes(self) -> dict[str, list[Any]]:
        """The matrix axes, in a stable order; scalars are axes of one value."""
        return {n: (v if isinstance(v, list) else [v]) for n in self.AXES for v in [getattr(self, n)]}

    def client_counts(self) -> list[int]:
        return self.clients if isinstance(self.clients, list) else [self.clients]

    def duration_field(self) -> str | None:
        """The setting that says how long one run lasts, in seconds (the one the start screen's
        duration sets); None when no setting does."""
        return None

    def planned_seconds(self) -> float | None:
        """How long one run lasts by its own settings; None when its settings do not say."""
        f = self.duration_field()
        return None if f is None else float(getattr(self, f))
