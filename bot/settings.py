"""Every knob of the service, read from FIRSTSTEP_* environment variables or a .env file.

A missing or invalid setting stops start-up with one line that says what to set
(see `describe_settings_error`), never a traceback.
"""

from __future__ import annotations

import re
from datetime import time
from itertools import pairwise
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "FIRSTSTEP_"
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Telegram: 5-32 characters, letters, digits and underscores; a bot's ends in "bot".
BOT_USERNAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,29}[Bb][Oo][Tt]")
# Texts the bot says as facts that only the operator can confirm; `firststep run`
# refuses to start without them (Settings.unconfirmed_text).
REQUIRED_OPERATOR_TEXTS = {
    "voluntary_policy": (
        "the sentence that talking to a peer mentor is voluntary and does not affect a claim"
    ),
    "mentor_employer": "the sentence that says who employs the peer mentors",
    "safeguarding_policy": (
        "the sentence that says when a peer mentor would break confidentiality"
    ),
}


class Settings(BaseSettings):
    """Settings of one First Step deployment. Field docs feed README's settings table."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # Telegram
    telegram_token: SecretStr | None = Field(
        default=None,
        description="Bot token from @BotFather. Without it `make run` starts the sandbox.",
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org/bot",
        description="Bot API base URL (PTB base_url): a self-hosted Bot API server or the sandbox.",
    )

    # Storage and keys
    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/firststep.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db.",
    )
    keyring: Path = Field(
        default=Path("./var/keyring.json"),
        description="Key-ring file (mode 0600) made by `firststep keys init`.",
    )
    keyring_json: SecretStr | None = Field(
        default=None,
        description="The key ring as JSON, for secret managers; wins over FIRSTSTEP_KEYRING.",
    )

    # Guards
    rate_limit_messages: int = Field(
        default=30,
        ge=1,
        description="Messages and button taps one person may send per rate window.",
    )
    rate_limit_window_seconds: float = Field(
        default=60.0, gt=0, description="Length of the rate window in seconds."
    )
    max_text_length: int = Field(
        default=1000, ge=50, le=4096, description="Longest free text stored; longer is refused."
    )

    # Capacity
    concurrent_people: int = Field(
        default=32,
        ge=1,
        le=1000,
        description=(
            "People whose updates are handled at the same time; "
            "one person's updates always go one after another."
        ),
    )

    # Mentors and the unclaimed ladder
    mentor_approval: bool = Field(
        default=False, description="New mentors need `firststep mentors approve` before referrals."
    )
    invite_ttl_hours: float = Field(
        default=72.0, gt=0, description="How long an invite code works."
    )
    join_attempts_per_hour: int = Field(
        default=5, ge=1, description="Wrong invite codes one account may try per hour."
    )
    ladder_office_reminder_minutes: float = Field(
        default=240.0,
        gt=0,
        description="Unclaimed referral: remind the office's mentors after this.",
    )
    ladder_area_minutes: float = Field(
        default=1440.0, gt=0, description="Unclaimed referral: offer it to the whole pilot area."
    )
    ladder_coordinator_minutes: float = Field(
        default=2880.0, gt=0, description="Unclaimed referral: alert the coordinators."
    )
    referral_pending_max_days: int = Field(
        default=14,
        ge=1,
        description=(
            "Unclaimed referral: withdrawn after this; the person may ask again, "
            "the coordinators are told."
        ),
    )

    chat_idle_close_days: int = Field(
        default=28,
        ge=1,
        description=(
            "Close an accepted chat with no message either way for this long; "
            "the after-close retention clock starts then."
        ),
    )

    # Delivery (outbox worker)
    delivery_max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a notification is dead and alerted."
    )
    delivery_backoff_seconds: float = Field(
        default=1.0, gt=0, description="First retry delay; doubles each attempt, with jitter."
    )
    delivery_backoff_cap_seconds: float = Field(
        default=900.0, gt=0, description="Longest delay between two attempts."
    )
    delivery_lease_seconds: float = Field(
        default=60.0, gt=0, description="How long a worker owns a claimed notification."
    )
    delivery_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the worker looks for due notifications."
    )
    delivery_messages_per_second: float = Field(
        default=25.0,
        gt=0,
        le=30,
        description="Most notifications the worker sends a second (Telegram allows about 30).",
    )
    delivery_journal: Path | None = Field(
        default=None,
        description=(
            "Directory of the send journal (shrinks the window where a crash sends a message "
            "twice); empty: beside the SQLite file, none with PostgreSQL."
        ),
    )

    # Retention (days; see docs/dpia-notes.md)
    retention_inactive_days: int = Field(
        default=30,
        ge=1,
        description="Erase a person with no referral this long after last contact.",
    )
    retention_after_close_days: int = Field(
        default=90, ge=1, description="Erase disclosures this long after the referral closed."
    )
    retention_referral_days: int = Field(
        default=365, ge=1, description="Keep unlinked referral metadata for evaluation."
    )
    retention_outbox_days: int = Field(
        default=30, ge=1, description="Keep delivery metadata (payloads go on send)."
    )
    retention_processed_update_hours: int = Field(
        default=48, ge=25, description="Remember handled update ids (Telegram keeps 24 h)."
    )
    request_draft_max_hours: int = Field(
        default=24,
        ge=1,
        description="Drop a phone number from a mentor request left unfinished this long.",
    )
    backup_erasure_days: int = Field(
        default=7, ge=0, description="Days until an erasure also reaches key backups."
    )
    backup_main_days: int = Field(
        default=30,
        ge=1,
        description="Days `firststep backup` keeps main-data backups (ciphertext only).",
    )

    purge_at_utc: time = Field(
        default=time(3, 30),
        description="Time of day (UTC) of the daily retention purge inside `firststep run`.",
    )

    # Webhook mode (`firststep run --webhook`, behind a reverse proxy) and health checks
    webhook_url: str | None = Field(
        default=None,
        description="Public https URL Telegram posts updates to (the reverse proxy's address).",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Webhook secret token: 1-256 of A-Z a-z 0-9 _ -. Required with --webhook.",
    )
    webhook_listen: str = Field(
        default="127.0.0.1", description="Address the webhook server listens on."
    )
    webhook_port: int = Field(
        default=8443, ge=1, le=65535, description="Port the webhook server listens on."
    )
    webhook_path: str = Field(
        default="",
        description="Local path of the webhook; empty means the path of FIRSTSTEP_WEBHOOK_URL.",
    )
    health_listen: str = Field(
        default="127.0.0.1", description="Address of the /healthz server in `firststep run`."
    )
    health_port: int = Field(
        default=8081, ge=0, le=65535, description="Port of the /healthz server; 0 turns it off."
    )

    webchat_listen: str = Field(
        default="127.0.0.1", description="Address the web chat server listens on."
    )
    webchat_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description=(
            "Port of the web chat (behind the reverse proxy) in `firststep run`; 0: no web chat."
        ),
    )
    webchat_origin: str = Field(
        default="",
        description=(
            "Public origin of the web chat (https://host); requests from any other Origin "
            "are refused. Empty: the Host the request names."
        ),
    )
    webchat_exit_url: str = Field(
        default="https://www.bbc.co.uk/weather",
        description="Neutral site the web chat's quick exit goes to.",
    )
    webchat_new_chats_per_minute: int = Field(
        default=60,
        ge=1,
        le=100000,
        description=(
            "New web chats started a minute, in all; past it people are asked to wait a minute."
        ),
    )

    # Policy text shown in the privacy notice
    work_coach_policy: str = Field(
        default=(
            "Nothing you tell this bot is shared with your work coach "
            "or used for decisions about your benefits."
        ),
        description="The operator's policy line on what work coaches see.",
    )
    # The exception to confidentiality (the providers' safeguarding policy), said next to
    # the work-coach line in the privacy notice (texts.NOTICE).
    safeguarding_policy: str = Field(
        default="",
        description=(
            "The operator's policy line on when a peer mentor would break confidentiality "
            "(for example a risk to someone's life), shown in the privacy notice next to the "
            "work-coach line. Required outside the sandbox."
        ),
    )

    # "About this service": what the operator must confirm (storage/directory/about.csv
    # marks these facts operator_must_confirm). Whole sentences, said as they are.
    voluntary_policy: str = Field(
        default="",
        description=(
            "The operator's policy line that talking to a peer mentor is voluntary and "
            "does not affect a benefit claim (About this service). Required outside the sandbox."
        ),
    )
    mentor_employer: str = Field(
        default="",
        description=(
            "Who employs the peer mentors, as the operator has confirmed it (About this "
            "service). Required outside the sandbox."
        ),
    )
    pilot_end: str = Field(
        default="",
        description=(
            "When the pilot ends or ended, once confirmed (About this service); "
            "empty: nothing is said."
        ),
    )
    operator_line: str = Field(
        default="",
        description=(
            "Who runs First Step and how it is linked to DWP and the providers (About "
            "this service); empty: nothing is said."
        ),
    )

    # Links on printed posters (`firststep poster`)
    bot_username: str | None = Field(
        default=None,
        description="The bot's @username (from @BotFather), for the Telegram code on posters.",
    )
    webchat_url: str | None = Field(
        default=None,
        description=(
            "Public https address of the web chat page, for the web chat code on posters; "
            "empty: posters carry only the Telegram code."
        ),
    )

    # Sandbox
    sandbox_host: str = Field(default="127.0.0.1", description="Sandbox web page address.")
    sandbox_port: int = Field(default=8080, ge=0, le=65535, description="Sandbox web page port.")

    log_level: str = Field(default="INFO", description="Log level (DEBUG, INFO, WARNING, ERROR).")

    @field_validator("telegram_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        token = value.get_secret_value().strip()
        head, _, tail = token.partition(":")
        if not head.isdigit() or len(tail) < 20:
            raise ValueError("does not look like a bot token (digits:secret from @BotFather)")
        return SecretStr(token)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith("https://") or len(value) <= len("https://"):
            raise ValueError("must be the https:// address Telegram can reach")
        return value.strip()

    @field_validator("bot_username")
    @classmethod
    def _username_shape(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        name = value.strip().removeprefix("@")
        if not BOT_USERNAME_PATTERN.fullmatch(name):
            raise ValueError("is not a bot's username (5-32 of A-Z, a-z, 0-9 and _, ending in bot)")
        return name

    @field_validator("webchat_url")
    @classmethod
    def _page_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        local = url.startswith(("http://localhost", "http://127.0.0.1"))
        if not (url.startswith("https://") and len(url) > len("https://")) and not local:
            raise ValueError("must be the page's https:// address")
        if any(mark in url for mark in "?#"):
            raise ValueError("must be the page's address without ? or #")
        return url

    @field_validator("webchat_origin", "webchat_exit_url")
    @classmethod
    def _web_address(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) address")
        if info.field_name == "webchat_origin" and parts.path not in ("", "/"):
            raise ValueError("must be an origin (scheme://host[:port]), without a path")
        return value.rstrip("/") if info.field_name == "webchat_origin" else value

    @field_validator("webhook_path")
    @classmethod
    def _local_path(cls, value: str) -> str:
        if value and not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return upper

    @model_validator(mode="after")
    def _key_backups_go_first(self) -> Settings:
        """After /forget the person is told that the key backups go first (then nobody can
        read the data) and the locked main copies later (conversations/texts.py
        FORGET_DONE and NOTICE_MORE, docs/dpia-notes.md): the clocks must agree."""
        if self.backup_erasure_days > self.backup_main_days:
            raise ValueError(
                f"{ENV_PREFIX}BACKUP_ERASURE_DAYS is higher than {ENV_PREFIX}BACKUP_MAIN_DAYS: "
                "key-store backups must not outlive main backups (what /forget tells people "
                f"would be wrong); lower {ENV_PREFIX}BACKUP_ERASURE_DAYS or raise "
                f"{ENV_PREFIX}BACKUP_MAIN_DAYS"
            )
        return self

    @model_validator(mode="after")
    def _request_drafts_go_first(self) -> Settings:
        """The short clock for an unfinished request's phone number only means something
        if it runs out before the person is erased anyway
        (storage/repositories/request_drafts.py)."""
        if self.request_draft_max_hours >= self.retention_inactive_days * 24:
            raise ValueError(
                f"{ENV_PREFIX}REQUEST_DRAFT_MAX_HOURS is not shorter than "
                f"{ENV_PREFIX}RETENTION_INACTIVE_DAYS: an unfinished request's phone number "
                f"must go before the person does; lower {ENV_PREFIX}REQUEST_DRAFT_MAX_HOURS"
            )
        return self

    @model_validator(mode="after")
    def _ladder_climbs_in_order(self) -> Settings:
        """The ladder's delays all count from when the request was made, and what the
        person is told reads them in order (conversations/mentor/ladder.py, texts.MENTOR_SENT):
        remind, then widen, then the coordinators, and only then may the request expire."""
        rungs = (
            ("LADDER_OFFICE_REMINDER_MINUTES", self.ladder_office_reminder_minutes),
            ("LADDER_AREA_MINUTES", self.ladder_area_minutes),
            ("LADDER_COORDINATOR_MINUTES", self.ladder_coordinator_minutes),
            ("REFERRAL_PENDING_MAX_DAYS", self.referral_pending_max_days * 24 * 60.0),
        )
        for (earlier, first), (later, then) in pairwise(rungs):
            if first >= then:
                raise ValueError(
                    f"{ENV_PREFIX}{earlier} is not shorter than {ENV_PREFIX}{later}: the "
                    "ladder's steps count from the request and must come in that order; "
                    f"lower {ENV_PREFIX}{earlier} or raise {ENV_PREFIX}{later}"
                )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def unconfirmed_text(self) -> str | None:
        """One line naming the first operator text that must be set to run for real
        (the sandbox fills in samples), or None when all are set."""
        for field, what in REQUIRED_OPERATOR_TEXTS.items():
            if not str(getattr(self, field)).strip():
                return (
                    f"Setting {ENV_PREFIX}{field.upper()} is empty: set {what} "
                    "(see README, Settings), then start again."
                )
        return None


def describe_settings_error(error: ValidationError) -> str:
    """One line that names the variable to fix; never echoes the value (it may be a secret).
    A rule across settings (no single field) names its variables in its own message."""
    first = error.errors()[0]
    message = str(first.get("msg", "is invalid")).removeprefix("Value error, ")
    if not first["loc"]:
        return f"Settings: {message}. Fix it in the environment or in .env, then start again."
    field = str(first["loc"][0])
    return (
        f"Setting {ENV_PREFIX}{field.upper()} {message}. "
        "Fix it in the environment or in .env, then start again."
    )


def load_settings(**overrides: object) -> Settings:
    """Read settings; overrides are for tests and the sandbox."""
    return Settings(**overrides)  # type: ignore[arg-type]
