"""Every action a user can take: one table feeds the bindings, the footer, the palette and the help.

Each binding has an ``id`` so that ``[keys]`` in the config file can remap it (Textual keymaps).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

Scope = Literal["app", "start", "live", "replay", "sessions", "compare"]


@dataclass(frozen=True)
class Action:
    id: str
    key: str
    action: str
    description: str
    help: str
    scope: Scope
    show: bool = True


# fmt: off
ACTIONS: tuple[Action, ...] = (
    Action("start", "g", "start", "Start", "Start the run with the choices on this screen", "start"),
    Action("reload", "r", "reload", "Reload", "Read the profile file again (after editing it)", "start"),
    Action(
        "doctor", "d", "doctor", "Doctor",
        "Check the targets and scenarios (kvm, runtimes, Kata) and start a canary under each runtime",
        "start", show=False,
    ),
    Action(
        "sessions", "o", "sessions", "Sessions",
        "Open the saved sessions: replay, label, rename, delete and compare them", "start",
    ),
    Action(
        "pause", "p", "pause", "Pause",
        "Pause or resume the display (the run goes on); in a replay, the replay itself", "live",
    ),
    Action("stop_run", "x", "stop_run", "Stop run", "Stop the run being measured now", "live"),
    Action("skip_cell", "n", "skip_cell", "Skip cell", "Skip the rest of this matrix cell", "live"),
    Action(
        "prev_cell", "left_square_bracket", "prev_cell", "Prev cell", "Show the previous matrix cell", "live"
    ),
    Action(
        "next_cell", "right_square_bracket", "next_cell", "Next cell", "Show the next matrix cell", "live"
    ),
    Action("follow", "l", "follow", "Follow live", "Show the cell being measured now", "live"),
    Action(
        "next_panel", "v", "next_panel", "Panel",
        "On a small terminal: show the percentiles, the latency CDF or the log in the shared panel", "live",
    ),
    Action("summary", "t", "summary", "Summary", "Open the table of all results so far", "live"),
    Action("abort", "a", "abort", "Abort", "Stop the session, cleaning up containers and scratch", "live"),
    # Replay keys (a live run's x, n and a are not offered in a replay); the rarer ones are listed
    # on the replay's status line rather than in the footer.
    Action(
        "replay_end_run", "x", "app.replay_end_run", "End of run",
        "Replay: on to where the run being replayed ended", "replay",
    ),
    Action(
        "replay_end_cell", "n", "app.replay_end_cell", "End of cell",
        "Replay: on to where the cell being replayed ended", "replay",
    ),
    Action(
        "replay_back", "b", "replay_back", "Back",
        "Replay: go back [replay] seek_seconds (10 s); the view is rebuilt up to there", "replay",
    ),
    Action(
        "replay_forward", "f", "replay_forward", "Forward",
        "Replay: jump forward [replay] seek_seconds (10 s)", "replay",
    ),
    Action(
        "replay_step", "full_stop", "replay_step", "Step",
        "Replay: pause, then one second on (or on to the next event)", "replay", False,
    ),
    Action(
        "replay_close", "escape", "app.close_replay", "Close",
        "Replay: back to the saved sessions (when opened from there)", "replay", False,
    ),
    Action("replay_slower", "minus", "replay_slower", "Slower", "Replay: halve the speed", "replay", False),
    Action(
        "replay_faster", "plus,equals_sign", "replay_faster", "Faster", "Replay: double the speed", "replay",
        False,
    ),
    # The saved sessions screen (o on the start screen, or katatui sessions --tui).
    Action(
        "session_open", "enter", "open", "Open", "Sessions: open the session (all of it at once)", "sessions"
    ),
    Action("session_play", "p", "play", "Play", "Sessions: replay the session from its start, in real time",
           "sessions"),
    Action("session_mark", "m,space", "mark", "Mark", "Sessions: mark or unmark for comparison", "sessions"),
    Action("session_compare", "c", "compare", "Compare", "Sessions: compare the marked sessions", "sessions"),
    Action("session_label", "e", "label", "Label", "Sessions: give the session a label (empty removes it)",
           "sessions"),
    Action("session_rename", "r", "rename", "Rename", "Sessions: rename the session's file", "sessions"),
    Action("session_delete", "delete,D", "delete", "Delete", "Sessions: delete the session (asks first)",
           "sessions"),
    Action("session_search", "slash", "search", "Search", "Sessions: type to filter the list", "sessions",
           False),
    Action("session_reload", "ctrl+r", "reload", "Reload", "Sessions: read the directory again", "sessions",
           False),
    Action("sessions_back", "escape", "back", "Back", "Sessions: back to the screen before", "sessions"),
    # The compare screen.
    Action(
        "compare_reference", "p", "reference", "Published",
        "Compare: lay the next seed study's published figures beside (from other hardware), or none",
        "compare",
    ),
    Action(
        "compare_baseline", "b", "baseline", "Baseline",
        "Compare: take ratios to the next column (the baseline)", "compare",
    ),
    Action("compare_back", "escape", "back", "Back", "Compare: back to the screen before", "compare"),
    Action(
        "screenshot",
        "s",
        "app.save_screenshot",
        "Screenshot",
        "Save an SVG screenshot (in screenshots/ under the data directory, or [screenshots] directory)",
        "app",
    ),
    Action(
        "screenshot_as",
        "S",
        "app.save_screenshot_as",
        "Screenshot as…",
        "Save an SVG screenshot to a path",
        "app",
        show=False,
    ),
    Action("help", "question_mark", "app.help", "Help", "List every key and what it does", "app"),
    Action(
        "quit", "q", "app.quit_katatui", "Quit", "Quit (stops a running session first, with cleanup)", "app"
    ),
)
# fmt: on
BY_ID = {a.id: a for a in ACTIONS}


def bindings(scope: Scope) -> list[BindingType]:
    return [
        Binding(a.key, a.action, a.description, show=a.show, id=a.id, tooltip=a.help)
        for a in ACTIONS
        if a.scope == scope
    ]
