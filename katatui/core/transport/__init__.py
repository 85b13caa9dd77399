"""How katatui reaches a host: local subprocesses or one SSH connection per host."""

from __future__ import annotations

from katatui.core.transport.base import Completed, Process, Transport

__all__ = ["Completed", "Process", "Transport"]
