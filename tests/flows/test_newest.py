"""The newest message per chat (conversations/newest.py): the highest id either side sent,
an unknown chat never counts as newest, and the map keeps only the latest chats."""

from __future__ import annotations

from conversations.newest import NewestMessages


def test_the_highest_id_either_side_sent_is_the_newest() -> None:
    newest = NewestMessages()
    newest.note(1, 5)  # the question
    assert newest.is_newest(1, 5)
    newest.note(1, 6)  # the person's /help
    assert not newest.is_newest(1, 5)
    newest.note(1, 3)  # an older id noted late changes nothing
    assert newest.is_newest(1, 6) and not newest.is_newest(1, 5)


def test_an_unknown_chat_is_never_newest() -> None:
    assert not NewestMessages().is_newest(1, 5)


def test_only_the_chats_noted_last_are_kept() -> None:
    newest = NewestMessages(max_chats=2)
    newest.note(1, 5)
    newest.note(2, 5)
    newest.note(1, 6)  # chat 1 noted again: now chat 2 is the oldest
    newest.note(3, 5)
    assert len(newest) == 2
    assert newest.is_newest(1, 6) and newest.is_newest(3, 5)
    assert not newest.is_newest(2, 5)
    assert repr(newest) == "NewestMessages(2)"  # no chat, no id
