"""Profiles: TOML files that describe an experiment, validated with exact errors.

A profile names targets (hosts), scenarios (how a workload is isolated: ``bare`` or a launcher
plus a runtime name), workloads with their parameters (a list value is a matrix axis), repeats,
the pairing mode and resource limits applied equally to every container scenario.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from katatui.core.address import parse_address
from katatui.core.errors import ProfileError, UserError, reading
from katatui.core.limits import plan_problems
from katatui.core.schema import NAME_RE, SecretValueError, Strict, parse_duration, parse_size, shown
from katatui.core.workloads.config import WORKLOAD_TYPES, Workload
from katatui.core.workloads.fio import FioWorkload

IMAGE_TAG = "katatui/bench:0.1"
RUNTIME_RE = re.compile(r"^(\*|[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127})$")
# An image reference as Docker and containerd read it: [registry[:port]/]path[:tag][@digest].
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_DOMAIN = (
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
)
IMAGE_RE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::\w[\w.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,128})?$"
)
RUNC_BINARY_RE = re.compile(r"^/[A-Za-z0-9_.+/-]{1,255}$")
# Places fio's scratch directory may never be created in: the system's own trees.
FORBIDDEN_SCRATCH = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
    "/sbin", "/sys", "/usr", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet",
)  # fmt: skip


class TargetConfig(Strict):
    """A host katatui reaches: ``local`` or ``ssh://[user@]host[:port]`` (or an alias from ~/.ssh/config)."""

    host: str = "local"
    docker_socket: str | None = None
    containerd_socket: str | None = None
    scratch_base: str = "/var/tmp/katatui"
    trust_new_host_key: bool = False

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        parse_address(v)
        return v

    @field_validator("docker_socket", "containerd_socket")
    @classmethod
    def _socket(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("/"):
            raise ValueError(f"expected an absolute path to the daemon's socket on that host, got {v!r}")
        return v

    @field_validator("scratch_base")
    @classmethod
    def _scratch(cls, v: str) -> str:
        return check_scratch_base(v)


def check_scratch_base(v: str) -> str:
    if any(c in v for c in ":\n\r\0") or any(c.isspace() for c in v):
        raise ValueError(f"{v!r}: a scratch directory's path cannot contain ':' or white space")
    path = PurePosixPath("/" + v.lstrip("/")) if v.startswith("/") else PurePosixPath(v)
    if not path.is_absolute() or ".." in path.parts:
        raise ValueError(f"expected an absolute path without '..', got {v!r}")
    if str(path) == "/":
        raise ValueError(
            "the scratch directory's parent cannot be / ; use a directory such as /var/tmp/katatui"
        )
    for bad in FORBIDDEN_SCRATCH:
        if str(path) == bad or str(path).startswith(bad + "/"):
            raise ValueError(
                f"{v!r} is inside {bad}, a system directory; fio may only write under a directory "
                "such as /var/tmp/katatui, /tmp/katatui, /mnt/DISK/katatui or /srv/katatui"
            )
    return str(path)


class Limits(Strict):
    """Resources given equally to every container scenario."""

    # Docker's range starts at 0.01; more than 4096 CPUs is no host's. inf and nan are refused.
    cpus: Annotated[float, Field(ge=0.01, le=4096, allow_inf_nan=False)] | None = None
    memory: str | None = None

    @field_validator("memory")
    @classmethod
    def _memory(cls, v: str | None) -> str | None:
        if v is not None and parse_size(v) < 6 * 1024 * 1024:
            raise ValueError(f"{shown(v)} is below Docker's minimum of 6m")
        return v


class Scenario(Strict):
    """How a workload is isolated. ``runtime = "*"`` means every runtime the target's Docker has."""

    name: str | None = None
    launcher: Literal["bare", "docker", "containerd", "kubernetes"]
    runtime: str | None = None
    image: str = IMAGE_TAG
    targets: list[str] | None = None
    limits: Limits | None = None  # this scenario's own, instead of the profile's [limits]
    # Spread each run's clients over the scenario's targets (one run per cell, not one per target):
    # "round-robin" deals them out in turn, "blocks" gives each target a contiguous share.
    spread: Literal["round-robin", "blocks"] | None = None
    # When a target of a spread run is down: fail the whole run, or run degraded without its clients.
    on_host_failure: Literal["fail", "continue"] = "fail"
    # containerd only: the OCI runtime binary the runc shim runs instead of runc (``ctr run
    # --runc-binary``), e.g. a wrapper that runs ``runsc --network=host "$@"`` for gVisor.
    runc_binary: str | None = None

    @field_validator("image")
    @classmethod
    def _image(cls, v: str) -> str:
        if len(v) > 512 or not IMAGE_RE.fullmatch(v):
            raise ValueError(
                f"{shown(v)} is not an image reference such as katatui/bench:0.1, "
                "docker.io/library/debian:12 or registry:5000/name@sha256:DIGEST"
            )
        return v

    @field_validator("runc_binary")
    @classmethod
    def _runc_binary(cls, v: str | None) -> str | None:
        if v is not None and (not v.startswith("/") or not RUNC_BINARY_RE.match(v)):
            raise ValueError(f"expected an absolute path to a runtime binary, got {v!r}")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and not NAME_RE.match(v):
            raise ValueError(f"expected letters, digits, '.', '_' or '-' (at most 63), got {v!r}")
        return v

    @field_validator("runtime")
    @classmethod
    def _runtime(cls, v: str | None) -> str | None:
        if v is not None and not RUNTIME_RE.match(v):
            raise ValueError(
                f"{v!r} is not a runtime name (such as runc, kata-runtime, io.containerd.kata.v2)"
            )
        return v

    @model_validator(mode="after")
    def _launcher_runtime(self) -> Scenario:
        if self.launcher == "bare" and self.runtime is not None:
            raise ValueError("a bare scenario runs on the host and takes no runtime; remove 'runtime'")
        if self.launcher == "docker" and not self.runtime:
            raise ValueError(
                'a docker scenario needs \'runtime\' (for example "runc", "kata-runtime" or "*")'
            )
        if self.launcher == "containerd" and not self.runtime:
            raise ValueError(
                "a containerd scenario needs 'runtime' (io.containerd.runc.v2 or io.containerd.kata.v2)"
            )
        if self.launcher == "kubernetes" and not self.runtime:
            raise ValueError("a kubernetes scenario needs 'runtime': the name of a RuntimeClass (kata, runc)")
        if self.runc_binary is not None and self.launcher != "containerd":
            raise ValueError("'runc_binary' is for containerd scenarios (ctr run --runc-binary); remove it")
        if self.launcher in ("containerd", "kubernetes") and self.runtime == "*":
            raise ValueError(f'runtime "*" works with the docker launcher only; name the {self.launcher} '
                             "runtime of each scenario")  # fmt: skip
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return self.runtime if self.runtime is not None and self.runtime != "*" else self.launcher


class Toleration(Strict):
    """A Kubernetes toleration, as in a pod's ``spec.tolerations``."""

    key: str | None = None
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None


class KubernetesConfig(Strict):
    """Where kubernetes scenarios run: the cluster (kubeconfig and context) and how pods are placed."""

    kubeconfig: str | None = None  # default: $KUBECONFIG, else ~/.kube/config
    context: str | None = None  # default: the kubeconfig's current-context
    namespace: str = "katatui"
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    pending_timeout: Annotated[int, Field(gt=0, le=3600)] = 120

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, v: str) -> str:
        if not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", v):
            raise ValueError(f"{v!r} is not a namespace name (lower-case letters, digits and '-')")
        return v


PositiveInt = Annotated[int, Field(gt=0)]
__all__ = ["WORKLOAD_TYPES", "FioWorkload", "Profile", "Workload", "load_profile", "parse_size"]


class Profile(Strict):
    name: str
    description: str = ""
    # A number of rounds per cell, or "auto": rounds go on until every headline metric's verdict is
    # decided, from min_repeats up to max_repeats (and time_budget per cell, when given).
    repeats: PositiveInt | Literal["auto"] = 1
    min_repeats: Annotated[int, Field(ge=2)] = 2
    max_repeats: PositiveInt = 10
    time_budget: str | None = None
    pairing: Literal["sequential", "concurrent"] = "sequential"
    targets: Annotated[dict[str, TargetConfig], Field(min_length=1)]
    scenarios: Annotated[list[Scenario], Field(min_length=1)]
    workloads: Annotated[list[Workload], Field(min_length=1)]
    limits: Limits = Limits()
    drop_outliers: bool = False
    baseline: str | None = None  # the scenario ratios are taken to (default: the first)
    drop_caches: bool = False  # drop the host's page cache before every run (needs root there)
    sample_sandbox: bool = True  # sample the sandbox's host CPU and memory once a second
    kubernetes: KubernetesConfig = KubernetesConfig()

    @field_validator("targets")
    @classmethod
    def _target_names(cls, v: dict[str, TargetConfig]) -> dict[str, TargetConfig]:
        for name in v:
            if not NAME_RE.match(name):
                raise ValueError(f"target name {name!r}: expected letters, digits, '.', '_' or '-'")
        return v

    @model_validator(mode="after")
    def _cross(self) -> Profile:
        for i, sc in enumerate(self.scenarios):
            for t in sc.targets or []:
                if t not in self.targets:
                    raise ValueError(
                        f"scenarios[{i}].targets names {t!r}, which is not under [targets] "
                        f"(known: {', '.join(self.targets)})"
                    )
        for i, w in enumerate(self.workloads):
            server = getattr(w, "server_target", None)
            if server is not None and server not in self.targets:
                raise ValueError(
                    f"workloads[{i}].server_target names {server!r}, which is not under [targets] "
                    f"(known: {', '.join(self.targets)})"
                )
        labels = [s.label for s in self.scenarios if s.runtime != "*"]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ValueError(f"scenario names must be unique; repeated: {', '.join(dupes)} (set 'name')")
        names = [w.name for w in self.workloads]
        wd = sorted({x for x in names if names.count(x) > 1})
        if wd:
            raise ValueError(f"workload names must be unique; repeated: {', '.join(wd)} (set 'name')")
        return self

    @field_validator("time_budget")
    @classmethod
    def _budget(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @model_validator(mode="after")
    def _auto(self) -> Profile:
        if self.min_repeats > self.max_repeats:
            raise ValueError(
                f"min_repeats = {self.min_repeats} is more than max_repeats = {self.max_repeats}"
            )
        return self

    @property
    def auto(self) -> bool:
        """Whether rounds go on until the verdicts are decided (``repeats = "auto"``)."""
        return self.repeats == "auto"

    @property
    def planned_repeats(self) -> int:
        """The most rounds a cell can run: ``repeats``, or ``max_repeats`` when it is "auto"."""
        return self.max_repeats if self.repeats == "auto" else self.repeats

    @property
    def budget_seconds(self) -> float | None:
        """``time_budget`` in seconds: how long one cell may go on adding rounds."""
        return parse_duration(self.time_budget) if self.time_budget is not None else None

    @model_validator(mode="after")
    def _baseline(self) -> Profile:
        labels = [s.label for s in self.scenarios]
        wildcard = "*" in {s.runtime for s in self.scenarios}
        if self.baseline is not None and not wildcard and self.baseline not in labels:
            raise ValueError(f"baseline {self.baseline!r}: expected one of {', '.join(labels)}")
        return self

    @model_validator(mode="after")
    def _size(self) -> Profile:
        # A runtime "*" counts once per target here; the plan is checked again once it is known.
        per_cell = [
            (sc.launcher, 1 if sc.spread is not None and len(targets) > 1 else len(targets))
            for sc in self.scenarios
            for targets in [sc.targets or list(self.targets)]
        ]
        problems = plan_problems(
            self.workloads, per_cell, self.planned_repeats, "max_repeats" if self.auto else "repeats"
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    prev: int | str | None = None
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif (isinstance(prev, int) and part in WORKLOAD_TYPES) or part.startswith(
            ("function-", "list[", "literal[", "int", "str", "constrained-")
        ):
            pass  # pydantic's union branch names say nothing to a user
        else:
            out += ("." if out else "") + part
        prev = part
    return out or "(top level)"


def format_validation(path: str, exc: ValidationError) -> list[str]:
    problems: list[tuple[str, str]] = []
    seen = set()
    errors = exc.errors(include_url=False)
    by_field: dict[str, int] = {}
    for err in errors:
        by_field[_loc(err["loc"])] = by_field.get(_loc(err["loc"]), 0) + 1
    for err in errors:
        field = _loc(err["loc"])
        if err["type"] == "list_type" and by_field[field] > 1:
            continue  # the scalar branch of "a value or a list" already said what is wrong
        if len(field) > 80:  # a huge key is echoed cut
            field = f"{field[:79]}… ({len(field)} characters)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see profiles/README.md for the keys)"
        elif err["type"] == "missing":
            msg = "required but missing"
        elif err["type"] == "union_tag_invalid":
            given_type = err["input"].get("type") if isinstance(err["input"], dict) else None
            msg = f"unknown workload type {given_type!r}; known: {', '.join(WORKLOAD_TYPES)}"
        given = err.get("input")
        if isinstance(err.get("ctx", {}).get("error"), SecretValueError):
            given = None  # never echoed
        elif isinstance(given, str) and len(repr(given)) > 80:
            msg = msg.replace(repr(given), shown(given))  # a huge value is echoed cut, and once
        if (
            err["type"] not in ("missing", "union_tag_invalid")
            and not isinstance(given, dict | list)
            and given is not None
            and shown(given) not in msg
        ):
            msg += f" (got {shown(given)})"
        line = f"{path}: {field}: {msg}"
        if (field, err["type"]) in seen:  # a union reports each branch; one line per field is enough
            continue
        seen.add((field, err["type"]))
        problems.append((field, line))
    fields = [f for f, _ in problems]
    # For "a value or a list" fields pydantic reports both branches; keep the list item's error.
    return [line for f, line in problems if not any(o.startswith(f + "[") for o in fields)]


def load_profile(path: str | Path, sets: Sequence[str] = ()) -> Profile:
    """Read and validate a profile; raise ProfileError (exit 2) naming file, field and expectation.

    ``sets`` are ``--set KEY=VALUE`` overrides applied before validation (see ``apply_set``).
    """
    p = Path(path)
    if p.exists() and not p.is_file():  # a FIFO would block the read, a directory fail it
        raise UserError(f"profile {p}: not a regular file; give a profile's TOML file")
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"profile {p}: no such file (shipped profiles are in profiles/)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"profile {p}: cannot be read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(p), [f"{p}: not valid TOML: {exc}"]) from None
    except RecursionError:
        raise ProfileError(
            str(p), [f"{p}: not a usable profile: its arrays or tables are nested too deeply"]
        ) from None
    with reading(f"profile {p}"):
        for item in sets:
            apply_set(data, item)
        return profile_from_dict(data, str(p))


def _toml_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word is a string
    except RecursionError:
        raise UserError(f"--set value {shown(text)}: nested too deeply") from None


def apply_set(data: dict[str, Any], item: str) -> None:
    """``scenario.NAME.KEY=V``, ``workload.NAME.KEY=V``, ``target.NAME.KEY=V``, ``limits.KEY=V``,
    ``kubernetes.KEY=V`` or ``KEY=V``.

    V is read as a TOML value (numbers, booleans, lists), else taken as a string. Scenarios are
    found by their ``name`` (or the name katatui gives them: the runtime, or ``bare``).
    """
    key, sep, raw = item.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise UserError(
            f"--set {shown(item)}: expected KEY=VALUE, e.g. scenario.kata.runtime=io.containerd.kata.v2"
        )
    value = _toml_value(raw.strip())
    item = shown(item)[1:-1] if len(item) > 80 else item  # as the messages below echo it
    if len(parts) == 1:
        data[parts[0]] = value
        return
    if len(parts) == 2 and parts[0] in ("limits", "kubernetes"):
        table = data.setdefault(parts[0], {})
        if not isinstance(table, dict):
            raise UserError(f"--set {item!r}: {parts[0]!r} in the profile is not a table")
        table[parts[1]] = value
        return
    if len(parts) != 3 or parts[0] not in ("scenario", "workload", "target"):
        raise UserError(
            f"--set {item!r}: expected scenario.NAME.KEY, workload.NAME.KEY, target.NAME.KEY or KEY"
        )
    kind, name, field = parts
    if kind == "target":
        targets = data.get("targets", {})
        if not isinstance(targets, dict) or name not in targets or not isinstance(targets[name], dict):
            known = ", ".join(targets) if isinstance(targets, dict) else ""
            raise UserError(f"--set {item!r}: no target table {name!r} (targets: {known})")
        targets[name][field] = value
        return
    items = data.get("scenarios" if kind == "scenario" else "workloads", [])
    if not isinstance(items, list):
        items = []
    found = [x for x in items if isinstance(x, dict) and _item_name(kind, x) == name]
    if not found:
        known = ", ".join(_item_name(kind, x) for x in items if isinstance(x, dict))
        raise UserError(f"--set {item!r}: no {kind} named {name!r} (known: {known})")
    for x in found:
        x[field] = value


def _item_name(kind: str, item: dict[str, Any]) -> str:
    if "name" in item:
        return str(item["name"])
    if kind == "workload":
        return str(item.get("type", "?"))
    return str(item.get("runtime") or item.get("launcher", "?"))


def profile_from_dict(data: dict[str, Any], source: str) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(source, format_validation(source, exc)) from None


def override_targets(profile: Profile, overrides: list[str]) -> Profile:
    """Apply ``--target NAME=ADDRESS`` flags: the profile's target NAME is reached at ADDRESS instead."""
    targets = dict(profile.targets)
    for item in overrides:
        name, sep, address = item.partition("=")
        if not sep or not name or not address:
            raise UserError(f"--target {item!r}: expected NAME=ssh://user@host:port or NAME=local")
        if name not in targets:
            raise UserError(
                f"--target {item!r}: the profile has no target {name!r} (its targets: {', '.join(targets)})"
            )
        try:
            addr = parse_address(address)
        except SecretValueError as exc:
            raise UserError(f"--target {name}=: {exc}") from None
        except ValueError as exc:
            raise UserError(f"--target {shown(item)}: {exc}") from None
        update: dict[str, Any] = {"host": address}
        if addr.docker_socket:
            update["docker_socket"] = addr.docker_socket
        targets[name] = targets[name].model_copy(update=update)
    return profile.model_copy(update={"targets": targets})
