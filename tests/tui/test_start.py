"""The start screen: probing, choices, the cost, and a profile with problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from katatui.core.profile import Profile, load_profile
from katatui.tui.app import KatatuiApp
from katatui.tui.choices import Choices, TargetProbe, build_profile, estimate, scenario_options
from katatui.tui.start import StartScreen
from tests.helpers import fio_profile
from tests.tui.conftest import HOST_DEADLINE, SIZE, all_probed, quiet, screen_up, text_of, until

BARE = '[[scenarios]]\nlauncher = "bare"\n'
WILD = (
    '[[scenarios]]\nlauncher = "docker"\nruntime = "*"\n'
    '[[scenarios]]\nlauncher = "docker"\nruntime = "kata"\n'
)


def probes(runtimes: tuple[str, ...] | None) -> dict[str, TargetProbe]:
    facts = {"tools": {"fio": "/usr/bin/fio"}, "kernel": "6.1", "nproc": 2}
    return {"local": TargetProbe("local", "local", facts=facts, runtimes=runtimes)}


def test_scenarios_offered_from_what_docker_reports(tmp_path: Path) -> None:
    profile = load_profile(fio_profile(tmp_path, scenarios=BARE + WILD))
    opts = scenario_options(profile, probes(("io.containerd.runc.v2", "runc", "runc-alt")))
    assert [(o.label, o.available) for o in opts] == [
        ("bare on local", True),
        ("runc on local", True),
        ("runc-alt on local", True),
        ("kata on local", False),
    ]
    assert "no runtime 'kata'" in (opts[3].reason or "")
    chosen = build_profile(profile, opts, Choices(["local"], [opts[0].key, opts[2].key], ["fio"], 3, None, 5))
    assert [s.label for s in chosen.scenarios] == ["bare", "runc-alt"]
    assert chosen.repeats == 3 and chosen.workloads[0].runtime == 5  # type: ignore[union-attr]
    runs, seconds, unknown = estimate(chosen)
    assert runs == 6 and seconds == 6 * 7 and unknown == []


def test_unreachable_target_greys_its_scenarios(tmp_path: Path) -> None:
    profile = load_profile(fio_profile(tmp_path, scenarios=BARE))
    down = {"local": TargetProbe("local", "ssh://x", error="connection refused by 10.0.0.1:22")}
    (opt,) = scenario_options(profile, down)
    assert not opt.available and "connection refused" in (opt.reason or "")


async def test_start_screen_probes_and_starts_with_the_users_choices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = fio_profile(tmp_path, scenarios=BARE)
    app = KatatuiApp(profile_path=path)
    started: list[Profile] = []
    monkeypatch.setattr(app, "start_session", started.append)
    async with app.run_test(size=SIZE) as pilot:
        screen = await screen_up(pilot, StartScreen)
        await until(
            pilot,
            lambda: all_probed(screen),
            "the probe of this machine",
            timeout=HOST_DEADLINE,
        )
        assert "local: reachable" in text_of(app, "#targets-info")
        await until(pilot, lambda: "1 runs, about" in text_of(app, "#estimate"), "the cost of one run")
        screen.query_one("#repeats").value = "2"  # type: ignore[attr-defined]
        await until(pilot, lambda: "2 runs, about" in text_of(app, "#estimate"), "the cost of two runs")
        await pilot.press("g")
        await until(pilot, lambda: started, "the session started")
    (profile,) = started
    assert profile.repeats == 2 and [s.label for s in profile.scenarios] == ["bare"]


async def test_a_bad_profile_shows_its_problems_next_to_the_fields(tmp_path: Path) -> None:
    path = fio_profile(tmp_path, scenarios=BARE, extra='bs = "huge"\nrwmixread = 400\n')
    path.write_text(path.read_text().replace('bs = "4k"\n', "").replace("repeats = 1", "repeats = 0"))
    app = KatatuiApp(profile_path=path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await screen_up(pilot, StartScreen)
        await until(pilot, lambda: "workloads[0].bs" in text_of(app, "#err-workloads"), "the problems shown")
        workloads = text_of(app, "#err-workloads")
        assert "workloads[0].bs" in workloads and "workloads[0].rwmixread" in workloads
        assert "repeats" in str(screen.query_one("#err-params").render())
        assert screen.query_one("#start-button").disabled
        await pilot.press("g")  # refused, with a notice; no crash
        await quiet(pilot)
        assert app.screen is screen and screen.profile is None
        path.write_text(fio_profile(tmp_path, scenarios=BARE).read_text())
        await pilot.press("r")
        await until(pilot, lambda: screen.profile is not None, "the fixed profile read again")
        assert not screen.query_one("#err-workloads").display
    assert app.return_value in (None, 0)


async def test_quitting_on_a_bad_profile_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("name = 'x'\n[targets.local]\nhost = 'ftp://nope'\n")
    app = KatatuiApp(profile_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await screen_up(pilot, StartScreen)
        await until(pilot, lambda: "targets.local.host" in text_of(app, "#err-targets"), "the problem shown")
        await pilot.press("q")
        await until(pilot, lambda: app.return_value is not None, "the app exiting")
    assert app.return_value == 2


async def test_repeats_takes_a_number_or_auto_from_the_profile_or_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = fio_profile(tmp_path, scenarios=BARE)
    path.write_text(
        path.read_text().replace("repeats = 1", 'repeats = "auto"\nmin_repeats = 2\nmax_repeats = 4')
    )
    app = KatatuiApp(profile_path=path)
    started: list[Profile] = []
    monkeypatch.setattr(app, "start_session", started.append)
    async with app.run_test(size=SIZE) as pilot:
        screen = await screen_up(pilot, StartScreen)
        await until(pilot, lambda: all_probed(screen), "the probe of this machine", timeout=HOST_DEADLINE)
        field = screen.query_one("#repeats", Input)
        assert field.value == "auto"  # the profile's own, shown as it is
        await until(pilot, lambda: "up to 4 runs" in text_of(app, "#estimate"), "the most runs auto may take")
        assert "2 to 4 rounds per cell until every verdict is decided" in text_of(app, "#estimate")
        field.value = "many"
        await until(
            pilot, lambda: "'many' is not a number" in text_of(app, "#err-params"), "the problem shown"
        )
        assert "a whole number of 1 or more, or auto" in text_of(app, "#err-params")
        assert screen.query_one("#start-button").disabled
        await pilot.press("g")  # refused
        await quiet(pilot)
        assert not started
        field.value = "0"
        await until(pilot, lambda: "'0' is not a number" in text_of(app, "#err-params"), "zero refused")
        field.value = "3"
        await until(pilot, lambda: "3 runs, about" in text_of(app, "#estimate"), "three rounds")
        assert "up to" not in text_of(app, "#estimate") and not screen.query_one("#err-params").display
        field.value = " Auto "
        await until(pilot, lambda: "up to 4 runs" in text_of(app, "#estimate"), "auto typed by the user")
        await pilot.press("g")
        await until(pilot, lambda: started, "the session started")
    (profile,) = started
    assert profile.repeats == "auto" and (profile.min_repeats, profile.max_repeats) == (2, 4)


async def test_auto_typed_over_a_profiles_number_reaches_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = KatatuiApp(profile_path=fio_profile(tmp_path, scenarios=BARE))
    started: list[Profile] = []
    monkeypatch.setattr(app, "start_session", started.append)
    async with app.run_test(size=SIZE) as pilot:
        screen = await screen_up(pilot, StartScreen)
        await until(pilot, lambda: all_probed(screen), "the probe of this machine", timeout=HOST_DEADLINE)
        field = screen.query_one("#repeats", Input)
        assert field.value == "1"
        field.value = "auto"
        await until(pilot, lambda: "up to 10 runs" in text_of(app, "#estimate"), "auto up to max_repeats")
        await pilot.press("g")
        await until(pilot, lambda: started, "the session started")
    assert started[0].auto and started[0].planned_repeats == 10
