"""The application shell: settings, the Application factory, guards, delivery, CLI, sandbox."""

import os

# python-telegram-bot 22 reports RetryAfter.retry_after as an int with a deprecation
# warning unless this is set; we want its future behaviour (a timedelta) everywhere.
os.environ.setdefault("PTB_TIMEDELTA", "1")
