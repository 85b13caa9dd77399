"""The benchmark image, made without a registry.

Every containerised run uses one image holding fio, iperf3, ab, nginx, sysbench and busybox. Where no
registry can be reached (and on the hosts katatui compares, often none can), the image is made from
the host's own binaries: each tool, the libraries ``ldd`` lists for it and the dynamic loader are
fetched from the host as one tar stream, re-packed in memory into a small root filesystem and
imported with the Docker API. The same binaries then run bare and in every runtime, which is what a
fair comparison wants.

The root filesystem is merged-/usr (``/bin``, ``/sbin``, ``/lib``, ``/lib64`` link to ``/usr``), has
busybox applets in ``/usr/bin`` (``sh``, ``mktemp``, ``sed``, ...), ``root`` and ``nobody`` in
``/etc/passwd``, a world-writable ``/tmp`` and, for ab's server side:

* ``/var/www/katatui``: ``index.html`` and files of fixed sizes (``1k.bin`` ... ``1m.bin``);
* ``/etc/katatui/nginx.conf``: nginx in the foreground, workers as ``nobody``, no access log,
  listening on 127.0.0.1:8080 (``nginx -c /etc/katatui/nginx.conf``; do not add ``-g 'daemon off;'``,
  the file already says it);
* ``katatui-nginx PORT [ADDRESS]``: the same server on another port (and address, default
  127.0.0.1; pass 0.0.0.0 for clients on other hosts). nginx cannot take a port through ``-g``
  (it refuses block directives there), so this script writes a copy of the config with the port
  to /tmp and runs ``nginx -c`` on it.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import tarfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from katatui import __version__
from katatui.core.errors import TargetError
from katatui.core.workloads import registry
from katatui.core.workloads.ab.nginx import NGINX_CONFIG, NGINX_DEFAULT_LISTEN, NGINX_ROOT, STATIC_FILES

if TYPE_CHECKING:
    import docker

    from katatui.core.transport.base import Transport

IMAGE_TAG = "katatui/bench:0.1"
#: The Debian package that provides each tool: the workloads' (as their catalogues say), then the
#: image's own.
PACKAGES = {
    **registry.image_tools(),
    # The host's sh (dash on Debian): busybox's sh would run its own applets (dd, ...) in place of
    # the programs above, and the container would not run what the host runs.
    "sh": "dash",
    "date": "coreutils",  # nanoseconds (busybox's date has none): when a barrier's clients started
    "busybox": "busybox-static",
}
TOOLS = tuple(PACKAGES)
#: Busybox applets katatui's launchers rely on inside the image; every other applet busybox has is
#: linked too.
APPLETS = (
    "sh",
    "mktemp",
    "rm",
    "mkdir",
    "cat",
    "uname",
    "nproc",
    "sleep",
    "kill",
    "ls",
    "df",
    "stat",
    "free",
    "env",
    "id",
    "true",
    "false",
    "sed",
)
ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LABEL = "io.katatui.image"
NGINX_CONF = "/etc/katatui/nginx.conf"

# Keep NGINX_SCRIPT (and the ab workload's NGINX_CONFIG) in step with the Dockerfile at the top of the
# repository.
NGINX_SCRIPT = f"""\
#!/bin/sh
# katatui-nginx PORT [ADDRESS]: serve {NGINX_ROOT} on ADDRESS:PORT (default 127.0.0.1) in the
# foreground, with {NGINX_CONF} rewritten for that port.
set -eu
port=${{1:-}}
addr=${{2:-127.0.0.1}}
case $port in
    '' | *[!0-9]*) echo "usage: katatui-nginx PORT [ADDRESS]; bad port: '$port'" >&2; exit 2 ;;
esac
case $addr in
    '' | *[!]0-9A-Za-z.:[-]*) echo "katatui-nginx: bad address: '$addr'" >&2; exit 2 ;;
esac
conf=$(mktemp /tmp/katatui-nginx.XXXXXX)
sed -e "s/listen {re.escape(NGINX_DEFAULT_LISTEN)};/listen $addr:$port;/" \\
    -e "s#/tmp/katatui-nginx.pid#$conf.pid#" {NGINX_CONF} > "$conf"
exec nginx -c "$conf"
"""

# Used when the host has no /etc/nginx/mime.types (nginx then only needs the file to exist).
MIME_TYPES = """\
types {
    text/html html htm;
    text/plain txt;
    application/octet-stream bin;
}
"""

PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"
NSSWITCH = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"

# The top-level directories a merged-/usr system links into /usr.
_MERGED = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")

# Finds each tool and reports which optional paths exist. Names arrive as positional arguments and are
# never pasted into the script. /usr/sbin is added because nginx lives there and a non-root PATH lacks it.
_LOCATE = r"""PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
for t; do
    case $t in
        /*) if [ -e "$t" ]; then printf 'file %s\n' "$t"; fi ;;
        *)
            if p=$(command -v "$t"); then printf 'tool %s %s\n' "$t" "$p"; else printf 'missing %s\n' "$t"; fi
            ;;
    esac
done
"""


def _quiet(message: str) -> None:
    """The default progress callback: say nothing."""


@dataclass
class HostFiles:
    """What was found on the host: the tool paths, every host path to copy and busybox's applets."""

    tools: dict[str, str] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    applets: list[str] = field(default_factory=list)


def parse_ldd(output: str) -> tuple[list[str], list[str]]:
    """Split ``ldd`` output into (absolute library paths, names of libraries not found).

    Handles several files in one call (``path:`` headers), the vDSO (no path), the loader (a path
    with no arrow) and static binaries ("not a dynamic executable").
    """
    paths: list[str] = []
    missing: list[str] = []
    for line in output.splitlines():
        if not line.startswith(("\t", " ")):
            continue  # a "file:" header
        text = line.strip()
        if "=>" in text:
            name, _, rest = text.partition("=>")
            target = rest.strip().split(" (", 1)[0].strip()
            if target == "not found":
                missing.append(name.strip())
            elif target.startswith("/"):
                paths.append(target)
        elif text.startswith("/"):
            paths.append(text.split(" (", 1)[0].strip())
    return _unique(paths), _unique(missing)


def image_path(host_path: str) -> str:
    """Where a host file goes in the image: relative, with /bin, /lib ... folded into /usr."""
    parts = [p for p in host_path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise TargetError(f"refusing a path with '..' from the host: {host_path}")
    if parts and parts[0] in _MERGED:
        parts.insert(0, "usr")
    return "/".join(parts)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


async def _find_files(transport: Transport, log: Callable[[str], None]) -> HostFiles:
    found = HostFiles()
    done = await transport.run(["sh", "-c", _LOCATE, "sh", *TOOLS], timeout=60)
    if not done.ok:
        raise TargetError(
            f"on {transport.name}: could not look for the benchmark tools: "
            f"{done.stderr.decode(errors='replace').strip() or f'sh exited with status {done.returncode}'}"
        )
    missing: list[str] = []
    for line in done.text().splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "tool":
            name, _, path = rest.partition(" ")
            if path.startswith("/"):
                found.tools[name] = path
            else:
                missing.append(name)  # a shell builtin or alias, not a file we can copy
        elif kind == "missing":
            missing.append(rest)
    if missing:
        packages = " ".join(PACKAGES[t] for t in missing if t in PACKAGES)
        raise TargetError(
            f"on {transport.name}: {', '.join(missing)} not found; the image is built from the host's own "
            f"binaries, so install them first (Debian/Ubuntu: apt-get install {packages})"
        )
    log("found " + ", ".join(f"{t} ({p})" for t, p in found.tools.items()))

    binaries = list(found.tools.values())
    done = await transport.run(["ldd", *binaries], timeout=60)
    if done.returncode not in (0, 1):  # 1: one of them is static (busybox-static)
        raise TargetError(
            f"on {transport.name}: `ldd` failed (status {done.returncode}): "
            f"{done.stderr.decode(errors='replace').strip()}; it is in Debian's libc-bin"
        )
    libraries, unresolved = parse_ldd(done.text())
    if unresolved:
        raise TargetError(
            f"on {transport.name}: ldd cannot find these libraries of the benchmark tools: "
            f"{', '.join(unresolved)}; reinstall the packages that need them"
        )

    # Optional extras: nginx's MIME types, sysbench's Lua scripts, and NSS's files module where it is not
    # built into libc (glibc < 2.34), which nginx needs to look up the `nobody` user.
    libc_dirs = _unique(p.rsplit("/", 1)[0] for p in libraries if "/libc.so" in p)
    optional = ["/etc/nginx/mime.types", "/usr/share/sysbench"]
    optional += [f"{d}/libnss_files.so.2" for d in libc_dirs]
    done = await transport.run(["sh", "-c", _LOCATE, "sh", *optional], timeout=60)
    extras = [line[5:] for line in done.text().splitlines() if line.startswith("file ")]
    found.paths = _unique([*binaries, *libraries, *extras])

    done = await transport.run([found.tools["busybox"], "--list"], timeout=60)
    found.applets = [a for a in done.text().split() if re.fullmatch(r"[A-Za-z0-9_.\[-]+", a)]
    lacking = [a for a in APPLETS if a not in found.applets]
    if lacking:
        raise TargetError(
            f"on {transport.name}: {found.tools['busybox']} has no applet {', '.join(lacking)}; "
            "install busybox-static (Debian/Ubuntu) and retry"
        )
    return found


async def _fetch(transport: Transport, paths: list[str]) -> bytes:
    """All ``paths`` from the host as one tar, symlinks followed so each becomes a file."""
    relative = [p.lstrip("/") for p in paths]
    # Not compressed: gzip took 8 s for these ~90 MB where the raw stream crossed SSH in 0.8 s.
    done = await transport.run(["tar", "-chf", "-", "-C", "/", "--", *relative], timeout=600)
    if not done.ok:
        raise TargetError(
            f"on {transport.name}: `tar` could not read the tool files (status {done.returncode}): "
            f"{done.stderr.decode(errors='replace').strip()[-500:]}"
        )
    return done.stdout


class _RootFS:
    """A tar being written in memory, with each path added at most once."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.names: set[str] = set()
        self.now = int(time.time())

    def _info(self, name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.mtime = self.now
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    def _parents(self, name: str) -> None:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.dir("/".join(parts[:i]))

    def dir(self, name: str, mode: int = 0o755) -> None:
        if name in self.names:
            return
        self._parents(name)
        self.names.add(name)
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode))

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        if name in self.names:
            return
        self._parents(name)
        self.names.add(name)
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(data)
        self.tar.addfile(info, io.BytesIO(data))

    def symlink(self, name: str, target: str) -> None:
        if name in self.names:
            return
        self._parents(name)
        self.names.add(name)
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)

    def close(self) -> bytes:
        self.tar.close()
        return self.buffer.getvalue()


def _host_members(data: bytes) -> Iterator[tuple[tarfile.TarInfo, bytes | None]]:
    """Members of the fetched tar with the content of each regular file (hard links resolved)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for member in tar:
            if member.isfile() or member.islnk():
                handle = tar.extractfile(member)
                yield member, handle.read() if handle is not None else b""
            else:
                yield member, None


def make_rootfs(host_tar: bytes, found: HostFiles, *, source: str) -> bytes:
    """Re-pack the host's files into the image's root filesystem (an uncompressed tar)."""
    fs = _RootFS()
    for top in ("bin", "sbin", "lib", "lib64"):
        fs.dir(f"usr/{top}")
        fs.symlink(top, f"usr/{top}")
    for name, mode in (("tmp", 0o1777), ("var/tmp", 0o1777), ("root", 0o700), ("run", 0o755)):
        fs.dir(name, mode)
    for name in ("proc", "sys", "dev", "etc", "usr/local/bin", "var/log/nginx", "var/lib/nginx"):
        fs.dir(name)
    fs.dir(NGINX_ROOT[1:])

    for member, content in _host_members(host_tar):
        name = image_path(member.name)
        if not name:
            continue
        if member.isdir():
            fs.dir(name)
        elif content is not None:
            fs.file(name, content, member.mode & 0o7777)
        elif member.issym():
            fs.symlink(name, member.linkname)

    tool_paths = {t: image_path(p) for t, p in found.tools.items()}
    busybox = tool_paths["busybox"]
    for applet in found.applets:
        if applet == "busybox":
            continue
        fs.symlink(f"usr/bin/{applet}", "/" + busybox)  # skipped where a real file already is

    fs.file("etc/passwd", PASSWD.encode())
    fs.file("etc/group", GROUP.encode())
    fs.file("etc/nsswitch.conf", NSSWITCH.encode())
    fs.file("etc/hosts", HOSTS.encode())
    fs.file("etc/nginx/mime.types", MIME_TYPES.encode())  # only if the host had none
    fs.file(NGINX_CONF[1:], NGINX_CONFIG.encode())
    fs.file("usr/local/bin/katatui-nginx", NGINX_SCRIPT.encode(), 0o755)
    fs.file(f"{NGINX_ROOT[1:]}/index.html", b"<html><body>katatui</body></html>\n")
    for name, size in STATIC_FILES.items():
        fs.file(f"{NGINX_ROOT[1:]}/{name}", b"\0" * size)
    metadata = {
        "image": "bench",
        "source": "host-binaries",
        "host": source,
        "katatui": __version__,
        "built": fs.now,
        "tools": {t: "/" + p for t, p in tool_paths.items()},
        "applets": found.applets,
    }
    fs.file("etc/katatui/image.json", (json.dumps(metadata, indent=2) + "\n").encode())
    return fs.close()


def _changes(source: str) -> list[str]:
    return [
        f"ENV PATH={ENV_PATH}",
        f"LABEL {LABEL}=bench",
        "LABEL io.katatui.source=host-binaries",
        f"LABEL io.katatui.host={json.dumps(source)}",
        f"LABEL io.katatui.version={__version__}",
        f"LABEL io.katatui.tools={json.dumps(' '.join(TOOLS))}",
        'CMD ["/bin/sh"]',
    ]


def _split_tag(tag: str) -> tuple[str, str]:
    repository, sep, version = tag.rpartition(":")
    if not sep or "/" in version:  # "name" or "host:5000/name"
        return tag, "latest"
    return repository, version


def _import(client: docker.DockerClient, rootfs: bytes, tag: str, changes: list[str]) -> str:
    repository, version = _split_tag(tag)
    api: Any = client.api
    reply = api.import_image_from_data(rootfs, repository=repository, tag=version, changes=changes)
    for line in str(reply).splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict) and message.get("error"):
            raise TargetError(f"Docker refused the image {tag}: {message['error']}")
    image_id = client.images.get(tag).id
    if not image_id:
        raise TargetError(f"Docker imported {tag} but does not report its id")
    return image_id


async def build_from_host(
    transport: Transport,
    client: docker.DockerClient,
    tag: str = IMAGE_TAG,
    *,
    log: Callable[[str], None] = _quiet,
) -> str:
    """Build the benchmark image from the binaries of the host ``transport`` reaches; return its id.

    ``client`` is the Docker daemon on that same host (for a remote host, reached through the transport's
    forwarded socket). Nothing is downloaded.
    """
    started = time.monotonic()
    found = await _find_files(transport, log)
    log(f"fetching {len(found.paths)} files from {transport.name}")
    host_tar = await _fetch(transport, found.paths)
    rootfs = await asyncio.to_thread(make_rootfs, host_tar, found, source=transport.name)
    log(f"importing {len(rootfs) / 1e6:.1f} MB as {tag}")
    try:
        image_id = await asyncio.to_thread(_import, client, rootfs, tag, _changes(transport.name))
    except TargetError:
        raise
    except Exception as exc:  # the SDK raises requests' and its own errors alike
        raise TargetError(f"on {transport.name}: importing {tag} into Docker failed: {exc}") from exc
    log(f"built {tag} ({image_id[:19]}) in {time.monotonic() - started:.1f} s")
    return image_id


async def image_present(client: docker.DockerClient, tag: str) -> bool:
    """True when the daemon has an image by that name."""
    from docker.errors import APIError, ImageNotFound

    def look() -> bool:
        try:
            client.images.get(tag)
        except ImageNotFound:
            return False
        except APIError as exc:  # e.g. a name Docker cannot parse
            raise TargetError(f"image {tag!r}: {getattr(exc, 'explanation', None) or exc}") from None
        return True

    return await asyncio.to_thread(look)


def _daemon_identity(client: docker.DockerClient) -> tuple[str, str, str]:
    # Two daemons on one machine may share an ID (it comes from /etc/docker/key.json), so the host
    # name and data root are compared too.
    info: dict[str, Any] = client.info()
    return (str(info.get("ID")), str(info.get("Name")), str(info.get("DockerRootDir")))


async def same_daemon(a: docker.DockerClient, b: docker.DockerClient) -> bool:
    """True when both clients reach the same Docker daemon."""
    ids = await asyncio.gather(asyncio.to_thread(_daemon_identity, a), asyncio.to_thread(_daemon_identity, b))
    return ids[0] == ids[1]


async def transfer_image(src: docker.DockerClient, dst: docker.DockerClient, tag: str) -> None:
    """Copy an image from one daemon to another (``docker save | docker load``), streaming."""
    if not await image_present(src, tag):
        raise TargetError(f"the source Docker daemon has no image {tag}")

    def copy() -> None:
        chunks = src.api.get_image(tag)
        loader: Any = dst.api
        for message in loader.load_image(chunks):
            if isinstance(message, dict) and (message.get("error") or message.get("errorDetail")):
                detail = message.get("error") or message.get("errorDetail")
                raise TargetError(f"loading {tag} into the target's Docker failed: {detail}")

    try:
        await asyncio.to_thread(copy)
    except TargetError:
        raise
    except Exception as exc:
        raise TargetError(f"copying {tag} between Docker daemons failed: {exc}") from exc
    if not await image_present(dst, tag):
        raise TargetError(f"the target's Docker daemon does not list {tag} after loading it")


async def ensure_image(
    transport: Transport,
    client: docker.DockerClient,
    tag: str = IMAGE_TAG,
    *,
    local_client: docker.DockerClient | None = None,
    log: Callable[[str], None] = _quiet,
) -> str:
    """Make sure the daemon ``client`` reaches has the image; say what it took.

    Cheapest first: already there; copied from ``local_client`` (the Docker daemon where katatui runs)
    when that is another daemon holding the image; else built from the target host's own binaries.
    """
    if await image_present(client, tag):
        return "present"
    if (
        local_client is not None
        and not await same_daemon(local_client, client)
        and await image_present(local_client, tag)
    ):
        log(f"copying {tag} from the local Docker daemon to {transport.name}")
        await transfer_image(local_client, client, tag)
        return "loaded from local Docker"
    log(f"{tag} is not on {transport.name}: building it from the host's binaries")
    await build_from_host(transport, client, tag, log=log)
    return "built from host binaries"
