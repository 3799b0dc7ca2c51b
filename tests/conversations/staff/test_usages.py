"""Every staff command's usage line reads French in the admin group (babel extracts them all)."""

from __future__ import annotations

import re

from telegram.ext import Application, CommandHandler

from bot.i18n import _, use_language
from conversations import documents, staff
from conversations.staff import custody, history, windows
from conversations.usages import USAGES, usage
from tests.support.botapi import BotApiStub, FakeGroup, FakeUser

NO_ARGUMENTS = {"demandes", "documents", "aide"}  # commands that take nothing have no usage line


def _staff_commands() -> set[str]:
    handlers = [
        *staff.build_handlers(),
        *history.build_handlers(),
        *windows.build_handlers(),
        *custody.build_handlers(),
        *documents.build_staff_handlers(),
    ]
    return {
        command
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    }


def test_every_staff_command_taking_arguments_has_a_usage_line() -> None:
    assert _staff_commands() - NO_ARGUMENTS <= set(USAGES)


def test_every_staff_usage_renders_in_french_with_no_english_left() -> None:
    untranslated = []
    with use_language("fr"):
        for command, english in USAGES.items():
            french = (
                usage(command, services="cantine") if "{services}" in english else usage(command)
            )
            if _(english) == english or re.search(
                r"\b(Usage|Example|every week|the holidays)\b", french
            ):
                untranslated.append(command)
    assert untranslated == []


async def test_the_admin_group_reads_the_usage_of_garde_and_vacances_in_french(
    botapi: BotApiStub,
    bot: Application,
    admin_group: FakeGroup,
    claire: FakeUser,  # type: ignore[type-arg]
) -> None:
    for command, english in (
        ("/garde", USAGES["garde"]),
        ("/vacances 19/12/2026", USAGES["vacances"]),
    ):
        await claire.send(command, chat=admin_group)
        answer = await admin_group.next_message()
        assert english.splitlines()[0] not in answer.text
        with use_language("fr"):
            assert _(english).splitlines()[0] in answer.text
