"""What a message that needs help is about, and how soon: the crisis check's two labels."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Kind", "Tier"]


class Kind(StrEnum):
    """What kind of danger a message signals; picks the reply and is counted (never who).

    The first seven are the corpus's kinds (tests/crisis/corpus/README.md). Two more come
    from rules only: naloxone talk, and a message that is only "help" or "emergency".
    """

    OVERDOSE = "overdose_poisoning"
    MIXING = "dangerous_mixing"
    WITHDRAWAL = "withdrawal_danger"
    SUICIDE_SELF_HARM = "suicide_self_harm"
    PHYSICAL = "physical_danger"
    THREAT = "threat_from_other"
    CHILD = "child_at_risk"
    NALOXONE = "naloxone"
    HELP_ASKED = "help_asked"


class Tier(StrEnum):
    """How the bot answers: the urgent reply at once, or "Are you safe right now?"."""

    URGENT = "urgent"
    CHECKIN = "checkin"
