"""Entry point of the audit service: `python -m services.audit.main`."""

from __future__ import annotations

import asyncio

from services.audit.api import build_api
from shared.logs import configure_logging
from shared.service import run_command_service
from shared.settings import get_settings


def main() -> None:
    """Run the audit service with settings from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run_command_service("audit", settings.audit_port, settings, build_api))


if __name__ == "__main__":
    main()
