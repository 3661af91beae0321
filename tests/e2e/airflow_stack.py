"""Airflow's own processes for a test: scheduler, dag-processor and api-server (LocalExecutor,
PostgreSQL metadata database, a free loopback port, AIRFLOW_HOME under a temp dir).

Every process carries a unique marker in its environment, so shutdown can prove that nothing it
started (task supervisors and workers included) outlives it: bounded waits, then SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

PROCESSES = {"scheduler": ["scheduler"], "dag-processor": ["dag-processor"], "api-server": ["api-server"]}


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """Poll check() until it returns something truthy; fail with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def stop_process_groups(procs: Iterable[subprocess.Popen], timeout: float) -> None:
    """SIGTERM each process's group, wait for all (bounded by timeout), then SIGKILL the groups."""
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pass
    time.sleep(1)
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait(timeout=30)


class AirflowStack:
    def __init__(self, airflow_env, port: int, log_dir: Path) -> None:
        self.airflow_env = airflow_env
        self.port = port
        self.log_dir = log_dir
        self.marker = uuid.uuid4().hex
        self.secret = uuid.uuid4().hex * 2
        self.procs: dict[str, subprocess.Popen] = {}
        self.leftovers: list[int] = []
        self.base_url = f"http://127.0.0.1:{port}"

    def environ(self) -> dict[str, str]:
        return self.airflow_env.environ(
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="6",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__WORKERS="1",
            AIRFLOW__API__BASE_URL=self.base_url + "/",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=self.base_url + "/execution/",
            AIRFLOW__API_AUTH__JWT_SECRET=self.secret,         # one secret shared by every process
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL="10",
            AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES="1",
            CHATWOOT_E2E_STACK=self.marker,
        )

    def start(self) -> AirflowStack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        env = self.environ()
        for name, args in PROCESSES.items():
            extra = ["--port", str(self.port), "--host", "127.0.0.1"] if name == "api-server" else []
            out = (self.log_dir / f"{name}.log").open("w")
            self.procs[name] = subprocess.Popen([sys.executable, "-m", "airflow", *args, *extra], env=env,
                                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for("the api-server to answer", self._healthy, timeout=120)
        return self

    def _healthy(self) -> bool:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")
        try:
            with urllib.request.urlopen(self.base_url + "/api/v2/monitor/health", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def tail(self, name: str, size: int = 4000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        """A call to the REST API as the UI makes it (token from the simple auth manager)."""
        if not hasattr(self, "_token"):
            with urllib.request.urlopen(self.base_url + "/auth/token", timeout=30) as response:
                self._token = json.loads(response.read())["access_token"]
        request = urllib.request.Request(self.base_url + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Content-Type": "application/json",
                                                  "Authorization": f"Bearer {self._token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def _marked_pids(self) -> list[int]:
        found = []
        needle = f"CHATWOOT_E2E_STACK={self.marker}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if needle in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def stop(self, timeout: float = 45) -> None:
        """SIGTERM every process group, wait (bounded), SIGKILL what is left, then sweep by marker."""
        stop_process_groups(self.procs.values(), timeout)
        # anything else started with our marker (e.g. a task process in its own session)
        self.leftovers = self._marked_pids()
        for pid in self.leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for("killed leftovers to disappear", lambda: not self._marked_pids(), timeout=30, interval=0.5)

    def __enter__(self) -> AirflowStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
