"""``bare``: the workload runs directly on the host, as a person would run it by hand."""

from __future__ import annotations

from collections.abc import Sequence

from katatui.core.events import RunSpec
from katatui.core.launchers.base import Launcher, Mount
from katatui.core.transport.base import Process


class BareLauncher(Launcher):
    name = "bare"

    def scratch_path(self, host_path: str | None) -> str:
        assert host_path is not None
        return host_path

    def needs_host_scratch(self, mode: str) -> bool:
        return True

    def describe(self, run: RunSpec, argv: Sequence[str], mount: Mount | None) -> list[str]:
        return list(argv)

    async def start(self, run: RunSpec, client: int, argv: Sequence[str], mount: Mount | None) -> Process:
        return await self.transport.start(argv)

    async def start_many(
        self, run: RunSpec, clients: Sequence[tuple[int, Sequence[str], Mount | None]]
    ) -> list[Process]:
        """All clients through one SSH channel (see katatui.core.transport.batch)."""
        from katatui.core.transport.batch import start_many

        return await start_many(self.transport, [argv for _, argv, _ in clients])
