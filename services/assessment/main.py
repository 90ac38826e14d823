"""Entry point of the assessment service: `python -m services.assessment.main`."""

from __future__ import annotations

import asyncio

from services.assessment.api import build_api
from shared.logs import configure_logging
from shared.service import run_command_service
from shared.settings import get_settings


def main() -> None:
    """Run the assessment service with settings from the environment."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run_command_service("assessment", settings.assessment_port, settings, build_api))


if __name__ == "__main__":
    main()
