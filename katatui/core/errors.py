"""Errors a person can act on.

A ``UserError`` carries a message that names the thing at fault and what to do; the CLI prints it
without a traceback and exits with ``exit_code``.
"""

from __future__ import annotations


class KatatuiError(Exception):
    """Base class of every error katatui raises on purpose."""

    exit_code = 1


class UserError(KatatuiError):
    """A mistake in what the user asked for (bad profile, bad flag): exit status 2."""

    exit_code = 2


class ProfileError(UserError):
    """A profile that cannot be used. ``problems`` lists each one as ``file: field: message``."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


class TargetError(KatatuiError):
    """A host that cannot be reached or used (SSH, host key, Docker)."""


class DaemonError(TargetError):
    """A container daemon that failed to answer (a timeout, a dropped connection, an API error),
    as its launcher words it: not a bug of katatui's."""


class WorkloadError(KatatuiError):
    """A workload tool failed or printed something that is not a result."""


class CommandError(KatatuiError):
    """A command on a target exited non-zero."""

    def __init__(self, target: str, argv: list[str], returncode: int, stderr: str) -> None:
        self.target = target
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
        tail = stderr.strip().splitlines()[-3:]
        detail = ("; ".join(tail)) if tail else "no error output"
        super().__init__(f"on {target}: `{argv[0]}` exited with status {returncode}: {detail}")
