"""Every flow's prompts by step, so a stale button can re-ask the current question."""

from __future__ import annotations

from conversations import disclosure, feedback, finder, mentor_request, privacy, start
from conversations.flow import PromptFn
from conversations.steps import Step

PROMPTS: dict[Step, PromptFn] = {
    **start.PROMPTS,
    **disclosure.PROMPTS,
    **privacy.PROMPTS,
    **finder.PROMPTS,
    **mentor_request.PROMPTS,
    **feedback.PROMPTS,
}
