"""The start screen: targets (reachable or not, why), their scenarios, workloads, matrix and cost.

A profile that fails validation opens here too, with each problem next to its section; the user
fixes the file and presses r to read it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.lazy import Lazy
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Footer, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from katatui.core.errors import ProfileError, UserError
from katatui.tui.choices import (
    Choices,
    ScenarioOption,
    TargetProbe,
    build_profile,
    duration_field,
    estimate,
    parse_repeats,
    probe_target,
    repeats_text,
    scenario_options,
    workload_seconds,
)
from katatui.tui.clock import clock
from katatui.tui.keys import bindings

if TYPE_CHECKING:
    from katatui.core.doctor import Diagnosis
    from katatui.core.profile import Profile
    from katatui.tui.app import KatatuiApp

SECTIONS = ("targets", "scenarios", "workloads", "params", "general")
PARAMS = ("repeats", "min_repeats", "max_repeats", "time_budget", "pairing", "limits", "name", "description",
          "drop_outliers")  # fmt: skip


def section_of(problem: str, source: str) -> tuple[str, str]:
    """("targets" | … | "general", the problem without its file name) for a ``file: field: msg`` line."""
    text = problem.removeprefix(f"{source}: ")
    head = text.split(":", 1)[0].strip()
    for name in ("targets", "scenarios", "workloads"):
        if head.startswith(name):
            return name, text
    if head in PARAMS:
        return "params", text
    return "general", text


def matrix_text(profile: Profile, name: str) -> str:
    wl = next(w for w in profile.workloads if w.name == name)
    axes = {**wl.axes(), "clients": wl.client_counts()}
    cells = 1
    for v in axes.values():
        cells *= len(v)
    shown = " × ".join(f"{k}={'|'.join(map(str, v))}" for k, v in axes.items())
    seconds = workload_seconds(wl)
    each = f"{seconds:.0f} s each" if seconds is not None else "length set by the tool"
    return f"{wl.name} ({wl.type}): {shown} → {cells} cell(s), {each}"


class MountedLater(Lazy):
    """Holds its widget until ``reveal`` mounts it: the first frame goes out without it."""

    async def mount_composed_widgets(self, widgets: list[Widget]) -> None:
        pass

    async def reveal(self) -> None:
        parent = self.parent
        if isinstance(parent, Widget):
            await parent.mount(self._replace_widget, after=self)
            await self.remove()


class StartScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("start")
    DEFAULT_CSS = """
    StartScreen { layout: vertical; }
    #start-head { height: auto; padding: 0 1; background: $boost; }
    #start-body { height: 1fr; }
    #start-body > VerticalScroll { width: 1fr; padding: 0 1; }
    .section { text-style: bold; margin-top: 1; color: $accent; }
    .problems { color: $error; height: auto; }
    SelectionList { height: auto; max-height: 12; }
    #params { height: auto; }
    #params > Vertical { width: 1fr; height: auto; }
    #estimate { margin-top: 1; height: auto; }
    #start-button { margin-top: 1; }
    StartScreen.-narrow #start-body { layout: vertical; overflow-y: auto; }
    StartScreen.-narrow #start-body > VerticalScroll { width: 100%; height: auto; overflow-y: hidden; }
    #doctor-info { display: none; }
    """

    def __init__(
        self, profile_path: Path | None, targets: Sequence[str] = (), repeats: int | str | None = None
    ) -> None:
        super().__init__()
        self.repeats = repeats  # --repeat from the command line: the field's first value
        self.profile_path = profile_path
        self.target_overrides = list(targets)
        self.profile: Profile | None = None
        self.probes: dict[str, TargetProbe] = {}
        self.options: list[ScenarioOption] = []
        self.problems: dict[str, list[str]] = {}

    @property
    def katatui(self) -> KatatuiApp:
        return cast("KatatuiApp", self.app)

    def on_screen_resume(self) -> None:
        self.app.call_after_refresh(getattr(self.app, "check_size", lambda: None))

    def on_resize(self) -> None:
        """Below 100 columns the two halves go one above the other (one scroll for both)."""
        self.set_class(self.size.width < 100, "-narrow")

    def compose(self) -> ComposeResult:
        yield Static(id="start-head")
        yield Static(classes="problems", id="err-general")
        # the body is mounted once the profile is read (until then it has nothing to show)
        with MountedLater(Horizontal(id="start-body")):
            with VerticalScroll():
                yield Label("Targets", classes="section")
                yield SelectionList[str](id="targets")
                yield Static(id="targets-info")
                yield Static(id="doctor-info")
                yield Static(classes="problems", id="err-targets")
                yield Label("Scenarios", classes="section")
                yield SelectionList[str](id="scenarios")
                yield Static(id="scenarios-info")
                yield Static(classes="problems", id="err-scenarios")
            with VerticalScroll():
                yield Label("Workloads and matrix", classes="section")
                yield SelectionList[str](id="workloads")
                yield Static(classes="problems", id="err-workloads")
                yield Label("Parameters", classes="section")
                with Horizontal(id="params"):
                    with Vertical():
                        yield Label("repeats (N or auto)")
                        yield Input(id="repeats", placeholder="3 or auto")
                    with Vertical():
                        yield Label("pairing")
                        yield Select([("sequential", "sequential"), ("concurrent", "concurrent")],
                                     id="pairing", allow_blank=False)  # fmt: skip
                    with Vertical():
                        yield Label("run time (s)")
                        yield Input(id="runtime", type="integer")
                yield Static(classes="problems", id="err-params")
                yield Static(id="estimate")
                yield Button("Start (g)", id="start-button", variant="success")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#start-head", Static).update(f"katatui: reading {self.profile_path}…")
        self.call_after_refresh(self.action_reload)  # the first frame first, then the profile (in a thread)

    # -- loading --------------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.read_profile()

    @work(exclusive=True, group="profile", exit_on_error=False)
    async def read_profile(self) -> None:
        """Read the profile off the screen's loop (pydantic's import and the validation take longer
        than a frame), then fill the screen and probe the targets."""
        import asyncio

        self.profile = None
        path, sets, overrides = self.profile_path, list(getattr(self.app, "sets", [])), self.target_overrides

        def read() -> tuple[Profile | None, dict[str, list[str]]]:
            from katatui.core.profile import load_profile, override_targets

            problems: dict[str, list[str]] = {}
            try:
                if path is None:
                    raise UserError("no profile given")
                return override_targets(load_profile(path, sets), overrides), problems
            except ProfileError as exc:
                for p in exc.problems:
                    sec, text = section_of(p, exc.path)
                    problems.setdefault(sec, []).append(text)
            except UserError as exc:
                problems.setdefault("general", []).append(str(exc))
            return None, problems

        self.profile, self.problems = await asyncio.to_thread(read)
        for later in self.query(MountedLater):  # the first time: the body, now it has content
            await later.reveal()
        source = str(self.profile_path)
        head = Text()
        head.append("katatui ", style="bold")
        head.append(f"profile {source}")
        if self.profile is not None:
            head.append(f" · {self.profile.name}", style="bold")
            if self.profile.description:
                head.append(f": {self.profile.description}", style="dim")
        else:
            head.append(" · the profile has problems: fix the file, then press r", style="bold red")
        self.query_one("#start-head", Static).update(head)
        self._show_problems()
        self._fill()
        if self.profile is not None:
            self.probe_all(self.profile)

    def _show_problems(self) -> None:
        for sec in SECTIONS:
            lines = self.problems.get(sec, [])
            widget = self.query_one(f"#err-{sec}", Static)
            widget.update(Text("\n".join(f"✗ {p}" for p in lines)))
            widget.display = bool(lines)

    def _fill(self) -> None:
        p = self.profile
        targets = self.query_one("#targets", SelectionList)
        targets.clear_options()
        workloads = self.query_one("#workloads", SelectionList)
        workloads.clear_options()
        if p is None:
            self.query_one("#scenarios", SelectionList).clear_options()
            self.query_one("#start-button", Button).disabled = True
            return
        targets.add_options([Selection(f"{n} ({c.host})", n, True) for n, c in p.targets.items()])
        workloads.add_options([Selection(matrix_text(p, w.name), w.name, True) for w in p.workloads])
        self.query_one("#repeats", Input).value = str(self.repeats or p.repeats)
        self.query_one("#pairing", Select).value = p.pairing
        seconds = next((workload_seconds(w) for w in p.workloads if duration_field(w)), None)
        self.query_one("#runtime", Input).value = str(int(seconds)) if seconds is not None else ""
        self._refresh_scenarios()

    @work(exclusive=True, group="probe", exit_on_error=False)
    async def probe_all(self, profile: Profile) -> None:
        """Probe every target at once; each answer repaints the screen as it comes."""
        import asyncio
        import importlib

        hosts = await asyncio.to_thread(importlib.import_module, "katatui.core.hosts")  # off the loop
        uses_docker = hosts.uses_docker
        self.probes = {}
        self._refresh_targets()

        async def one(name: str) -> None:
            cfg = profile.targets[name]
            self.probes[name] = await probe_target(name, cfg, docker=uses_docker(profile, name))
            self._refresh_targets()
            self._refresh_scenarios()

        await asyncio.gather(*(one(n) for n in profile.targets))

    def _refresh_targets(self) -> None:
        if self.profile is None:
            return
        out = Text()
        for name in self.profile.targets:
            p = self.probes.get(name)
            out.append(f"{name}: ", style="bold")
            if p is None:
                out.append("probing…\n", style="yellow")
            elif not p.reachable:
                out.append(f"unreachable: {p.error}\n", style="red")
            else:
                f = p.facts or {}
                out.append("reachable", style="green")
                out.append(
                    f" · {f.get('os', '?')} · kernel {f.get('kernel', '?')} · {f.get('nproc', '?')} CPUs"
                )
                if f.get("docker"):
                    d = f["docker"]
                    out.append(f" · Docker {d.get('docker_version')}, runtimes {', '.join(p.runtimes or ())}")
                elif p.docker_error:
                    out.append(f"\n  Docker: {p.docker_error}", style="red")
                out.append("\n")
        self.query_one("#targets-info", Static).update(out)

    def _refresh_scenarios(self) -> None:
        if self.profile is None:
            return
        widget = self.query_one("#scenarios", SelectionList)
        before = {o.key for o in self.options}
        kept = set(widget.selected)
        self.options = scenario_options(self.profile, self.probes)
        widget.clear_options()
        widget.add_options(
            [
                Selection(
                    o.label if o.available else Text(f"{o.label}: {o.reason}", style="dim strike"),
                    o.key,
                    o.available and (o.key in kept or o.key not in before),
                    disabled=not o.available,
                )
                for o in self.options
            ]
        )
        n_down = sum(1 for o in self.options if not o.available)
        info = Text(f"{len(self.options) - n_down} available, {n_down} not", style="dim")
        self.query_one("#scenarios-info", Static).update(info)
        self._update_estimate()

    # -- choices --------------------------------------------------------------------------------
    def choices(self) -> Choices:
        """What the user chose (a repeats field that is neither a number nor auto is left to the
        profile here; :meth:`chosen_profile` refuses it)."""

        def number(widget_id: str) -> int | None:
            raw = self.query_one(f"#{widget_id}", Input).value.strip()
            return int(raw) if raw.lstrip("-").isdigit() else None

        try:
            repeats = self.repeats_choice()
        except ValueError:
            repeats = None
        pairing = self.query_one("#pairing", Select).value
        return Choices(
            targets=list(self.query_one("#targets", SelectionList).selected),
            scenarios=list(self.query_one("#scenarios", SelectionList).selected),
            workloads=list(self.query_one("#workloads", SelectionList).selected),
            repeats=repeats,
            pairing=pairing if isinstance(pairing, str) else None,
            duration=number("runtime"),
        )

    def repeats_choice(self) -> int | Literal["auto"]:
        """The repeats field: a whole number of rounds or ``auto`` (a ValueError says what else to enter)."""
        return parse_repeats(self.query_one("#repeats", Input).value)

    def chosen_profile(self) -> Profile | None:
        """The profile to run, or None with the reason shown next to the parameters."""
        if self.profile is None:
            return None
        c = self.choices()
        problems: list[str] = []
        try:
            self.repeats_choice()
        except ValueError as exc:
            problems.append(str(exc))
        if not c.scenarios:
            problems.append("choose at least one available scenario")
        if not c.workloads:
            problems.append("choose at least one workload")
        built: Profile | None = None
        if not problems:
            try:
                built = build_profile(self.profile, self.options, c)
            except ProfileError as exc:
                problems.extend(p.removeprefix("your choices: ") for p in exc.problems)
        self.problems["params"] = problems
        self._show_problems()
        return built if not problems else None

    def _update_estimate(self) -> None:
        built = self.chosen_profile()
        button = self.query_one("#start-button", Button)
        button.disabled = built is None
        text = Text()
        if built is not None:
            runs, seconds, unknown = estimate(built)
            upto = "up to " if built.auto else ""  # an "auto" cell stops once its verdicts are decided
            text.append(
                f"{upto}{runs} runs, {'at most ' if upto else ''}about {clock(seconds)} ", style="bold"
            )
            if unknown:
                text.append(f"plus however long {', '.join(unknown)} take ", style="yellow")
            text.append(f"({built.pairing}; the tools' run time plus ~2 s to start and stop each run)",
                        style="dim")  # fmt: skip
            text.append(f"\n{repeats_text(built)}", style="dim")
        self.query_one("#estimate", Static).update(text)

    @on(SelectionList.SelectedChanged)
    @on(Input.Changed)
    @on(Select.Changed)
    def _changed(self) -> None:
        if self.profile is not None:
            self._update_estimate()

    def action_doctor(self) -> None:
        """Open the doctor screen for the profile's targets (this machine without a profile)."""
        from katatui.core.profile import TargetConfig
        from katatui.tui.doctor import DoctorScreen
        from katatui.views.doctor import compact

        targets = dict(self.profile.targets) if self.profile is not None else {"local": TargetConfig()}

        def done(diagnosis: Diagnosis) -> None:
            text = Text("doctor ", style="bold")
            text.append_text(compact(diagnosis))
            info = self.query_one("#doctor-info", Static)
            info.update(text)
            info.display = True

        self.app.push_screen(DoctorScreen(targets, self.profile, on_done=done))

    def action_sessions(self) -> None:
        """Open the saved sessions (the library): replay, label, rename, delete, compare."""
        from katatui.tui.sessions import SessionsScreen

        self.app.push_screen(SessionsScreen())

    @on(Button.Pressed, "#start-button")
    def action_start(self) -> None:
        built = self.chosen_profile()
        if built is None:
            self.notify("cannot start: see the problems in red", severity="error")
            return
        self.katatui.start_session(built)
