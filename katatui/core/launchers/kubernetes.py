"""``kubernetes``: each client is a pod with the scenario's RuntimeClass, in katatui's own namespace.

Uses the official ``kubernetes`` client with the user's kubeconfig and context. The client is
synchronous: every call runs in a thread (``asyncio.to_thread``) and each pod's log is followed by
a thread of its own that feeds the process interface. Pods get equal requests and limits (the
profile's ``[limits]``), the profile's node selector and tolerations, ``hostNetwork`` (so that ab,
which runs on the target host, and clients reach servers at the workload's address, 127.0.0.1 by
default, when the pods run on one node), labels for cleanup and an annotation naming the katatui
that made them. Servers (nginx for ab, the iperf3 server) also get a Service.

The pod log API merges stdout and stderr, so the pod runs its command under a small fixed wrapper
that marks each stderr line, reports the exit status as a last marked line, and turns the
SIGTERM Kubernetes sends on deletion into SIGINT for the tool (fio prints its final results on
SIGINT), then SIGTERM and SIGKILL if it does not stop. A pod that stays Pending fails the run with
the reason Kubernetes gives (the scheduler's condition, the container's waiting reason, or a
warning event such as a failed sandbox), never with a bare timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from katatui.core.errors import TargetError, UserError
from katatui.core.events import RunSpec
from katatui.core.launchers.base import Launcher, Mount
from katatui.core.launchers.docker import CONTAINER_SCRATCH, VOLUME_PATH
from katatui.core.profile import KubernetesConfig, Limits, parse_size
from katatui.core.scratch import owner_alive, owner_tag
from katatui.core.transport.base import Process, Stream, StreamedProcess, Transport

MANAGED_BY = ("app.kubernetes.io/managed-by", "katatui")
LABEL_SESSION = "katatui.io/session"
LABEL_RUN = "katatui.io/run"
LABEL_CLIENT = "katatui.io/client"
ANNOTATION_OWNER = "katatui.io/owner"
CONTAINER = "workload"
STDERR_MARK = b"\x1ekatatui-stderr\x1e"
EXIT_MARK = b"\x1ekatatui-exit\x1e"
# Fixed text: the workload's command follows as positional parameters. Stderr goes through a fifo
# to awk, which marks each line; SIGTERM (pod deletion) becomes SIGINT for the tool, then TERM, KILL.
WRAPPER = r"""d=$(mktemp -d) && mkfifo "$d/e" || exit 125
awk '{ printf "\036katatui-stderr\036%s\n", $0; fflush() }' <"$d/e" &
a=$!
"$@" 2>"$d/e" &
c=$!
trap 'kill -INT "$c" 2>/dev/null; (sleep 5; kill -TERM "$c"; sleep 3; kill -KILL "$c") 2>/dev/null &' TERM INT
wait "$c"; rc=$?
while kill -0 "$c" 2>/dev/null; do wait "$c"; rc=$?; done
wait "$a"
rm -rf "$d"
printf '\036katatui-exit\036%s\n' "$rc"
exit "$rc"
"""
# Waiting reasons of a container that will not start by itself.
FATAL_WAITING = {
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "CrashLoopBackOff",
}
# Warning events that end a pod's chances (the runtime handler is missing, the sandbox failed).
FATAL_EVENTS = {"FailedCreatePodSandBox", "FailedCreatePodContainer", "InvalidImageName", "ErrImageNeverPull"}


def served_port(argv: Sequence[str]) -> int | None:
    """The port of a server other pods or hosts reach (nginx for ab, an iperf3 server), if it is one."""
    if len(argv) > 1 and argv[0] == "katatui-nginx" and argv[1].isdigit():
        return int(argv[1])
    if argv and argv[0] == "iperf3" and "-s" in argv and "-p" in argv[:-1]:
        port = argv[list(argv).index("-p") + 1]
        return int(port) if port.isdigit() else None
    return None


POLL = 0.5
POOL = 256


def _loads(resp: Any) -> Any:
    data = resp.data if hasattr(resp, "data") else resp
    return json.loads(data) if data else {}


@dataclass(frozen=True)
class RuntimeClassInfo:
    name: str
    handler: str
    overhead: dict[str, str]


class KubeCluster:
    """One cluster (a kubeconfig context) and katatui's namespace in it."""

    def __init__(self, api_client: Any, context: str, server: str, config: KubernetesConfig) -> None:
        from kubernetes import client

        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.node = client.NodeV1Api(api_client)
        self.context = context
        self.server = server
        self.config = config
        self.namespace = config.namespace

    @classmethod
    async def connect(cls, config: KubernetesConfig) -> KubeCluster:
        """Load the kubeconfig and context; a missing file or context is the user's to fix (exit 2)."""
        try:
            from kubernetes import config as kconfig
        except ImportError:
            raise UserError(
                "kubernetes scenarios need the Python package `kubernetes` (pip install kubernetes)"
            ) from None
        from kubernetes.config.config_exception import ConfigException

        path = config.kubeconfig
        where = path or "$KUBECONFIG or ~/.kube/config"
        if path is not None and not Path(path).expanduser().is_file():
            raise UserError(
                f"[kubernetes] kubeconfig {path}: no such file; point it at your cluster's kubeconfig"
            )
        try:
            contexts, active = kconfig.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
        except (ConfigException, OSError, ValueError) as exc:
            raise UserError(
                f"kubeconfig ({where}) cannot be used: {exc}; set [kubernetes] kubeconfig in the profile"
            ) from None
        names = [c["name"] for c in contexts or []]
        context = config.context or (active or {}).get("name")
        if not context:
            raise UserError(
                f"kubeconfig ({where}) has no current-context; set [kubernetes] context "
                f"(its contexts: {', '.join(names) or 'none'})"
            )
        if context not in names:
            raise UserError(
                f"kubeconfig ({where}) has no context {context!r} "
                f"(its contexts: {', '.join(names) or 'none'}); fix [kubernetes] context in the profile"
            )

        def make() -> Any:
            from kubernetes import client

            configuration = client.Configuration()
            kconfig.load_kube_config(
                config_file=path, context=context, client_configuration=configuration, persist_config=False
            )  # type: ignore[no-untyped-call]
            # One connection per followed log: 64 clients follow 64 logs at once.
            configuration.connection_pool_maxsize = POOL
            return client.ApiClient(configuration)

        try:
            api_client = await asyncio.to_thread(make)
        except (ConfigException, OSError, ValueError) as exc:
            raise UserError(f"kubeconfig ({where}), context {context!r}: {exc}") from None
        return cls(api_client, context, str(api_client.configuration.host), config)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.api_client.close()

    # -- calls ------------------------------------------------------------------------------------
    def _error(self, exc: Exception, verb: str, resource: str, name: str | None) -> Exception:
        status = getattr(exc, "status", None)
        what = f"{resource}/{name}" if name else resource
        where = f"in namespace {self.namespace}" if resource not in ("runtimeclasses", "namespaces") else ""
        message = ""
        body = getattr(exc, "body", None)
        if body:
            with contextlib.suppress(ValueError, TypeError):
                message = str(json.loads(body).get("message") or "")
        message = message or str(getattr(exc, "reason", "") or exc)
        if status == 403:
            return UserError(
                f"Kubernetes (context {self.context}) forbids katatui to {verb} {resource} {where}: "
                f"{message}. Grant it with a Role and RoleBinding (check: "
                f"kubectl auth can-i {verb} {resource}"
                f"{' -n ' + self.namespace if where else ''})"
            )
        if status == 401:
            return UserError(
                f"Kubernetes (context {self.context}) rejected the credentials: {message}; "
                "refresh them in the kubeconfig"
            )
        if status is None:
            return TargetError(
                f"cannot reach the Kubernetes API server {self.server} (context {self.context}) "
                f"to {verb} {what}: {exc.__class__.__name__}: {exc}"
            )
        return TargetError(
            f"Kubernetes API: {verb} {what} {where} failed: {status} {message}".replace("  ", " ")
        )

    async def call(
        self,
        verb: str,
        resource: str,
        fn: Callable[..., Any],
        *args: Any,
        name: str | None = None,
        missing_ok: bool = False,
        **kwargs: Any,
    ) -> Any:
        """One API call in a thread; returns the JSON body (None for a 404 when ``missing_ok``)."""
        from kubernetes.client.exceptions import ApiException

        def work() -> Any:
            return _loads(fn(*args, _preload_content=False, _request_timeout=60, **kwargs))

        try:
            return await asyncio.to_thread(work)
        except ApiException as exc:
            if exc.status == 404 and missing_ok:
                return None
            raise self._error(exc, verb, resource, name) from None
        except Exception as exc:  # urllib3's connection errors and the like
            raise self._error(exc, verb, resource, name) from None

    # -- cluster facts --------------------------------------------------------------------------
    async def runtime_classes(self) -> dict[str, RuntimeClassInfo]:
        body = await self.call("list", "runtimeclasses", self.node.list_runtime_class)
        out = {}
        for item in body.get("items", []):
            name = item["metadata"]["name"]
            overhead = (item.get("overhead") or {}).get("podFixed") or {}
            out[name] = RuntimeClassInfo(
                name, str(item.get("handler", "")), {k: str(v) for k, v in overhead.items()}
            )
        return out

    # -- the namespace --------------------------------------------------------------------------
    async def prepare_namespace(self, timeout: float = 120.0) -> list[str]:
        """Make sure katatui's namespace exists (waiting out one that is being deleted) and remove
        pods and services a katatui that is no longer running left in it; returns what it removed."""
        ns = self.namespace
        deadline = time.monotonic() + timeout
        while True:
            body = await self.call(
                "get", "namespaces", self.core.read_namespace, ns, name=ns, missing_ok=True
            )
            if body is None:
                manifest = {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": ns, "labels": dict([MANAGED_BY])},
                }
                with contextlib.suppress(TargetError):  # 409: someone made it meanwhile
                    await self.call("create", "namespaces", self.core.create_namespace, manifest, name=ns)
                continue
            if (body.get("status") or {}).get("phase") != "Terminating":
                break
            if time.monotonic() > deadline:
                raise TargetError(
                    f"namespace {ns} is still being deleted after {timeout:.0f} s; "
                    "look at what holds it (kubectl get all -n {ns}) and retry"
                )
            await asyncio.sleep(1.0)
        return await self.remove(lambda meta: not owner_alive(_owner(meta)))

    async def remove(self, which: Callable[[dict[str, Any]], bool]) -> list[str]:
        """Delete katatui's pods and services whose metadata ``which`` accepts."""
        selector = f"{MANAGED_BY[0]}={MANAGED_BY[1]}"
        removed = []
        for resource, lister, deleter in (
            ("pods", self.core.list_namespaced_pod, self.core.delete_namespaced_pod),
            ("services", self.core.list_namespaced_service, self.core.delete_namespaced_service),
        ):
            body = await self.call("list", resource, lister, self.namespace, label_selector=selector)
            for item in body.get("items", []):
                meta = item.get("metadata") or {}
                if which(meta):
                    name = meta["name"]
                    await self.call(
                        "delete",
                        resource,
                        deleter,
                        name,
                        self.namespace,
                        name=name,
                        missing_ok=True,
                        grace_period_seconds=0,
                    )
                    removed.append(f"{resource[:-1]}/{name}")
        return removed

    async def remove_session(self, session_id: str) -> list[str]:
        return await self.remove(lambda meta: (meta.get("labels") or {}).get(LABEL_SESSION) == session_id)


def _owner(meta: dict[str, Any]) -> str:
    return str((meta.get("annotations") or {}).get(ANNOTATION_OWNER, ""))


def split_log(
    buffer: bytearray, data: bytes, final: bool = False
) -> tuple[list[tuple[Stream, bytes]], int | None]:
    """Complete lines of the merged pod log as (stream, bytes), and the exit status if reported."""
    buffer += data
    out: list[tuple[Stream, bytes]] = []
    code: int | None = None
    while True:
        nl = buffer.find(b"\n")
        if nl < 0:
            if final and buffer:
                nl = len(buffer) - 1
                buffer += b"\n"
            else:
                break
        line = bytes(buffer[: nl + 1])
        del buffer[: nl + 1]
        if line.startswith(EXIT_MARK):
            with contextlib.suppress(ValueError):
                code = int(line[len(EXIT_MARK) :])
            continue
        if line.startswith(STDERR_MARK):
            item: tuple[Stream, bytes] = ("stderr", line[len(STDERR_MARK) :])
        else:
            item = ("stdout", line)
        if out and out[-1][0] == item[0]:
            out[-1] = (item[0], out[-1][1] + item[1])
        else:
            out.append(item)
    return out, code


class PodProcess(StreamedProcess):
    """A pod's workload. Output comes from the log API followed from the container's start."""

    def __init__(self, argv: Sequence[str], cluster: KubeCluster, pod: str) -> None:
        super().__init__(argv)
        self.cluster = cluster
        self.pod = pod
        self._loop = asyncio.get_running_loop()
        self._code: int | None = None
        self._deleting = False
        self._followed = asyncio.Event()
        threading.Thread(target=self._follow, name=f"log-{pod}", daemon=True).start()

    def _put(self, item: tuple[Stream, bytes] | None) -> None:
        self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def _follow(self) -> None:
        buffer = bytearray()
        try:
            resp: Any = self.cluster.core.read_namespaced_pod_log(
                self.pod, self.cluster.namespace, container=CONTAINER, follow=True, _preload_content=False
            )
            try:
                for data in resp.stream(65536, decode_content=True):
                    items, code = split_log(buffer, data)
                    for item in items:
                        self._put(item)
                    if code is not None:
                        self._code = code
            finally:
                resp.release_conn()
            items, code = split_log(buffer, b"", final=True)
            for item in items:
                self._put(item)
            if code is not None:
                self._code = code
        except Exception as exc:  # the API server went away or the pod was removed under us
            self._put(("stderr", f"katatui: lost the log of pod {self.pod}: {exc}\n".encode()))
        finally:
            self._put(None)
            self._put(None)
            self._loop.call_soon_threadsafe(self._followed.set)

    async def wait(self) -> int:
        await self._followed.wait()
        if self._code is not None:
            return self._code
        # No exit line: the wrapper was killed. Ask the pod how its container ended.
        for _ in range(20):
            body = await self.cluster.call(
                "get",
                "pods",
                self.cluster.core.read_namespaced_pod,
                self.pod,
                self.cluster.namespace,
                name=self.pod,
                missing_ok=True,
            )
            if body is None:
                break
            term = _terminated(body)
            if term is not None:
                self._code = int(term.get("exitCode", -1))
                return self._code
            await asyncio.sleep(POLL)
        self._code = -9
        return self._code

    async def signal(self, name: str) -> None:
        if self._code is not None or self._followed.is_set():
            return
        if name == "KILL":
            grace = 0
        elif self._deleting:
            return  # the pod's wrapper already escalates INT, TERM, KILL itself
        else:
            grace = 30
        self._deleting = True
        await self.cluster.call(
            "delete",
            "pods",
            self.cluster.core.delete_namespaced_pod,
            self.pod,
            self.cluster.namespace,
            name=self.pod,
            missing_ok=True,
            grace_period_seconds=grace,
        )


def _terminated(pod: dict[str, Any]) -> dict[str, Any] | None:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated")
        if term:
            return dict(term)
    return None


def pending_reason(pod: dict[str, Any], events: Iterable[dict[str, Any]]) -> tuple[str | None, bool]:
    """Why a pod is not running yet: (reason, fatal). Fatal reasons do not go away by waiting."""
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in FATAL_WAITING:
            return f"{waiting['reason']}: {waiting.get('message') or 'no message'}", True
    for ev in events:
        if ev.get("type") == "Warning" and ev.get("reason") in FATAL_EVENTS:
            return f"{ev['reason']}: {ev.get('message', '')}", True
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return f"{cond.get('reason') or 'not scheduled'}: {cond.get('message') or 'no message'}", False
    for ev in events:
        if ev.get("type") == "Warning":
            return f"{ev.get('reason')}: {ev.get('message', '')}", False
    return None, False


class KubernetesLauncher(Launcher):
    name = "kubernetes"
    barrier = False  # the API has no way to signal a container (a signal here deletes the pod)

    def __init__(
        self,
        transport: Transport,
        cluster: KubeCluster,
        *,
        runtime_class: str,
        image: str,
        session_id: str,
        limits: Limits,
        scratch_mode: str = "volume",
    ) -> None:
        super().__init__(transport)
        self.cluster = cluster
        self.runtime = runtime_class
        self.image = image
        self.session_id = session_id
        self.limits = limits
        self.scratch_mode = scratch_mode
        self._owner = owner_tag()
        self._pods: dict[tuple[str, int], tuple[str, bool]] = {}  # -> (pod name, has a service)

    def needs_host_scratch(self, mode: str) -> bool:
        return False  # an emptyDir volume (or the container's own layer) on the node

    def scratch_path(self, host_path: str | None) -> str:
        return VOLUME_PATH if self.scratch_mode == "volume" else CONTAINER_SCRATCH

    def pod_name(self, run: RunSpec, client: int) -> str:
        return f"katatui-{self.session_id}-{run.run_id}-{client}".lower()

    def manifests(self, run: RunSpec, client: int, argv: Sequence[str]) -> list[dict[str, Any]]:
        """The pod (and, for a server other hosts reach, its Service) as the API receives them."""
        name = self.pod_name(run, client)
        labels = {
            MANAGED_BY[0]: MANAGED_BY[1],
            LABEL_SESSION: self.session_id,
            LABEL_RUN: run.run_id,
            LABEL_CLIENT: str(client),
        }
        resources: dict[str, str] = {}
        if self.limits.cpus:
            resources["cpu"] = f"{round(self.limits.cpus * 1000)}m"
        if self.limits.memory:
            resources["memory"] = str(parse_size(self.limits.memory))
        kcfg = self.cluster.config
        container: dict[str, Any] = {
            "name": CONTAINER,
            "image": self.image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", WRAPPER, "katatui", *argv],
            "workingDir": self.scratch_path(None),
        }
        if resources:
            container["resources"] = {"requests": dict(resources), "limits": dict(resources)}
        spec: dict[str, Any] = {
            "restartPolicy": "Never",
            "runtimeClassName": self.runtime,
            "hostNetwork": True,
            "dnsPolicy": "ClusterFirstWithHostNet",
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "terminationGracePeriodSeconds": 30,
            "containers": [container],
        }
        if self.scratch_mode == "volume":
            container["volumeMounts"] = [{"name": "scratch", "mountPath": VOLUME_PATH}]
            spec["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        if kcfg.node_selector:
            spec["nodeSelector"] = dict(kcfg.node_selector)
        if kcfg.tolerations:
            spec["tolerations"] = [t.model_dump(exclude_none=True) for t in kcfg.tolerations]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": self.cluster.namespace,
                "labels": labels,
                "annotations": {ANNOTATION_OWNER: self._owner},
            },
            "spec": spec,
        }
        out = [pod]
        port = served_port(argv)
        if port is not None:
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {
                        "name": name,
                        "namespace": self.cluster.namespace,
                        "labels": dict(labels),
                        "annotations": {ANNOTATION_OWNER: self._owner},
                    },
                    "spec": {
                        "selector": {LABEL_RUN: run.run_id, LABEL_CLIENT: str(client)},
                        "ports": [{"name": "server", "protocol": "TCP", "port": port, "targetPort": port}],
                    },
                }
            )
        return out

    def describe(self, run: RunSpec, argv: Sequence[str], mount: Mount | None) -> list[str]:
        """``kubectl run`` with the pod's placement, runtime, resources and scratch volume as overrides."""
        name = self.pod_name(run, 0)
        pod = self.manifests(run, 0, argv)[0]
        spec = {k: v for k, v in pod["spec"].items() if k != "containers"}
        container = dict(pod["spec"]["containers"][0])
        # kubectl run names the container after the pod; its overrides replace the container whole
        container.update(name=name, command=list(argv))
        overrides = json.dumps({"spec": {**spec, "containers": [container]}}, separators=(",", ":"))
        return [
            "kubectl", "--context", self.cluster.context, "-n", self.cluster.namespace, "run", name,
            "--rm", "-i", "--restart=Never", "--image", self.image, f"--overrides={overrides}", "--command",
            "--", *argv,
        ]  # fmt: skip

    async def _create(self, run: RunSpec, client: int, argv: Sequence[str]) -> str:
        manifests = self.manifests(run, client, argv)
        name = str(manifests[0]["metadata"]["name"])
        self._pods[(run.run_id, client)] = (name, len(manifests) > 1)
        core = self.cluster.core
        ns = self.cluster.namespace
        await self.cluster.call("create", "pods", core.create_namespaced_pod, ns, manifests[0], name=name)
        if len(manifests) > 1:
            await self.cluster.call(
                "create", "services", core.create_namespaced_service, ns, manifests[1], name=name
            )
        return name

    async def _wait_started(self, run: RunSpec, names: Sequence[str]) -> None:
        """Until every pod has left Pending; fail at once on a reason waiting does not cure, and with
        the last reason Kubernetes gave when ``pending_timeout`` runs out."""
        core = self.cluster.core
        ns = self.cluster.namespace
        timeout = self.cluster.config.pending_timeout
        deadline = time.monotonic() + timeout
        waiting = set(names)
        pause = 0.05
        last_reason: dict[str, str] = {}
        next_events = 0.0
        events: dict[str, list[dict[str, Any]]] = {}
        while waiting:
            body = await self.cluster.call(
                "list", "pods", core.list_namespaced_pod, ns, label_selector=f"{LABEL_RUN}={run.run_id}"
            )
            pods = {p["metadata"]["name"]: p for p in body.get("items", [])}
            if time.monotonic() >= next_events and any(
                (pods.get(n, {}).get("status") or {}).get("phase", "Pending") == "Pending" for n in waiting
            ):
                # One call for the events of every pod still waiting (katatui's namespace is its own).
                next_events = time.monotonic() + 2.0
                ev = await self.cluster.call("list", "events", core.list_namespaced_event, ns)
                events = {}
                for item in ev.get("items", []):
                    events.setdefault(str((item.get("involvedObject") or {}).get("name")), []).append(item)
            for name in sorted(waiting):
                pod = pods.get(name)
                if pod is None:
                    raise TargetError(f"pod {name} disappeared before it started (deleted by someone else?)")
                phase = (pod.get("status") or {}).get("phase", "Pending")
                if phase != "Pending":
                    waiting.discard(name)
                    continue
                reason, fatal = pending_reason(pod, events.get(name, []))
                if reason:
                    last_reason[name] = reason
                if fatal:
                    raise TargetError(f"pod {name} (RuntimeClass {self.runtime}) cannot start: {reason}")
            if waiting and time.monotonic() > deadline:
                name = sorted(waiting)[0]
                said = last_reason.get(name) or "Kubernetes gave no reason (no event, no condition)"
                raise TargetError(
                    f"pod {name} (RuntimeClass {self.runtime}) is still Pending after {timeout} s: {said}"
                )
            if waiting:
                await asyncio.sleep(pause)
                pause = min(POLL, pause * 2)  # quick at first: a pod usually starts within a second

    async def start(self, run: RunSpec, client: int, argv: Sequence[str], mount: Mount | None) -> Process:
        return (await self.start_many(run, [(client, argv, mount)]))[0]

    async def start_many(
        self, run: RunSpec, clients: Sequence[tuple[int, Sequence[str], Mount | None]]
    ) -> list[Process]:
        """Create every client's pod at once and wait for all of them with one list call per poll."""
        names = await asyncio.gather(*(self._create(run, c, argv) for c, argv, _ in clients))
        await self._wait_started(run, names)
        return [
            PodProcess(argv, self.cluster, name) for name, (_, argv, _) in zip(names, clients, strict=True)
        ]

    async def release(self, run: RunSpec, client: int) -> None:
        await self._release((run.run_id, client))

    async def _release(self, key: tuple[str, int]) -> None:
        entry = self._pods.pop(key, None)
        if entry is None:
            return
        name, service = entry
        core = self.cluster.core
        ns = self.cluster.namespace
        with contextlib.suppress(TargetError, UserError):
            await self.cluster.call(
                "delete", "pods", core.delete_namespaced_pod, name, ns, name=name, missing_ok=True,
                grace_period_seconds=0,
            )  # fmt: skip
        if service:
            with contextlib.suppress(TargetError, UserError):
                await self.cluster.call(
                    "delete", "services", core.delete_namespaced_service, name, ns, name=name, missing_ok=True
                )

    async def close(self) -> None:
        for key in list(self._pods):
            await self._release(key)
