"""The benchmark image: ldd parsing and path mapping (pure), then the real image in the test dockerd."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import docker
import pytest

from katatui.commands.image import check_tag, parse_target
from katatui.core import image
from katatui.core.errors import TargetError, UserError
from katatui.core.transport.base import Completed, Process, Transport
from katatui.core.transport.local import LocalTransport

if TYPE_CHECKING:
    from tests.conftest import TestEnv

REPO = Path(__file__).resolve().parents[1]
RUNTIMES = ("runc", "runc-alt")

LDD_OUTPUT = """\
/usr/bin/iperf3:
\tlinux-vdso.so.1 (0x00007ffd)
\tlibiperf.so.0 => /lib/x86_64-linux-gnu/libiperf.so.0 (0x00007f4f)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f4f)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f4f)
/usr/bin/busybox:
\tnot a dynamic executable
/usr/bin/ab:
\tlibapr-1.so.0 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f02)
"""


def test_parse_ldd_finds_libraries_loader_and_missing() -> None:
    paths, missing = image.parse_ldd(LDD_OUTPUT)
    assert paths == [
        "/lib/x86_64-linux-gnu/libiperf.so.0",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/ld-linux-x86-64.so.2",
    ]
    assert missing == ["libapr-1.so.0"]


@pytest.mark.parametrize(
    ("host", "inside"),
    [
        ("/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"),
        ("lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2"),
        ("/bin/busybox", "usr/bin/busybox"),
        ("/usr/sbin/nginx", "usr/sbin/nginx"),
        ("./etc/nginx/mime.types", "etc/nginx/mime.types"),
        ("/library/x", "library/x"),
    ],
)
def test_image_path_folds_merged_usr(host: str, inside: str) -> None:
    assert image.image_path(host) == inside


def test_image_path_refuses_dot_dot() -> None:
    with pytest.raises(TargetError):
        image.image_path("usr/../etc/shadow")


class ScriptedTransport(Transport):
    """Answers ``run`` from a list of canned results, in order."""

    def __init__(self, answers: list[Completed]) -> None:
        super().__init__("testhost", "scripted")
        self.answers = answers

    @property
    def is_local(self) -> bool:
        return False

    async def start(self, argv: Sequence[str], *, stdin: bytes | None = None) -> Process:
        raise NotImplementedError

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        timeout: float | None = None,
        check: bool = False,
    ) -> Completed:
        return self.answers.pop(0)

    async def docker_client(self, socket_path: str | None) -> docker.DockerClient:
        raise NotImplementedError


async def test_missing_tools_are_named_with_their_packages() -> None:
    located = b"tool fio /usr/bin/fio\ntool iperf3 /usr/bin/iperf3\nmissing ab\nmissing nginx\n"
    transport = ScriptedTransport([Completed(("sh",), 0, located, b"")])
    client: Any = None  # never reached
    with pytest.raises(TargetError) as caught:
        await image.build_from_host(transport, client)
    message = str(caught.value)
    assert "testhost" in message
    assert "ab, nginx" in message
    assert "apt-get install apache2-utils nginx-light" in message


async def test_unresolved_libraries_are_an_error() -> None:
    located = "".join(f"tool {t} /usr/bin/{t}\n" for t in image.TOOLS).encode()
    transport = ScriptedTransport(
        [Completed(("sh",), 0, located, b""), Completed(("ldd",), 0, LDD_OUTPUT.encode(), b"")]
    )
    client: Any = None
    with pytest.raises(TargetError, match=r"libapr-1\.so\.0"):
        await image.build_from_host(transport, client)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("local", ("local", "local")),
        ("here=local", ("here", "local")),
        ("box=ssh://root@127.0.0.1:2222", ("box", "ssh://root@127.0.0.1:2222")),
        ("ssh://root@127.0.0.1", ("127.0.0.1", "ssh://root@127.0.0.1")),
    ],
)
def test_parse_target(spec: str, expected: tuple[str, str]) -> None:
    assert parse_target(spec) == expected


@pytest.mark.parametrize("spec", ["", "box=", "box=http://x", "ssh://"])
def test_parse_target_rejects(spec: str) -> None:
    with pytest.raises(UserError):
        parse_target(spec)


@pytest.mark.parametrize("tag", ["BAD:::TAG", "", "name@sha256:" + "a" * 64, "a" * 600, "-x", "a b"])
def test_a_tag_docker_cannot_take_is_refused_before_building(tag: str) -> None:
    with pytest.raises(UserError, match="--tag"):
        check_tag(tag)
    assert check_tag("registry:5000/katatui/bench:test-1") == "registry:5000/katatui/bench:test-1"


# --- integration: the image in the test dockerd ----------------------------------------------------

TOOL_CHECKS = {
    "fio": (["fio", "--version"], r"^fio-\d"),
    "iperf3": (["iperf3", "--version"], r"^iperf 3\."),
    "ab": (["ab", "-V"], r"This is ApacheBench"),
    "nginx": (["nginx", "-v"], r"nginx version: nginx/\d"),
    "sysbench": (["sysbench", "--version"], r"^sysbench \d"),
    "sh": (["sh", "-c", "echo ok"], r"^ok$"),
}


def run_in(client: docker.DockerClient, tag: str, command: list[str], runtime: str = "runc") -> str:
    output = client.containers.run(
        tag, command, runtime=runtime, network_mode="host", remove=True, stdout=True, stderr=True
    )
    return output.decode(errors="replace")


@pytest.mark.integration
@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("tool", list(TOOL_CHECKS))
def test_tool_runs_in_image(
    testenv: TestEnv, docker_client: docker.DockerClient, runtime: str, tool: str
) -> None:
    assert runtime in testenv.runtimes
    command, pattern = TOOL_CHECKS[tool]
    output = run_in(docker_client, testenv.image, command, runtime)
    assert re.search(pattern, output, re.MULTILINE), output


@pytest.mark.integration
def test_image_has_applets_users_and_labels(testenv: TestEnv, docker_client: docker.DockerClient) -> None:
    script = 'for a; do command -v "$a" >/dev/null || echo "missing $a"; done; id nobody; stat -c %a /tmp'
    output = run_in(docker_client, testenv.image, ["sh", "-c", script, "sh", *image.APPLETS])
    assert "missing" not in output
    assert "uid=65534(nobody)" in output
    assert output.strip().endswith("1777")
    attrs = docker_client.images.get(testenv.image).attrs
    assert attrs["Config"]["Labels"][image.LABEL] == "bench"
    assert f"PATH={image.ENV_PATH}" in attrs["Config"]["Env"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.integration
def test_nginx_serves_and_ab_measures(testenv: TestEnv, docker_client: docker.DockerClient) -> None:
    port = free_port()
    server = docker_client.containers.run(
        testenv.image, ["katatui-nginx", str(port)], network_mode="host", detach=True, remove=False
    )
    try:
        url = f"http://127.0.0.1:{port}/16k.bin"
        body = b""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    body = reply.read()
                break
            except OSError:
                time.sleep(0.1)
        assert len(body) == image.STATIC_FILES["16k.bin"], server.logs().decode(errors="replace")
        output = run_in(docker_client, testenv.image, ["ab", "-n", "300", "-c", "4", "-k", url])
        assert re.search(r"Complete requests:\s+300", output), output
        assert re.search(r"Failed requests:\s+0", output), output
    finally:
        server.remove(force=True)


@pytest.mark.integration
def test_nginx_script_rejects_bad_port(testenv: TestEnv, docker_client: docker.DockerClient) -> None:
    with pytest.raises(docker.errors.ContainerError) as caught:
        run_in(docker_client, testenv.image, ["katatui-nginx", "80;"])
    assert caught.value.exit_status == 2


def dockerfile_run(index: int) -> str:
    """The shell text of the Dockerfile's RUN instruction number ``index`` (continuations joined)."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", "")
    runs = [line[4:] for line in text.splitlines() if line.startswith("RUN ")]
    return runs[index]


@pytest.mark.integration
def test_dockerfile_writes_the_same_nginx_files(testenv: TestEnv, docker_client: docker.DockerClient) -> None:
    script = dockerfile_run(1) + f" && cat {image.NGINX_CONF} && echo @@@ && cat /usr/local/bin/katatui-nginx"
    output = run_in(docker_client, testenv.image, ["sh", "-c", script])
    config, _, nginx_script = output.partition("@@@\n")
    assert config == image.NGINX_CONFIG
    assert nginx_script == image.NGINX_SCRIPT


@pytest.mark.integration
async def test_build_from_host_again(testenv: TestEnv, docker_client: docker.DockerClient) -> None:
    tag = "katatui/bench:test-rebuild"
    lines: list[str] = []
    image_id = await image.build_from_host(LocalTransport(), docker_client, tag=tag, log=lines.append)
    try:
        assert image_id.startswith("sha256:")
        assert any("built" in line for line in lines)
        assert re.match(r"fio-\d", run_in(docker_client, tag, ["fio", "--version"], "runc-alt"))
        assert await image.ensure_image(LocalTransport(), docker_client, tag) == "present"
    finally:
        docker_client.images.remove(tag, force=True)
    assert not await image.image_present(docker_client, tag)


@pytest.mark.integration
async def test_transfer_streams_save_into_load(testenv: TestEnv, docker_client: docker.DockerClient) -> None:
    # One test daemon only: this saves and loads through the same one, which still runs the whole stream.
    tag = "katatui/bench:test-transfer"
    docker_client.images.get(testenv.image).tag(tag)
    try:
        await image.transfer_image(docker_client, docker_client, tag)
        assert await image.image_present(docker_client, tag)
        assert await image.same_daemon(docker_client, docker_client)
    finally:
        docker_client.images.remove(tag)
    with pytest.raises(TargetError, match="no image"):
        await image.transfer_image(docker_client, docker_client, tag)


@pytest.mark.integration
def test_cli_builds_and_reports(testenv: TestEnv, docker_client: docker.DockerClient) -> None:
    tag = "katatui/bench:test-cli"
    env = {**os.environ, "DOCKER_HOST": testenv.docker_url}
    command = [sys.executable, "-m", "katatui", "image"]
    try:
        done = subprocess.run(
            [*command, "build", "--from-host", "--tag", tag, "--docker-socket", testenv.docker_sock],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"{tag} sha256:")
        assert "importing" in done.stderr
        # The local daemon (DOCKER_HOST) is the target's own: nothing to copy.
        done = subprocess.run(
            [*command, "load", "--target", "here=local", "--tag", tag],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "nothing to copy" in done.stderr
    finally:
        docker_client.images.remove(tag, force=True)
    done = subprocess.run(
        [*command, "build", "--from-host", "--target", "box=ftp://x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--target" in done.stderr
