"""What a profile's workloads accept: the union of the units' models, told apart by ``type``.

Each type's model is in its own package (``fio.FioWorkload``, ...), the shared fields in
``model.WorkloadBase``. A list value on a matrix field is an axis: the plan runs every combination.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from katatui.core.workloads.model import WorkloadBase
from katatui.core.workloads.registry import UNITS

if TYPE_CHECKING:
    Workload = WorkloadBase
else:
    Workload = Annotated[Union[tuple(u.config for u in UNITS.values())], Field(discriminator="type")]  # noqa: UP007
WORKLOAD_TYPES = tuple(UNITS)
