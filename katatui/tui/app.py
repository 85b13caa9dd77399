"""The katatui dashboard application: screens, actions, and the bridge from events to the model.

Events arrive through one listener (live engine or replay, on the event loop or from a thread).
The listener only queues them and posts one coalesced ``EventsArrived`` message; the handler
applies the batch to the model; screens repaint from the model on their own timers.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import messages, on, work
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from katatui.core.events import Event, LogMessage, SessionFinished
from katatui.tui import hangup
from katatui.tui.config import TuiConfig
from katatui.tui.dialogs import MIN_HEIGHT, MIN_WIDTH, ConfirmAbort, ScreenshotPath, TooSmall
from katatui.tui.keys import ACTIONS, BY_ID, Action, Scope, bindings
from katatui.tui.outcomes import outcomes

if TYPE_CHECKING:
    from katatui.core.profile import Profile
    from katatui.tui.checkpoints import Checkpoints
    from katatui.tui.model import SessionModel
    from katatui.tui.sources import ReplaySource, Source

# Textual's own palette entries that katatui replaces: its Quit quits without asking, and
# katatui's Screenshot saves where the config says.
REPLACED_SYSTEM_COMMANDS = {"Quit", "Screenshot"}
# what a replay's screens say of a recording cut off before its session ended (as the library does)
INCOMPLETE = "incomplete (katatui stopped before the end)"


class EventsArrived(Message):
    """Some events are waiting in the app's queue (one message for a whole burst)."""


class KatatuiApp(App[int]):
    TITLE = "katatui"
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")

    def __init__(
        self,
        *,
        profile_path: Path | None = None,
        targets: list[str] | None = None,
        out: Path | None = None,
        repeats: int | None = None,
        source: Source | None = None,
        config: TuiConfig | None = None,
        profile_text: str = "",
        sets: list[str] | None = None,
        notice: str = "",
        first: Screen[Any] | None = None,
    ) -> None:
        super().__init__()
        self.first = first  # the screen to open on instead of the start screen (sessions, compare)
        self.from_library = False  # the replay being shown was opened from the sessions screen
        self.notice = notice  # said once the screen is up (the demo says why it is playing)
        self.sets = sets or []  # --set KEY=VALUE changes to the profile
        # made when first needed: the start screen's first frame does without the model's imports
        self._model: SessionModel | None = None
        self._kept: Checkpoints | None = None  # a replay's copies of the model, to go back
        self.profile_path = profile_path
        self.targets = targets or []
        self.out = out
        self.repeats = repeats
        self.source: Source | None = source
        self.config = config or TuiConfig()
        self.profile_text = profile_text
        self.status: str | None = None  # the session's final status once it ended
        self.session_running = False
        self._pending: list[Event] = []
        self._posted = False
        self._thread = threading.get_ident()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._quit_when_done = False

    # -- start ----------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._thread = threading.get_ident()
        self._loop = asyncio.get_running_loop()
        hangup.install(self)  # SIGHUP, SIGTERM: abort the session with its cleanup, then exit
        if self.config.keymap:
            self.set_keymap(self.config.keymap)
        for problem in self.config.problems:
            self.feed(LogMessage("warning", problem))
        if self.source is not None:
            if self.replay is not None:
                self.replay.rewinder = self
            self._open_live()
            self.run_source()
        elif self.first is not None:
            self.push_screen(self.first)
        if self.notice:
            self.call_after_refresh(self.notify, self.notice, title="katatui", timeout=15)
        self.call_after_refresh(self.check_size)

    @property
    def model(self) -> SessionModel:
        """What the session's events said so far, as the screens show it."""
        if self._model is None:
            from katatui.tui.model import SessionModel

            self._model = SessionModel()
        return self._model

    @property
    def _checkpoints(self) -> Checkpoints:
        if self._kept is None:
            from katatui.tui.checkpoints import Checkpoints

            self._kept = Checkpoints(self.model)
        return self._kept

    def get_default_screen(self) -> Screen[Any]:
        """The start screen is the first screen itself (one screen less to lay out before the first
        frame); a replay or another first screen goes over a blank one."""
        if self.source is not None or self.first is not None:
            return super().get_default_screen()
        from katatui.tui.start import StartScreen

        return StartScreen(self.profile_path, self.targets, self.repeats)

    def start_session(self, profile: Profile) -> None:
        """The start screen's Start: run the chosen profile live, recorded to the session file."""
        from katatui.tui.choices import planned_run_seconds
        from katatui.tui.sources import LiveSource

        text = self.profile_text
        if not text and self.profile_path is not None and self.profile_path.is_file():
            text = self.profile_path.read_text(encoding="utf-8")
        # The start screen already put --repeat (or the user's edit of it) into the profile.
        self.source = LiveSource(profile, out=self.out, repeats=None, profile_text=text)
        self.model.planned_run_seconds = planned_run_seconds(profile)
        self._open_live()
        self.run_source()

    def _open_live(self) -> None:
        from katatui.tui.live import LiveScreen

        self.push_screen(LiveScreen(self.model))

    @work(exclusive=True, group="session", exit_on_error=False)
    async def run_source(self) -> None:
        source = self.source
        assert source is not None
        self.session_running = True
        try:
            status = await source.run(self.feed)
            if self.source is source:
                self.status = status
        finally:
            if self.source is source:  # not a replay closed or replaced from the sessions screen
                self.session_running = False
                self.call_after_refresh(self._session_over)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures land: the log says what broke, the app stays up."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.feed(LogMessage("error", f"{event.worker.group or event.worker.name}: {error!r}"))
            if event.worker.group == "session":
                self.status = self.status or "failed"
            self.notify(f"{error}", title="katatui: something broke", severity="error")

    def _session_over(self) -> None:
        if self._quit_when_done:
            self.exit(self.exit_status())
            return
        if self.model.status is None and self.replay_cut_off():
            self.feed(SessionFinished(INCOMPLETE))  # type: ignore[arg-type]
        elif self.status is not None and self.model.status is None:
            self.feed(SessionFinished(self.status))  # type: ignore[arg-type]
        self._apply_pending()  # the summary opens on the session's end, not a moment before it
        self.show_summary()

    def replay_cut_off(self) -> bool:
        """The replay reached the end of a recording whose session never ended (its katatui was
        killed, or the machine stopped): the session is incomplete, not interrupted nor running."""
        rp = self.replay
        pb = rp.playback if rp is not None else None
        return pb is not None and pb.ended and pb.timeline.final_status() is None

    # -- events ---------------------------------------------------------------------------------
    def feed(self, event: Event) -> None:
        """The listener: safe from the loop or any thread, and O(1) either way."""
        if threading.get_ident() != self._thread and self._loop is not None:
            self._loop.call_soon_threadsafe(self.feed, event)
            return
        self._pending.append(event)
        if not self._posted:
            self._posted = True
            self.post_message(EventsArrived())

    def on_events_arrived(self, _message: EventsArrived) -> None:
        self._posted = False
        self._apply_pending()

    def _apply_pending(self) -> None:
        batch, self._pending = self._pending, []
        for event in batch:
            self.model.apply(event)

    # a replay's rewinder (katatui.tui.sources.Rewinder)
    def checkpoint(self, index: int) -> None:
        """The replay has sent its first ``index`` events: apply them now and keep a copy."""
        self._apply_pending()
        self._checkpoints.save(index)

    def rewind_to(self, index: int) -> int:
        """A replay went back: the model as it was after at most ``index`` events (the replay sends
        the rest again)."""
        self._pending.clear()
        self.status = None
        return self._checkpoints.restore(index)

    # -- replays --------------------------------------------------------------------------------
    @property
    def replay(self) -> ReplaySource | None:
        if self.source is None:
            return None
        from katatui.tui.sources import ReplaySource  # not before a source: the first frame

        return self.source if isinstance(self.source, ReplaySource) else None

    def replay_control(self, what: str) -> None:
        """Pause, seek, step or change the speed of a replay (``what``: pause, back, forward, step,
        slower, faster). Going back after the end plays on from there."""
        rp = self.replay
        if rp is None:
            self.notify("only a replay can do that", severity="warning")
            return
        seek = self.config.seek_seconds
        if what == "pause":
            rp.toggle_pause()
        elif what == "back":
            rp.seek_by(-seek)
        elif what == "forward":
            rp.seek_by(seek)
        elif what == "step":
            rp.step()
        elif what == "slower":
            rp.slower()
        elif what == "faster":
            rp.faster()
        pb = rp.playback
        if pb is not None and not self.session_running and not pb.ended:
            self.run_source()

    def replay_keys(self) -> str:
        """The replay keys in effect (after the config's keymap), for the status line."""
        from katatui.tui.help import pretty_key

        def key(action_id: str) -> str:
            return pretty_key(self._keymap.get(action_id, BY_ID[action_id].key)).split(", ")[0]

        return (
            f"{key('pause')} pause · {key('replay_back')}/{key('replay_forward')} "
            f"±{self.config.seek_seconds:g} s · {key('replay_step')} step · "
            f"{key('replay_slower')}/{key('replay_faster')} speed"
        )

    def open_replay(self, source: ReplaySource) -> None:
        """The sessions screen's open: replay ``source`` in the dashboard on a fresh model."""
        if self.session_running and self.replay is None:
            self.notify("a session is running: it must end before another is opened", severity="warning")
            return
        self._drop_replay()
        self._model, self._kept = None, None  # a fresh model
        self.status = None
        source.rewinder = self
        self.source = source
        self.from_library = True
        self._open_live()
        self.run_source()

    def _drop_replay(self) -> None:
        old = self.replay
        if old is not None:
            self.source = None  # first: the old run's ending must not touch what comes next
            old.abort()
        self.session_running = False
        self._pending.clear()

    def action_close_replay(self) -> None:
        """Escape in a replay opened from the sessions screen: stop it and go back to the list."""
        from katatui.tui.sessions import SessionsScreen

        if self.replay is None or not self.from_library:
            self.notify("q quits", severity="information")
            return
        self._drop_replay()
        self.from_library = False
        while not isinstance(self.screen, SessionsScreen) and len(self.screen_stack) > 1:
            self.pop_screen()

    # -- actions the screens ask for ------------------------------------------------------------
    def stop_run(self, run_id: str) -> None:
        if self.source is None or not self.session_running:
            self.notify("no session is running", severity="warning")
            return
        self.feed(LogMessage("warning", self.source.stop_run(run_id), run_id))

    def skip_cell(self, cell: str) -> None:
        if self.source is None or not self.session_running:
            self.notify("no session is running", severity="warning")
            return
        self.feed(LogMessage("warning", self.source.skip_cell(cell)))

    def confirm_abort(self, *, then_quit: bool = False) -> None:
        if isinstance(self.screen, ConfirmAbort):
            return  # already asking
        if self.replay is not None:  # nothing runs on any host: quit at once, nothing to abort
            if then_quit:
                self.exit(self.exit_status())
            else:
                self.notify("a replay has nothing to abort: q quits", severity="warning")
            return
        if self.source is None or not self.session_running:
            if then_quit:
                self.exit(self.exit_status())
            else:
                self.notify("no session is running", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes and self.source is not None:
                self._quit_when_done = then_quit
                self.feed(LogMessage("warning", "aborting: stopping runs, removing containers and scratch"))
                self.source.abort()

        what = "Abort the session and quit?" if then_quit else "Abort the session?"
        self.push_screen(
            ConfirmAbort(f"{what} Runs stop; containers and scratch are removed.", then_quit=then_quit),
            answered,
        )

    def show_summary(self) -> None:
        from katatui.tui.summary import SummaryScreen

        if isinstance(self.screen, SummaryScreen):
            self.screen.refresh_summary()
            return
        path = self.source.session_path if self.source is not None else None
        self.push_screen(SummaryScreen(self.model, path))

    def exit_status(self) -> int:
        """0 completed, 1 some runs failed, 2 the profile had problems and the user quit, 130 aborted."""
        from katatui.tui.start import StartScreen

        if self.replay is not None:
            return 0  # watching a recording went fine, whatever the recorded runs did
        if self.status is None:
            if self.source is None and any(
                isinstance(s, StartScreen) and s.profile is None for s in self.screen_stack
            ):
                return 2
            return 130 if self.session_running else 0
        if self.status == "interrupted":
            return 130
        return 1 if self.status == "failed" or outcomes(self.model).failed else 0

    def on_exit_app(self, event: messages.ExitApp) -> None:
        """Any exit while a live session runs (ctrl+q, a served page closed) cleans up first."""
        if hangup.hold_exit(self):
            event.prevent_default()

    # -- app-wide actions -----------------------------------------------------------------------
    def action_quit_katatui(self) -> None:
        self.confirm_abort(then_quit=True)

    async def action_quit(self) -> None:
        """ctrl+q: as q, it asks first while a session runs (and cleans up)."""
        self.confirm_abort(then_quit=True)

    def action_help_quit(self) -> None:
        """ctrl+c: as q (Textual's own only says to press ctrl+q). In a text field ctrl+c copies."""
        self.confirm_abort(then_quit=True)

    def action_help(self) -> None:
        from katatui.tui.help import HelpScreen

        self.push_screen(HelpScreen(dict(self._keymap), self.screen_actions(self.screen)))

    def screen_scopes(self, screen: Screen[Any]) -> list[Scope]:
        """The key scopes of ``screen``, its own first, ``app`` (everywhere) last."""
        from katatui.tui.compare import CompareScreen
        from katatui.tui.live import LiveScreen
        from katatui.tui.sessions import SessionsScreen
        from katatui.tui.start import StartScreen

        scopes: list[Scope] = []
        if isinstance(screen, LiveScreen):
            scopes += ["replay", "live"] if self.replay is not None else ["live"]
        elif isinstance(screen, StartScreen):
            scopes.append("start")
        elif isinstance(screen, SessionsScreen):
            scopes.append("sessions")
        elif isinstance(screen, CompareScreen):
            scopes.append("compare")
        return [*scopes, "app"]

    def screen_actions(self, screen: Screen[Any]) -> list[Action]:
        """The actions ``screen`` offers now (its own first, then those of everywhere), without
        the ones it refuses in this state (a live run's stop in a replay, a replay's keys live)."""
        found: list[Action] = []
        for scope in self.screen_scopes(screen):
            for a in ACTIONS:
                if a.scope != scope:
                    continue
                target, _, name = a.action.rpartition(".")
                node = self if target == "app" else screen
                if node.check_action(name, ()):
                    found.append(a)
        return found

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("replay_end_run", "replay_end_cell"):
            return self.replay is not None
        return True

    def action_replay_end_run(self) -> None:
        """x in a replay: on to where the runs being replayed ended."""
        rp, running = self.replay, self.model.running()
        if rp is None or not running:
            self.notify("no run is being replayed now", severity="warning")
            return
        for run in running:
            self.feed(LogMessage("info", rp.stop_run(run.spec.run_id), run.spec.run_id))

    def action_replay_end_cell(self) -> None:
        """n in a replay: on to where the cell being replayed ended."""
        rp, cell = self.replay, self.model.live_cell()
        if rp is None or cell is None or self.model.status is not None:
            self.notify("no cell is being replayed now", severity="warning")
            return
        self.feed(LogMessage("info", rp.skip_cell(cell)))

    def screenshot_dir(self) -> Path:
        """The config's screenshot directory, else screenshots/ in katatui's data directory (never
        the current directory: from a clone, that is the repository's documentation)."""
        from katatui.core.library import data_dir

        return self.config.screenshot_dir or data_dir() / "screenshots"

    def default_screenshot(self) -> Path:
        name = type(self.screen).__name__.removesuffix("Screen").lower() or "screen"
        return self.screenshot_dir() / f"katatui-{name}-{time.strftime('%Y%m%d-%H%M%S')}.svg"

    def action_save_screenshot(self, path: str | None = None) -> None:
        target = Path(path).expanduser() if path else self.default_screenshot()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(filename=target.name, path=str(target.parent))
        except OSError as exc:
            self.notify(f"could not save the screenshot: {exc}", severity="error")
            return
        self.notify(f"screenshot saved: {saved}")

    def action_save_screenshot_as(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.action_save_screenshot(path)

        self.push_screen(ScreenshotPath(str(self.default_screenshot())), chosen)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        from textual.markup import escape

        for command in super().get_system_commands(screen):
            if command.title not in REPLACED_SYSTEM_COMMANDS:
                yield command
        for a in self.screen_actions(screen):
            # the palette reads help as markup: "[replay] seek_seconds" must stay text
            yield SystemCommand(
                a.description, escape(a.help), partial(self.call_later, screen.run_action, a.action)
            )

    # -- terminal size --------------------------------------------------------------------------
    def on_resize(self, _event: Resize) -> None:
        self.call_after_refresh(self.check_size)  # after Textual has taken the new size

    def check_size(self) -> None:
        """Cover the screen with TooSmall while the terminal is too small (called on resize and by
        every screen when it becomes current, so the notice stays on top)."""
        w, h = self.size
        small = w < MIN_WIDTH or h < MIN_HEIGHT
        if small and not isinstance(self.screen, TooSmall):
            self.push_screen(TooSmall())
        elif small and isinstance(self.screen, TooSmall) and self.screen.is_mounted:
            self.screen.update_text()
        while not small and isinstance(self.screen, TooSmall):
            self.pop_screen()
