"""The real-Asterisk fixtures of tests/integration, for the reports' checks against Asterisk's
own queue_log (imported, not copied: one definition of how an instance is run)."""

from tests.integration.conftest import (  # noqa: F401
    agent_phone,
    ami_admin,
    asterisk_runtime,
    asterisk_settings,
    queue_asterisk,
)
