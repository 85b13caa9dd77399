from __future__ import annotations

from katatui.core.plan import batches, expand, registered_runtimes, resolve_scenarios, round_order
from katatui.core.profile import profile_from_dict


def profile(**extra: object) -> object:
    data = {
        "name": "p",
        "repeats": 2,
        "targets": {"local": {}},
        "scenarios": [{"launcher": "bare"}, {"launcher": "docker", "runtime": "*"}],
        "workloads": [{"type": "fio", "rw": ["read", "write"], "bs": "4k", "clients": [1, 8]}],
    }
    data.update(extra)
    return profile_from_dict(data, "p.toml")


def test_builtin_aliases_are_not_scenarios() -> None:
    reported = ["io.containerd.runc.v2", "io.containerd.runtime.v1.linux", "runc", "runc-alt"]
    assert registered_runtimes(reported) == ["runc", "runc-alt"]


def test_wildcard_expands_per_target_and_interleaves() -> None:
    prof = profile()
    scenarios, warnings = resolve_scenarios(
        prof, {"local": ["io.containerd.runc.v2", "runc", "kata-runtime"]}
    )
    assert [s.name for s in scenarios] == ["bare", "runc", "kata-runtime"]
    assert warnings == []
    runs = expand(prof, scenarios)
    assert len(runs) == 2 * 2 * 2 * 3  # rw x clients x repeats x scenarios
    first_cell = [r for r in runs if r.cell == runs[0].cell]
    assert [(r.repeat, r.scenario) for r in first_cell] == [
        (0, "bare"), (0, "runc"), (0, "kata-runtime"), (1, "kata-runtime"), (1, "runc"), (1, "bare"),
    ]  # fmt: skip
    assert {r.clients for r in runs} == {1, 8}
    assert len({r.run_id for r in runs}) == len(runs)


def test_the_order_within_rounds_alternates_and_concurrent_batches_keep_their_round() -> None:
    prof = profile()
    scenarios, _ = resolve_scenarios(prof, {"local": ["runc", "crun"]})
    runs = expand(prof, scenarios, repeats=4)
    first_cell = [r for r in runs if r.cell == runs[0].cell]
    orders = [[r.scenario for r in first_cell if r.repeat == k] for k in range(4)]
    assert orders == [["bare", "runc", "crun"], ["crun", "runc", "bare"]] * 2
    assert round_order(["a", "b"], 0) == ["a", "b"] and round_order(["a", "b"], 1) == ["b", "a"]
    for batch in batches(runs, "concurrent"):
        assert len({(r.cell, r.repeat) for r in batch}) == 1
        assert sorted(r.scenario for r in batch) == ["bare", "crun", "runc"]


def test_wildcard_without_docker_warns() -> None:
    scenarios, warnings = resolve_scenarios(profile(), {"local": None})
    assert [s.name for s in scenarios] == ["bare"]
    assert "Docker is not reachable" in warnings[0]


def test_concurrent_batches_group_a_cell_and_repeat() -> None:
    prof = profile(pairing="concurrent")
    scenarios, _ = resolve_scenarios(prof, {"local": ["runc", "runc-alt"]})
    runs = expand(prof, scenarios, repeats=1)
    groups = batches(runs, "concurrent")
    assert all(len(g) == 3 and len({r.cell for r in g}) == 1 for g in groups)
    assert len(batches(runs, "sequential")) == len(runs)


def test_wildcard_puts_runc_first_then_the_rest_by_name() -> None:
    # runc is the reference column (the first scenario), whatever order Docker listed the runtimes in.
    prof = profile(scenarios=[{"launcher": "docker", "runtime": "*"}, {"launcher": "bare"}])
    scenarios, _ = resolve_scenarios(prof, {"local": ["crun", "runc", "runsc", "runc-alt"]})
    assert [s.name for s in scenarios] == ["runc", "crun", "runc-alt", "runsc", "bare"]
    assert [s.runtime for s in scenarios[:4]] == ["runc", "crun", "runc-alt", "runsc"]
    runs = expand(prof, scenarios, repeats=1)
    assert runs[0].scenario == "runc"
    # The same order from another listing, and from two targets that each have some of them.
    prof = profile(targets={"a": {}, "b": {}})
    scenarios, _ = resolve_scenarios(prof, {"a": ["runsc", "crun"], "b": ["runc-alt", "runc", "crun"]})
    assert [(s.name, s.targets) for s in scenarios] == [
        ("bare", ("a", "b")), ("runc", ("b",)), ("crun", ("a", "b")), ("runc-alt", ("b",)), ("runsc", ("a",)),
    ]  # fmt: skip
    # Without runc, the rest keep their order by name.
    scenarios, _ = resolve_scenarios(profile(), {"local": ["runsc", "crun", "sandbox"]})
    assert [s.name for s in scenarios] == ["bare", "crun", "runsc", "sandbox"]
