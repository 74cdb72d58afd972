"""About this service: who runs the pilot, what a peer mentor does, that it is voluntary.

Every sentence is a fact of storage/directory/about.csv worded in the text catalog
(`texts.ABOUT_FACTS`, keyed by fact id), or a text the operator set because only they
can confirm it (voluntary and no effect on a claim, who employs the mentors, when the
pilot ends, who runs this bot). Open to anyone, before the privacy notice too: reading it
keeps nothing.
"""

from __future__ import annotations

from telegram import Update

from conversations import keyboards, texts
from conversations.callbacks import MenuChoice
from conversations.common import event
from conversations.context import Context, FlowSettings
from conversations.i18n import _
from conversations.outcome import Outcome, Reply
from conversations.registry import Anyone, Flow
from storage.repositories.people import PersonTransaction

# The operator's texts (bot/settings.py), by the name ABOUT_PARAGRAPHS uses.
OPERATOR_TEXTS = ("voluntary_policy", "mentor_employer", "pilot_end", "operator_line")


def about_text(settings: FlowSettings) -> str:
    """The paragraphs in catalog order; an operator text left empty is left out."""
    said = {fact_id: _(fact) for fact_id, fact in texts.ABOUT_FACTS.items()}
    for name in OPERATOR_TEXTS:
        said[name] = str(getattr(settings, name)).strip()
    paragraphs = [
        " ".join(said[part] for part in parts if said[part]) for parts in texts.ABOUT_PARAGRAPHS
    ]
    return "\n\n".join([_(texts.ABOUT_HEADING), *filter(None, paragraphs)])


async def show_about(update: Update, context: Context, tx: PersonTransaction) -> Outcome:
    """/about, the menu button and the button under /help."""
    event("about.shown")
    return Outcome.say(Reply(about_text(context.services.settings), keyboards.back_to_menu()))


FLOW = Flow(
    name="about",
    commands={"about": Anyone(show_about)},
    menu={MenuChoice.ABOUT: show_about},
)
