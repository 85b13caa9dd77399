"""First contact: the README's commands and the install scripts, as root and as a sudo user."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_ONLY = {"chromium", "tmux", "runsc", "crun", "openssh-server"}


def packages(*args: str) -> set[str]:
    done = subprocess.run(
        [str(ROOT / "scripts" / "system-packages"), *args, "--list"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


def test_a_users_install_gets_what_katatui_needs_and_the_tests_get_the_rest() -> None:
    user = packages()
    tests = packages("--tests")
    assert {"fio", "docker.io", "runc", "containerd", "sysbench", "apache2-utils", "openssh-client"} <= user
    assert not user & TEST_ONLY, user & TEST_ONLY
    assert user | TEST_ONLY <= tests
    assert "scripts/system-packages --tests" in (ROOT / "scripts" / "test").read_text()
    install = (ROOT / "scripts" / "install").read_text()
    assert re.search(r"^scripts/system-packages$", install, re.M)
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_the_scripts_use_sudo_only_when_not_root_and_say_when_it_is_missing() -> None:
    for name in ("install", "test"):
        text = (ROOT / "scripts" / name).read_text()
        guard = text.index('if [ "$(id -u)" != 0 ]; then')
        assert "command -v sudo" in text[guard : text.index("exec sudo")], name
        assert text.index("exec sudo") > guard


def test_the_readmes_first_commands_work_as_root_without_sudo() -> None:
    readme = (ROOT / "README.md").read_text()
    first = readme[readme.index("```sh") : readme.index("```", readme.index("```sh") + 5)]
    commands = [line for line in first.splitlines()[1:] if line and not line.startswith("#")]
    assert commands and not any(line.lstrip().startswith("sudo") for line in commands), commands
    assert "as a user who may use sudo" in readme.lower()
