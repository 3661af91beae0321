"""The docker-compose.yaml stack as real processes on loopback: Redis, `airflow api-server`,
`scheduler`, `dag-processor` and N `airflow celery worker` processes (CeleryExecutor).

The environment of every Airflow process is the compose file's ``x-airflow-common`` environment:
its ``${VAR}`` references are filled from a ``.env``-like mapping (exactly as ``docker compose``
does), then the container-only parts are mapped to local ones: the host names ``postgres``,
``redis`` and ``airflow-apiserver`` become the test's PostgreSQL database, Redis server and
api-server port; paths under ``/opt/airflow`` become directories under the test's temp dir.
Nothing else is changed, and ``local_overrides()`` lists the few settings only a one-machine run
needs (ports, AIRFLOW_HOME, a hostname per worker), so the compose file and this run cannot drift.

Kept importable without Airflow or pytest: a worker imports ``worker_hostname`` through
``[core] hostname_callable``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.airflow_stack import stop_process_groups, wait_for
from tests.fixtures.ports import free_port

PROJECT_DIR = Path(__file__).resolve().parents[2]
COMPOSE_FILE = PROJECT_DIR / "docker-compose.yaml"
CONTAINER_HOME = "/opt/airflow"
WORKER_NAME_ENV = "CHATWOOT_E2E_WORKER_HOSTNAME"


def worker_hostname() -> str:
    """[core] hostname_callable of the test's workers: one name per worker on one machine."""
    return os.environ.get(WORKER_NAME_ENV) or socket.getfqdn()


# ---- the compose file --------------------------------------------------------------------------

def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    import yaml

    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def common_environment(compose: Mapping[str, Any]) -> dict[str, str]:
    """x-airflow-common's environment, values as strings (YAML may type some)."""
    return {str(k): _scalar(v) for k, v in compose["x-airflow-common"]["environment"].items()}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


_REFERENCE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


def referenced_variables(value: str) -> list[tuple[str, str | None]]:
    """The ${NAME...} references of a compose value: (name, operator) pairs."""
    return [(m.group("name"), m.group("op")) for m in _REFERENCE.finditer(value) if m.group("name")]


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """docker compose's interpolation: ${X}, ${X:-default}, ${X-default}, ${X:?error}, ${X?error}, $$."""

    def replace(match: re.Match) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        if name is None:
            return "$"
        present = name in variables
        current = variables.get(name, "")
        if op == ":-":
            return current if current else arg
        if op == "-":
            return current if present else arg
        if op in (":?", "?") and (not present or (op == ":?" and not current)):
            raise KeyError(f"{name}: {arg or 'required variable is missing'}")
        return current

    return _REFERENCE.sub(replace, value)


# ---- from containers to loopback ------------------------------------------------------------------

@dataclass
class LocalServices:
    """Where the compose services are on this machine."""

    metadata_uri: str                 # postgresql://... (the service `postgres`)
    redis_url: str                    # redis://host:port/db (the service `redis`)
    api_url: str                      # http://127.0.0.1:PORT (the service `airflow-apiserver`)
    paths: dict[str, Path]            # container path prefix -> local directory

    def hosts(self) -> dict[str, str]:
        return {"postgres": self.metadata_uri, "redis": self.redis_url, "airflow-apiserver": self.api_url}


_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?:[^@/]*@)?(?P<host>[A-Za-z0-9_.-]+)(?::\d+)?(?=[/?#]|$)"
                  r"(?P<path>/[^?#]*)?")


def relocate(value: str, services: LocalServices) -> str:
    """One compose value with its container host names and paths mapped to local ones."""
    match = _URL.match(value)
    if match and match.group("host") in services.hosts():
        local = services.hosts()[match.group("host")]
        if match.group("host") == "airflow-apiserver":      # keep the path (/execution/)
            return local.rstrip("/") + (match.group("path") or "")
        return f"{match.group('scheme')}://{local.split('://', 1)[1]}"   # keep the driver (e.g. db+postgresql+psycopg)
    if value.startswith(CONTAINER_HOME):
        for prefix in sorted(services.paths, key=len, reverse=True):
            if value == prefix or value.startswith(prefix.rstrip("/") + "/"):
                return str(services.paths[prefix]) + value[len(prefix):]
    return value


def compose_environment(compose: Mapping[str, Any], dotenv: Mapping[str, str],
                        services: LocalServices) -> dict[str, str]:
    """x-airflow-common's environment as this machine runs it."""
    return {key: relocate(interpolate(raw, dotenv), services) for key, raw in common_environment(compose).items()}


def local_overrides(home: Path, api_port: int, health_port: int) -> dict[str, str]:
    """What a one-machine run needs on top of the compose environment (each process adds its own)."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),
        # faster loops than production's defaults, for a bounded test
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")) if p),
    }


# ---- processes ------------------------------------------------------------------------------------

def redis_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def marked_pids(marker_env: str, marker: str) -> list[int]:
    """Processes whose environment still shows marker_env=marker. Only a sweep: a process that sets
    its title (Celery, the task supervisor) may overwrite the environment /proc shows."""
    needle = f"{marker_env}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list:
    """psutil.Process of pid and all its descendants (empty when pid is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def kill_tree(pid: int) -> list[int]:
    """SIGKILL a process and everything it started, as a lost machine would: freeze (SIGSTOP) the
    tree until no new process appears, then SIGKILL it all. Task processes run in process groups
    of their own, so a killpg of the worker's group alone would leave them running."""
    import psutil

    frozen: dict[int, psutil.Process] = {}
    for _ in range(50):
        new = [p for p in process_tree(pid) if p.pid not in frozen]
        if not new:
            break
        for proc in new:
            try:
                proc.send_signal(signal.SIGSTOP)
                frozen[proc.pid] = proc
            except psutil.NoSuchProcess:
                pass
    for proc in frozen.values():
        try:
            proc.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(list(frozen.values()), timeout=30)
    return sorted(frozen)


class RedisServer:
    """A redis-server of our own on a free loopback port (no persistence), or the machine's."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.shared = False

    @staticmethod
    def available() -> str | None:
        """None when the test can have a Redis, else why not."""
        if shutil.which("redis-server") or redis_ping("127.0.0.1", 6379):
            return None
        return "no Redis: neither a server answering on 127.0.0.1:6379 nor `redis-server` on PATH"

    def start(self) -> RedisServer:
        if not shutil.which("redis-server"):
            self.port, self.shared = 6379, True
            return self
        self.port = free_port()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = (self.log_dir / "redis.log").open("w")
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.log_dir)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for("redis-server to answer", lambda: self.proc.poll() is None and redis_ping("127.0.0.1", self.port),
                 timeout=30, interval=0.2)
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)


@dataclass
class CeleryStack:
    """api-server, scheduler, dag-processor and `workers` Celery workers with one environment."""

    environment: dict[str, str]          # compose environment + local overrides (+ the rest of os.environ)
    api_url: str
    api_port: int
    log_dir: Path
    workers: int = 2
    worker_concurrency: int = 2
    queue: str | None = None
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    killed: dict[str, list[int]] = field(default_factory=dict)
    leftovers: list[int] = field(default_factory=list)

    MARKER_ENV = "CHATWOOT_E2E_STACK"

    def worker_names(self) -> list[str]:
        return [f"worker{i}" for i in range(1, self.workers + 1)]

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        out = (self.log_dir / f"{name}.log").open("w")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "airflow", *args], env=env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True, cwd=self.log_dir)

    def start(self) -> CeleryStack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        base = {**self.environment, self.MARKER_ENV: self.marker}
        self._spawn("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(self.api_port)], base)
        self._spawn("scheduler", ["scheduler"], base)
        self._spawn("dag-processor", ["dag-processor"], base)
        for name in self.worker_names():
            env = {**base,
                   "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
                   WORKER_NAME_ENV: name,
                   "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
            args = ["celery", "worker", "--celery-hostname", f"{name}@%h",
                    "--concurrency", str(self.worker_concurrency)]
            if self.queue:
                args += ["--queues", self.queue]
            self._spawn(name, args, env)
        wait_for("the api-server to answer", self._healthy, timeout=180)
        for name in self.worker_names():
            wait_for(f"celery {name} to be ready", lambda n=name: self._alive() and " ready." in self.tail(n, 20000),
                     timeout=180)
        return self

    def _alive(self) -> bool:
        for name, proc in self.procs.items():
            if name not in self.killed and proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")
        return True

    def _healthy(self) -> bool:
        self._alive()
        try:
            with urllib.request.urlopen(self.api_url + "/api/v2/monitor/health", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def tail(self, name: str, size: int = 4000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    # -- the REST API, as the UI uses it (simple auth manager: user and password) --
    def login(self, username: str, password: str) -> None:
        request = urllib.request.Request(self.api_url + "/auth/token", method="POST",
                                         data=json.dumps({"username": username, "password": password}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            self._token = json.loads(response.read())["access_token"]

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(self.api_url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {self._token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    # -- failure and shutdown --
    def kill_worker(self, name: str) -> list[int]:
        """SIGKILL the worker and every process it started (task supervisors and tasks included)."""
        pids = kill_tree(self.procs[name].pid)
        self.killed[name] = pids
        self.procs[name].wait(timeout=30)
        return pids

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM every process group (Celery: warm shutdown), bounded wait, SIGKILL; then kill
        whatever the processes had started and outlived them (task processes in groups of their
        own), found from the process trees taken before the shutdown and by the stack's marker."""
        import psutil

        started = [child for proc in self.procs.values() for child in process_tree(proc.pid)]
        stop_process_groups(self.procs.values(), timeout)

        def alive(proc) -> bool:
            try:
                return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return False

        survivors = {p.pid: p for p in started if alive(p)}
        for pid in marked_pids(self.MARKER_ENV, self.marker):
            try:
                survivors.setdefault(pid, psutil.Process(pid))
            except psutil.NoSuchProcess:
                pass
        for proc in survivors.values():
            self.leftovers.append(proc.pid)
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(list(survivors.values()), timeout=30)
        wait_for("the stack's processes to disappear",
                 lambda: not marked_pids(self.MARKER_ENV, self.marker) and not any(alive(p) for p in started),
                 timeout=30, interval=0.5)
