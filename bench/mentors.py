"""Mentors at the scripted person's office, made the way real ones are: an invite code
from the operator (`firststep mentors invite`), then `/join CODE` and a first name in the
bot. With them there, every journey ends in a referral and one card per mentor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from bench.journey import nearest_office
from bot.sandbox import TelegramEmulator
from conversations import texts
from conversations.context import FirstStepApp
from storage.models import MentorRole
from storage.repositories import mentors

Feed = Callable[[], Awaitable[object]]
NAMES = ("Sam", "Jo", "Kit", "Ash", "Lee", "Max", "Ray", "Sky")


async def invite(application: FirstStepApp) -> str:
    """What `firststep mentors invite --office …` does: a one-time code."""
    office = nearest_office()
    services = application.bot_data.services
    async with services.database.transaction() as connection:
        made = await mentors.create_invite(
            connection,
            role=MentorRole.MENTOR,
            office_id=office.office_id,
            pilot_area=office.pilot_area,
            now=services.clock(),
            ttl=timedelta(hours=1),
        )
    return made.code


async def join(
    emu: TelegramEmulator, application: FirstStepApp, ids: Sequence[int], feed: Feed
) -> None:
    """Each id joins as a mentor through the bot; `feed` hands the queued updates over."""
    office_name = nearest_office().name
    for number, user_id in enumerate(ids):
        name = NAMES[number % len(NAMES)]
        code = await invite(application)
        emu.register_user(user_id, name)
        emu.user_sends(user_id, f"/join {code}")
        await feed()
        emu.user_sends(user_id, name)
        await feed()
        shown = emu.bot_texts(user_id)
        if not shown or shown[-1] != texts.NAME_ACTIVE.format(name=name, office=office_name):
            raise AssertionError(f"mentor {user_id} could not join: {shown[-1:]!r}")
