"""Every flow's prompts by step, so a stale button can re-ask the current question."""

from __future__ import annotations

from conversations.flow import PromptFn
from conversations.person import ask_mentor, disclosure, feedback, jobcentre, privacy, start
from conversations.steps import Step

PROMPTS: dict[Step, PromptFn] = {
    **start.PROMPTS,
    **disclosure.PROMPTS,
    **privacy.PROMPTS,
    **jobcentre.PROMPTS,
    **ask_mentor.PROMPTS,
    **feedback.PROMPTS,
}
