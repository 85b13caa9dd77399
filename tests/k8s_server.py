"""A small Kubernetes API server for the tests: the endpoints katatui's Kubernetes launcher uses, on
127.0.0.1, with every pod's container really run on the test dockerd.

Served: discovery (``/api``, ``/apis``, ``/api/v1``, ``/apis/node.k8s.io/v1``, ``/version``, enough
for ``kubectl --dry-run=client``), namespaces (get, create, delete with a Terminating phase), pods
(create, get, list with label selectors, delete with a grace period, log with ``follow=true``
streamed in HTTP chunks as the container writes), services (create, list, delete), events (list
with ``involvedObject.name``), RuntimeClasses (list, get). Not served: watches, Jobs, exec.

What a real cluster does that matters to katatui is imitated: the RuntimeClass admission (a pod
naming a missing RuntimeClass is rejected; the class's overhead is copied into the pod), a
one-node scheduler (node selector, taints and tolerations, requests plus overhead against the
node's allocatable CPU and memory; an unschedulable pod stays Pending with the scheduler's
condition and a FailedScheduling event), the kubelet (a handler with no Docker runtime behind it
gives the FailedCreatePodSandBox event containerd's CRI gives, and the pod stays Pending; an
image the daemon lacks gives ErrImagePull without pulling; deletion sends SIGTERM and SIGKILL
after the grace period) and RBAC refusals (``forbid`` makes chosen verb and resource pairs answer
403 with the API server's message). A pod's container runs with host networking under the Docker
runtime its RuntimeClass handler maps to, with the pod's CPU and memory limits.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import docker

NODE = "katatui-test-node"
LABEL = "io.katatui.fakekube"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cpu_milli(text: str) -> int:
    text = str(text)
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "k": 1000, "M": 1000**2, "G": 1000**3}


def mem_bytes(text: str) -> int:
    text = str(text)
    for suffix, factor in UNITS.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(float(text))


def status(code: int, reason: str, message: str, kind: str | None = None) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {"kind": kind} if kind else {},
        "code": code,
    }


class HttpError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.body = status(code, reason, message)


def matches(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, selector.split(",")):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k.rstrip("=")) != v:
                return False
        elif term not in labels:
            return False
    return True


class FakeKube:
    """The server. ``handlers`` maps a RuntimeClass handler to a Docker runtime."""

    def __init__(
        self,
        docker_url: str,
        *,
        runtime_classes: dict[str, tuple[str, dict[str, str]]] | None = None,
        handlers: dict[str, str] | None = None,
        allocatable: tuple[str, str] = ("2", "4Gi"),
        node_labels: dict[str, str] | None = None,
        taints: list[dict[str, str]] | None = None,
    ) -> None:
        self.docker = docker.DockerClient(base_url=docker_url, timeout=120)
        self.runtime_classes = runtime_classes or {"runc": ("runc", {}), "runc-alt": ("runc-alt", {})}
        self.handlers = handlers if handlers is not None else {"runc": "runc", "runc-alt": "runc-alt"}
        self.allocatable = (cpu_milli(allocatable[0]), mem_bytes(allocatable[1]))
        self.node_labels = {
            "kubernetes.io/hostname": NODE,
            "kubernetes.io/os": "linux",
            **(node_labels or {}),
        }
        self.taints = taints or []
        self.forbid: set[tuple[str, str]] = set()
        self.id = uuid.uuid4().hex[:8]
        self.lock = threading.RLock()
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.containers: dict[tuple[str, str], Any] = {}
        self.services: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        self.created: list[dict[str, Any]] = []  # every object created, as received
        self.scratch = Path(tempfile.mkdtemp(prefix="katatui-fakekube-"))
        self._stop = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._threads = [threading.Thread(target=self.httpd.serve_forever, daemon=True)]
        self._rv = 0

    # -- life ------------------------------------------------------------------------------------
    def __enter__(self) -> FakeKube:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self.lock:  # no kubelet thread creates a container after this
            self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for c in self.docker.api.containers(all=True, filters={"label": f"{LABEL}={self.id}"}):
            with contextlib.suppress(Exception):
                self.docker.api.remove_container(c["Id"], force=True, v=True)
        self.docker.close()
        shutil.rmtree(self.scratch, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kubeconfig(self, path: Path, context: str = "fake") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": context,
            "preferences": {},
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "katatui-test-token"}}],
            "contexts": [{"name": context, "context": {"cluster": "fake", "user": "tester"}}],
        }
        path.write_text(json.dumps(config, indent=1))
        return path

    def our_containers(self) -> list[str]:
        """Names of the Docker containers this server's pods still have."""
        found = self.docker.api.containers(all=True, filters={"label": f"{LABEL}={self.id}"})
        return [str(c["Names"][0]) for c in found]

    def settle(self, timeout: float = 60) -> None:
        """Wait until deleted pods have finished terminating (deletion is asynchronous, as in a cluster)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                terminating = [k for k, p in self.pods.items() if p["metadata"].get("deletionTimestamp")]
            if not terminating:
                return
            time.sleep(0.2)

    # -- objects ---------------------------------------------------------------------------------
    def _version(self) -> str:
        self._rv += 1
        return str(self._rv)

    def event(self, ns: str, pod: str, type_: str, reason: str, message: str) -> None:
        with self.lock:
            for ev in self.events:
                obj = ev["involvedObject"]
                if (obj["namespace"], obj["name"], ev["reason"], ev["message"]) == (ns, pod, reason, message):
                    ev["count"] += 1
                    ev["lastTimestamp"] = now()
                    return
            self.events.append(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"{pod}.{uuid.uuid4().hex[:10]}", "namespace": ns},
                    "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns, "apiVersion": "v1"},
                    "type": type_,
                    "reason": reason,
                    "message": message,
                    "count": 1,
                    "firstTimestamp": now(),
                    "lastTimestamp": now(),
                    "source": {"component": "fake"},
                }
            )

    def add_namespace(self, name: str, phase: str = "Active") -> None:
        with self.lock:
            self.namespaces[name] = {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "uid": str(uuid.uuid4()),
                    "creationTimestamp": now(),
                    "resourceVersion": self._version(),
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": phase},
            }

    def create_pod(self, ns: str, pod: dict[str, Any]) -> dict[str, Any]:
        meta = pod.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise HttpError(
                422, "Invalid", 'Pod "" is invalid: metadata.name: Required value: name is required'
            )
        with self.lock:
            if ns not in self.namespaces:
                raise HttpError(404, "NotFound", f'namespaces "{ns}" not found')
            if self.namespaces[ns]["status"]["phase"] == "Terminating":
                raise HttpError(
                    403,
                    "Forbidden",
                    f'pods "{name}" is forbidden: unable to create new content in '
                    f"namespace {ns} because it is being terminated",
                )
            if (ns, name) in self.pods:
                raise HttpError(409, "AlreadyExists", f'pods "{name}" already exists')
            spec = pod.setdefault("spec", {})
            rc = spec.get("runtimeClassName")
            if rc:
                if rc not in self.runtime_classes:
                    raise HttpError(403, "Forbidden", f'pod rejected: RuntimeClass "{rc}" not found')
                overhead = self.runtime_classes[rc][1]
                if overhead:
                    spec["overhead"] = dict(overhead)
            meta.update(
                namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now(), resourceVersion=self._version()
            )
            pod["status"] = {"phase": "Pending", "qosClass": "Guaranteed", "conditions": []}
            self.pods[(ns, name)] = pod
        threading.Thread(target=self._kubelet, args=(ns, name), daemon=True).start()
        return pod

    def _requests(self, pod: dict[str, Any]) -> tuple[int, int]:
        cpu = mem = 0
        for c in pod["spec"].get("containers", []):
            req = (c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits") or {}
            cpu += cpu_milli(req.get("cpu", "0"))
            mem += mem_bytes(req.get("memory", "0"))
        over = pod["spec"].get("overhead") or {}
        return cpu + cpu_milli(over.get("cpu", "0")), mem + mem_bytes(over.get("memory", "0"))

    def _unschedulable(self, ns: str, name: str) -> str | None:
        """The scheduler's message when the pod does not fit the node, else None."""
        pod = self.pods[(ns, name)]
        spec = pod["spec"]
        selector = spec.get("nodeSelector") or {}
        if any(self.node_labels.get(k) != v for k, v in selector.items()):
            return (
                "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: "
                "0/1 nodes are available: 1 Preemption is not helpful for scheduling."
            )
        tolerations = spec.get("tolerations") or []
        for taint in self.taints:
            if not any(_tolerates(t, taint) for t in tolerations):
                shown = f"{taint['key']}: {taint.get('value', '')}".rstrip(": ")
                return (
                    f"0/1 nodes are available: 1 node(s) had untolerated taint {{{shown}}}. preemption: "
                    "0/1 nodes are available: 1 Preemption is not helpful for scheduling."
                )
        cpu, mem = self._requests(pod)
        used_cpu = used_mem = 0
        for (ns2, n2), other in self.pods.items():
            if (
                (ns2, n2) != (ns, name)
                and other["spec"].get("nodeName")
                and other["status"]["phase"] in ("Pending", "Running")
            ):
                c, m = self._requests(other)
                used_cpu += c
                used_mem += m
        short = [
            w
            for w, need, have in (
                ("cpu", cpu + used_cpu, self.allocatable[0]),
                ("memory", mem + used_mem, self.allocatable[1]),
            )
            if need > have
        ]
        if short:
            return (
                f"0/1 nodes are available: {', '.join('1 Insufficient ' + s for s in short)}. preemption: "
                "0/1 nodes are available: 1 No preemption victims found for incoming pod."
            )
        return None

    def _set(self, ns: str, name: str, **status: Any) -> dict[str, Any] | None:
        with self.lock:
            pod = self.pods.get((ns, name))
            if pod is None:
                return None
            pod["status"].update(status)
            pod["metadata"]["resourceVersion"] = self._version()
            return pod

    def _kubelet(self, ns: str, name: str) -> None:
        # Schedule.
        while not self._stop.is_set():
            with self.lock:
                pod = self.pods.get((ns, name))
                if pod is None or pod["metadata"].get("deletionTimestamp"):
                    return
                reason = self._unschedulable(ns, name)
                if reason is None:
                    pod["spec"]["nodeName"] = NODE
                    pod["status"]["conditions"] = [
                        {"type": "PodScheduled", "status": "True", "lastTransitionTime": now()}
                    ]
                    break
                pod["status"]["conditions"] = [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": reason,
                        "lastTransitionTime": now(),
                    }
                ]
            self.event(ns, name, "Warning", "FailedScheduling", reason)
            time.sleep(0.5)
        # The sandbox: the handler must name a runtime (unless the pod was deleted meanwhile).
        with self.lock:
            pod = self.pods.get((ns, name))
            if pod is None:
                return
            spec = copy.deepcopy(pod["spec"])
        rc = spec.get("runtimeClassName")
        handler = self.runtime_classes[rc][0] if rc else "runc"
        runtime = self.handlers.get(handler)
        if runtime is None:
            message = (
                f"Failed to create pod sandbox: rpc error: code = Unknown desc = failed to get sandbox "
                f'runtime: no runtime for "{handler}" is configured'
            )
            while not self._stop.is_set() and (ns, name) in self.pods:
                self.event(ns, name, "Warning", "FailedCreatePodSandBox", message)
                time.sleep(1.0)
            return
        c = spec["containers"][0]
        image = c["image"]
        try:
            self.docker.images.get(image)
        except docker.errors.ImageNotFound:
            message = (
                f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and '
                f'unpack image "docker.io/{image}": not found (the test server never pulls)'
            )
            self._set(
                ns,
                name,
                containerStatuses=[
                    {
                        "name": c["name"],
                        "ready": False,
                        "restartCount": 0,
                        "image": image,
                        "imageID": "",
                        "state": {"waiting": {"reason": "ErrImagePull", "message": message}},
                    }
                ],
            )
            self.event(ns, name, "Warning", "Failed", message)
            return
        limits = (c.get("resources") or {}).get("limits") or {}
        kwargs: dict[str, Any] = {
            "image": image,
            "command": [*(c.get("command") or []), *(c.get("args") or [])] or None,
            "runtime": runtime,
            "network_mode": "host" if spec.get("hostNetwork") else "none",
            "labels": {LABEL: self.id, "io.katatui.fakekube.pod": f"{ns}/{name}"},
            "detach": True,
        }
        if c.get("workingDir"):
            kwargs["working_dir"] = c["workingDir"]
        if "cpu" in limits:
            kwargs["nano_cpus"] = cpu_milli(limits["cpu"]) * 1_000_000
        if "memory" in limits:
            kwargs["mem_limit"] = mem_bytes(limits["memory"])
        volumes = {}
        for vol in spec.get("volumes") or []:
            if "emptyDir" in vol:
                d = self.scratch / f"{ns}-{name}-{vol['name']}"
                d.mkdir(parents=True, exist_ok=True)
                for m in c.get("volumeMounts") or []:
                    if m["name"] == vol["name"]:
                        volumes[str(d)] = {"bind": m["mountPath"], "mode": "rw"}
        kwargs["volumes"] = volumes
        with self.lock:
            if self._stop.is_set():  # the server is closing: its containers are being removed
                return
            if (ns, name) not in self.pods or self.pods[(ns, name)]["metadata"].get("deletionTimestamp"):
                return
            container = self.docker.containers.create(**kwargs)
            self.containers[(ns, name)] = container
        try:
            container.start()
        except docker.errors.APIError as exc:
            self._set(
                ns,
                name,
                containerStatuses=[
                    {
                        "name": c["name"],
                        "ready": False,
                        "restartCount": 0,
                        "image": image,
                        "imageID": "",
                        "state": {
                            "waiting": {"reason": "RunContainerError", "message": str(exc.explanation or exc)}
                        },
                    }
                ],
            )
            return
        started = now()
        self._set(
            ns,
            name,
            phase="Running",
            hostIP="127.0.0.1",
            podIP="127.0.0.1",
            startTime=started,
            conditions=[
                {"type": t, "status": "True", "lastTransitionTime": started}
                for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
            ],
            containerStatuses=[
                {
                    "name": c["name"],
                    "ready": True,
                    "restartCount": 0,
                    "image": image,
                    "imageID": f"docker://{container.image.id}",
                    "containerID": f"docker://{container.id}",
                    "state": {"running": {"startedAt": started}},
                }
            ],
        )
        code = int(container.wait().get("StatusCode", -1))
        self._set(
            ns,
            name,
            phase="Succeeded" if code == 0 else "Failed",
            containerStatuses=[
                {
                    "name": c["name"],
                    "ready": False,
                    "restartCount": 0,
                    "image": image,
                    "imageID": f"docker://{container.image.id}",
                    "containerID": f"docker://{container.id}",
                    "state": {
                        "terminated": {
                            "exitCode": code,
                            "startedAt": started,
                            "finishedAt": now(),
                            "reason": "Completed" if code == 0 else "Error",
                        }
                    },
                }
            ],
        )

    def delete_pod(self, ns: str, name: str, grace: int | None) -> dict[str, Any]:
        with self.lock:
            pod = self.pods.get((ns, name))
            if pod is None:
                raise HttpError(404, "NotFound", f'pods "{name}" not found')
            grace = int(pod["spec"].get("terminationGracePeriodSeconds", 30) if grace is None else grace)
            if not pod["metadata"].get("deletionTimestamp"):
                pod["metadata"]["deletionTimestamp"] = now()
                pod["metadata"]["deletionGracePeriodSeconds"] = grace
                threading.Thread(target=self._terminate, args=(ns, name, grace), daemon=True).start()
            return copy.deepcopy(pod)

    def _terminate(self, ns: str, name: str, grace: int) -> None:
        container = self.containers.get((ns, name))
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop(timeout=grace)  # SIGTERM, SIGKILL after the grace period
            with contextlib.suppress(Exception):
                container.wait(timeout=grace + 30)
            time.sleep(1.0)  # let log followers read the end
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)
        with self.lock:
            self.pods.pop((ns, name), None)
            self.containers.pop((ns, name), None)
        for d in self.scratch.glob(f"{ns}-{name}-*"):
            shutil.rmtree(d, ignore_errors=True)

    def delete_namespace(self, ns: str) -> dict[str, Any]:
        with self.lock:
            obj = self.namespaces.get(ns)
            if obj is None:
                raise HttpError(404, "NotFound", f'namespaces "{ns}" not found')
            obj["status"]["phase"] = "Terminating"
            obj["metadata"]["deletionTimestamp"] = now()
            names = [n for (ns2, n) in self.pods if ns2 == ns]
        for n in names:
            with contextlib.suppress(HttpError):
                self.delete_pod(ns, n, 0)

        def finish() -> None:
            while any(k[0] == ns for k in list(self.pods)):
                time.sleep(0.2)
            time.sleep(1.0)
            with self.lock:
                self.namespaces.pop(ns, None)
                for key in [k for k in self.services if k[0] == ns]:
                    self.services.pop(key)

        threading.Thread(target=finish, daemon=True).start()
        return copy.deepcopy(obj)

    def follow_log(self, ns: str, name: str, follow: bool) -> Iterator[bytes]:
        with self.lock:
            pod = self.pods.get((ns, name))
            if pod is None:
                raise HttpError(404, "NotFound", f'pods "{name}" not found')
            container = self.containers.get((ns, name))
            cname = pod["spec"]["containers"][0]["name"]
            if container is None or pod["status"]["phase"] == "Pending":
                raise HttpError(
                    400,
                    "BadRequest",
                    f'container "{cname}" in pod "{name}" is waiting to start: ContainerCreating',
                )
        yield from self.docker.api.logs(container.id, stdout=True, stderr=True, stream=True, follow=follow)

    # -- HTTP ------------------------------------------------------------------------------------
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n)) if n else {}

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def do_DELETE(self) -> None:
                self._dispatch("DELETE")

            def _dispatch(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                server.requests.append((method, parts.path))
                try:
                    server.route(self, method, parts.path, query)
                except HttpError as exc:
                    self._send(exc.code, exc.body)
                except BrokenPipeError:
                    pass

        return Handler

    def _check(self, verb: str, resource: str, ns: str | None) -> None:
        if (verb, resource) in self.forbid:
            where = f' in the namespace "{ns}"' if ns else " at the cluster scope"
            group = "node.k8s.io" if resource == "runtimeclasses" else ""
            message = (
                f'{resource} is forbidden: User "katatui-test" cannot {verb} resource "{resource}" '
                f'in API group "{group}"{where}'
            )
            raise HttpError(403, "Forbidden", message)

    def route(self, h: Any, method: str, path: str, q: dict[str, str]) -> None:
        send = h._send
        if path == "/version":
            return send(
                200,
                {
                    "major": "1",
                    "minor": "33",
                    "gitVersion": "v1.33.0-katatui-test",
                    "platform": "linux/amd64",
                },
            )
        if path == "/api":
            return send(
                200,
                {
                    "kind": "APIVersions",
                    "versions": ["v1"],
                    "serverAddressByClientCIDRs": [
                        {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}
                    ],
                },
            )
        if path == "/apis":
            gv = {"groupVersion": "node.k8s.io/v1", "version": "v1"}
            return send(
                200,
                {
                    "kind": "APIGroupList",
                    "apiVersion": "v1",
                    "groups": [{"name": "node.k8s.io", "versions": [gv], "preferredVersion": gv}],
                },
            )
        if path == "/api/v1":
            res = [
                ("pods", "Pod", True),
                ("services", "Service", True),
                ("namespaces", "Namespace", False),
                ("events", "Event", True),
                ("pods/log", "Pod", True),
            ]
            return send(
                200,
                {
                    "kind": "APIResourceList",
                    "groupVersion": "v1",
                    "resources": [
                        {
                            "name": n,
                            "singularName": "",
                            "namespaced": ns,
                            "kind": k,
                            "verbs": ["create", "delete", "get", "list"],
                        }
                        for n, k, ns in res
                    ],
                },
            )
        if path == "/apis/node.k8s.io/v1":
            return send(
                200,
                {
                    "kind": "APIResourceList",
                    "groupVersion": "node.k8s.io/v1",
                    "resources": [
                        {
                            "name": "runtimeclasses",
                            "singularName": "runtimeclass",
                            "namespaced": False,
                            "kind": "RuntimeClass",
                            "verbs": ["create", "delete", "get", "list"],
                        }
                    ],
                },
            )
        m = re.fullmatch(r"/apis/node\.k8s\.io/v1/runtimeclasses(?:/([^/]+))?", path)
        if m and method == "GET":
            self._check("get" if m.group(1) else "list", "runtimeclasses", None)
            items = [self._runtime_class(n) for n in self.runtime_classes]
            if m.group(1):
                if m.group(1) not in self.runtime_classes:
                    raise HttpError(404, "NotFound", f'runtimeclasses.node.k8s.io "{m.group(1)}" not found')
                return send(200, self._runtime_class(m.group(1)))
            return send(
                200,
                {
                    "kind": "RuntimeClassList",
                    "apiVersion": "node.k8s.io/v1",
                    "metadata": {"resourceVersion": self._version()},
                    "items": items,
                },
            )
        m = re.fullmatch(r"/api/v1/namespaces(?:/([^/]+))?", path)
        if m:
            ns = m.group(1)
            if method == "POST":
                self._check("create", "namespaces", None)
                body = h._body()
                name = body.get("metadata", {}).get("name")
                with self.lock:
                    if name in self.namespaces:
                        raise HttpError(409, "AlreadyExists", f'namespaces "{name}" already exists')
                    self.add_namespace(name)
                    self.namespaces[name]["metadata"]["labels"] = body["metadata"].get("labels", {})
                    self.created.append(body)
                    return send(201, self.namespaces[name])
            if method == "GET" and ns:
                self._check("get", "namespaces", None)
                with self.lock:
                    if ns not in self.namespaces:
                        raise HttpError(404, "NotFound", f'namespaces "{ns}" not found')
                    return send(200, copy.deepcopy(self.namespaces[ns]))
            if method == "DELETE" and ns:
                self._check("delete", "namespaces", None)
                return send(200, self.delete_namespace(ns))
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/(pods|services|events)(?:/([^/]+))?(/log)?", path)
        if not m:
            raise HttpError(404, "NotFound", f"the server could not find the requested resource ({path})")
        ns, resource, name, log = m.groups()
        if log:
            self._check("get", "pods/log", ns)
            self._stream(h, self.follow_log(ns, name, q.get("follow") == "true"))
            return None
        verb = {"POST": "create", "DELETE": "delete"}.get(method, "get" if name else "list")
        self._check(verb, resource, ns)
        store = {"pods": self.pods, "services": self.services}.get(resource)
        if verb == "list":
            with self.lock:
                if resource == "events":
                    wanted = (q.get("fieldSelector") or "").removeprefix("involvedObject.name=")
                    items = [
                        e
                        for e in self.events
                        if e["metadata"]["namespace"] == ns
                        and (not wanted or e["involvedObject"]["name"] == wanted)
                    ]
                else:
                    assert store is not None
                    items = [
                        o
                        for (n2, _), o in store.items()
                        if n2 == ns and matches(q.get("labelSelector", ""), o["metadata"].get("labels") or {})
                    ]
                kind = {"pods": "PodList", "services": "ServiceList", "events": "EventList"}[resource]
                return send(
                    200,
                    {
                        "kind": kind,
                        "apiVersion": "v1",
                        "metadata": {"resourceVersion": self._version()},
                        "items": copy.deepcopy(items),
                    },
                )
        assert store is not None
        if verb == "create":
            body = h._body()
            self.created.append(copy.deepcopy(body))
            if resource == "pods":
                return send(201, copy.deepcopy(self.create_pod(ns, body)))
            with self.lock:
                key = (ns, body["metadata"]["name"])
                if key in self.services:
                    raise HttpError(409, "AlreadyExists", f'services "{key[1]}" already exists')
                body["metadata"].update(namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now())
                body["spec"]["clusterIP"] = "10.96.0.10"
                self.services[key] = body
                return send(201, body)
        if verb == "get":
            with self.lock:
                obj = store.get((ns, name))
                if obj is None:
                    raise HttpError(404, "NotFound", f'{resource} "{name}" not found')
                return send(200, copy.deepcopy(obj))
        if resource == "pods":
            body = h._body()
            grace = q.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
            return send(200, self.delete_pod(ns, name, None if grace is None else int(grace)))
        with self.lock:
            obj = self.services.pop((ns, name), None)
        if obj is None:
            raise HttpError(404, "NotFound", f'services "{name}" not found')
        return send(200, obj)

    def _runtime_class(self, name: str) -> dict[str, Any]:
        handler, overhead = self.runtime_classes[name]
        obj: dict[str, Any] = {
            "apiVersion": "node.k8s.io/v1",
            "kind": "RuntimeClass",
            "metadata": {"name": name},
            "handler": handler,
        }
        if overhead:
            obj["overhead"] = {"podFixed": dict(overhead)}
        return obj

    def _stream(self, h: Any, chunks: Iterator[bytes]) -> None:
        it = iter(chunks)
        first = next(it, b"")  # raises HttpError before any header is sent
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for data in [first, *[]]:
                if data:
                    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    h.wfile.flush()
            for data in it:
                if data:
                    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    h.wfile.flush()
            h.wfile.write(b"0\r\n\r\n")
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass


def _tolerates(t: dict[str, Any], taint: dict[str, str]) -> bool:
    if t.get("effect") and t["effect"] != taint.get("effect"):
        return False
    if t.get("operator") == "Exists":
        return not t.get("key") or t["key"] == taint["key"]
    return bool(t.get("key") == taint["key"] and t.get("value") == taint.get("value"))
