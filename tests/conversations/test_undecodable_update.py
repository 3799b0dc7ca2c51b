"""One update the bot cannot decode is logged once and skipped; the next one is answered."""

from __future__ import annotations

import logging

from tests.support.botapi import BotApiStub

OLD_POLL = {
    "poll": {  # an older Bot API server's shape: fields the library now requires are missing
        "id": "5012345678901234567",
        "question": "Sortie au musée ?",
        "options": [{"text": "Oui", "voter_count": 1}, {"text": "Non", "voter_count": 0}],
        "total_voter_count": 1,
        "is_closed": False,
    }
}


async def test_an_update_that_cannot_be_decoded_is_skipped_and_the_next_is_answered(
    botapi: BotApiStub,
    bot,
    caplog,  # type: ignore[no-untyped-def]
) -> None:
    caplog.set_level(logging.INFO)
    bad = botapi.enqueue_update(OLD_POLL)
    jean = botapi.user(101, "Jean")
    await jean.send_command("/start")
    assert await jean.next_message(timeout=5)
    skipped = [r for r in caplog.records if r.name == "portail_famille.updates"]
    assert (
        len(skipped) == 1
        and str(bad) in skipped[0].getMessage()
        and "poll" in skipped[0].getMessage()
    )
    assert "musée" not in caplog.text  # type and place only, never the content
