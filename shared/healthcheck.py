"""Container health check: `python -m shared.healthcheck [service]` exits 0 when the service's /readyz is 200.

One image runs every service, so the check finds out which one from the container's main process
(PID 1, `python -m services.<name>.main`) unless the name is given. It uses only the standard
library: the slim image has no curl.
"""

from __future__ import annotations

import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

from shared.settings import get_settings

_MODULE = re.compile(r"^services\.([a-z_]+)\.main$")


def service_of(cmdline: list[str]) -> str | None:
    """The service a `python -m services.<name>.main` command line runs, or None."""
    for arg in cmdline:
        match = _MODULE.match(arg)
        if match:
            return match[1]
    return None


def readyz_url(service: str) -> str:
    """Where the service listens inside its container (its port setting, on the loopback)."""
    port = getattr(get_settings(), f"{service}_port", None)
    if not isinstance(port, int):
        raise SystemExit(f"unknown service {service!r}: no CADRE_{service.upper()}_PORT setting")
    return f"http://127.0.0.1:{port}/readyz"


def check(service: str, timeout: float = 2.0) -> bool:
    """True when the service answers 200 on /readyz within `timeout`."""
    try:
        with urllib.request.urlopen(readyz_url(service), timeout=timeout) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str]) -> int:
    """Exit status for the container runtime: 0 healthy, 1 not."""
    if argv:
        service = argv[0]
    else:
        try:
            cmdline = Path("/proc/1/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            cmdline = []
        found = service_of(cmdline)
        if found is None:
            print("cannot tell which service runs here; pass its name", file=sys.stderr)
            return 1
        service = found
    healthy = check(service)
    if not healthy:
        print(f"{service} is not ready", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
