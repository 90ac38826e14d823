"""Start the services as processes, exactly as their container commands do, and wait until ready."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceSpec:
    """A service: its name, default port setting and entry module."""

    name: str
    port_setting: str
    module: str


SERVICES = (
    ServiceSpec("ledger", "CADRE_LEDGER_PORT", "services.ledger.main"),
    ServiceSpec("assessment", "CADRE_ASSESSMENT_PORT", "services.assessment.main"),
    ServiceSpec("audit", "CADRE_AUDIT_PORT", "services.audit.main"),
    ServiceSpec("rotation", "CADRE_ROTATION_PORT", "services.rotation.main"),
)


def port_in_use(port: int) -> bool:
    """Whether something already accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class PortInUse(RuntimeError):
    """A service's port is taken by another program: its /readyz would pass for the service's own."""

    def __init__(self, spec: ServiceSpec, port: int) -> None:
        super().__init__(f"port {port} of the {spec.name} service is in use by another program (端口被占用): stop "
                         f"it, or give the service another port ({spec.port_setting}=...)")


class ServiceProcess:
    """One running service process."""

    def __init__(self, spec: ServiceSpec, port: int, env: dict[str, str], log_dir: Path) -> None:
        if port_in_use(port):
            raise PortInUse(spec, port)
        self.spec = spec
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{spec.name}.log"
        full_env = {**os.environ, **env, spec.port_setting: str(port)}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", spec.module], env=full_env, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until /readyz answers 200; raise with the log tail if the process dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.spec.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.spec.name} not ready within {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The last lines the service logged."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM and wait (graceful shutdown), then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        """kill -9."""
        self.proc.kill()
        self.proc.wait(10)
