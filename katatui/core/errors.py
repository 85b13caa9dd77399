"""Errors a person can act on.

A ``UserError`` carries a message that names the thing at fault and what to do; the CLI prints it
without a traceback and exits with ``exit_code``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


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


class SessionDamaged(UserError):
    """A session file whose content cannot be what katatui wrote: exit status 2, the file untouched."""

    def __init__(self, path: object, what: str) -> None:
        self.path = path
        super().__init__(f"session {path}: damaged ({what}); it was left as it is")


class InputError(UserError):
    """An input (a profile, a session, an imported output) katatui could not make sense of: the file
    and what is wrong with it, without a traceback. Raised by ``reading`` around input parsing."""


def describe(exc: BaseException) -> str:
    """What is wrong, in a line: an exception raised while reading an input, said for a person."""
    if isinstance(exc, RecursionError):
        return "nested too deeply to be read"
    if isinstance(exc, OverflowError):
        return "a number too large to be used"
    if isinstance(exc, MemoryError):
        return "too large to be read"
    text = str(exc)
    if len(text) > 200:
        text = text[:199] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def reading(what: object) -> Iterator[None]:
    """Around the parsing of a user's input (a profile, a session, an imported output): an exception
    that is not katatui's own is marked as a fault of ``what``, which the command line reports as
    exit status 2 naming it, instead of an internal error."""
    try:
        yield
    except KatatuiError:
        raise
    except Exception as exc:
        if getattr(exc, "katatui_input", None) is None:
            exc.katatui_input = str(what)  # type: ignore[attr-defined]
        raise
