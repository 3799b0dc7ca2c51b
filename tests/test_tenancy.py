"""Which structures a deployment serves, with what settings (bot/tenancy.py)."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logging_setup import acting_for, build_formatter
from bot.settings import DEMO_STRUCTURE_FILE, Settings, load_settings
from bot.structure import Structure
from bot.tenancy import (
    TenancyError,
    check_slug,
    claim_env_structure,
    served_structures,
    structure_settings,
)
from storage.db import Database
from storage.models import DEFAULT_STRUCTURE_ID, StructureRecord

ENV_TOKEN = "111111111:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
OTHER_TOKEN = "222222222:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
CONFIGURATION = DEMO_STRUCTURE_FILE.read_text(encoding="utf-8")


def env_settings(database: Database, **values: object) -> Settings:
    return load_settings(_env_file=None, database_url=database.url, **values)


async def add(database: Database, slug: str, **values: object) -> StructureRecord:
    fields: dict[str, object] = {
        "name": slug.capitalize(),
        "staff_user_ids": "",
        "timezone": "Europe/Paris",
        "configuration": CONFIGURATION,
        "enabled": True,
    }
    fields.update(values)
    async with database.registry().transaction() as uow:
        return await uow.repos.registry.add(StructureRecord(slug=slug, **fields))


async def test_the_env_structure_takes_the_bot_admin_group_and_staff_of_env(
    database: Database, structure: Structure
) -> None:
    settings = env_settings(
        database,
        telegram_bot_token=ENV_TOKEN,
        admin_chat_id=-100123,
        staff_user_ids="5,6",
        timezone="Europe/Paris",
    )
    await claim_env_structure(settings, structure, database)
    served = await served_structures(settings, database, structure)
    assert [(s.record_id, s.slug) for s in served] == [(DEFAULT_STRUCTURE_ID, "default")]
    assert served[0].settings.telegram_bot_token == ENV_TOKEN
    assert served[0].settings.admin_chat_id == -100123
    assert served[0].structure is structure
    async with database.registry().unit_of_work() as uow:
        record = await uow.repos.registry.get(DEFAULT_STRUCTURE_ID)
    assert record is not None and record.staff_user_ids == "5,6" and record.name == structure.name


async def test_without_a_token_in_env_the_env_structure_is_not_served(
    database: Database, structure: Structure
) -> None:
    await claim_env_structure(
        env_settings(database, telegram_bot_token=ENV_TOKEN), structure, database
    )
    settings = env_settings(database)
    await claim_env_structure(settings, structure, database)
    assert await served_structures(settings, database, structure) == []


async def test_each_added_structure_gets_its_own_bot_admin_group_time_zone_and_webhook_path(
    database: Database, structure: Structure
) -> None:
    settings = env_settings(
        database,
        telegram_bot_token=ENV_TOKEN,
        webhook_url="https://bot.example.org/telegram",
        webhook_secret="env-secret",
    )
    await add(
        database,
        "riaille",
        bot_token=OTHER_TOKEN,
        admin_chat_id=-100222,
        timezone="America/Cayenne",
        webhook_secret="riaille-secret",
    )
    await claim_env_structure(settings, structure, database)
    env, riaille = await served_structures(settings, database, structure)
    assert env.settings.webhook_address == "https://bot.example.org/telegram"
    assert riaille.settings.telegram_bot_token == OTHER_TOKEN
    assert riaille.settings.admin_chat_id == -100222
    assert str(riaille.settings.tz) == "America/Cayenne"
    assert riaille.settings.webhook_address == "https://bot.example.org/tg/riaille"
    assert riaille.settings.webhook_secret == "riaille-secret"
    assert riaille.database.structure_id == riaille.record_id != env.record_id
    assert riaille.runtime().slug == "riaille"


async def test_a_disabled_structure_or_one_without_a_bot_is_not_served(
    database: Database, structure: Structure
) -> None:
    await add(database, "riaille", bot_token=OTHER_TOKEN, enabled=False)
    await add(database, "peaugres")  # no bot yet
    settings = env_settings(database, telegram_bot_token=ENV_TOKEN)
    await claim_env_structure(settings, structure, database)
    assert [s.slug for s in await served_structures(settings, database, structure)] == ["default"]


async def test_the_env_token_of_another_structures_bot_is_refused(
    database: Database, structure: Structure
) -> None:
    await add(database, "riaille", bot_token=ENV_TOKEN)
    with pytest.raises(TenancyError, match="riaille"):
        await claim_env_structure(
            env_settings(database, telegram_bot_token=ENV_TOKEN), structure, database
        )


async def test_a_stored_configuration_that_no_longer_parses_names_its_structure(
    database: Database, structure: Structure
) -> None:
    await add(database, "riaille", bot_token=OTHER_TOKEN, configuration="services: [")
    settings = env_settings(database)
    with pytest.raises(TenancyError, match="riaille"):
        await served_structures(settings, database, structure)


@pytest.mark.parametrize(
    ("slug", "valid"),
    [
        ("riaille", True),
        ("esserts-blay", True),
        ("a", True),
        ("Riaille", False),
        ("", False),
        ("-x", False),
        ("a" * 41, False),
        ("saint paul", False),
        ("riaillé", False),
    ],
)
def test_a_slug_is_lower_case_letters_digits_and_dashes(slug: str, valid: bool) -> None:
    if valid:
        assert check_slug(slug) == slug
    else:
        with pytest.raises(TenancyError):
            check_slug(slug)


def test_structure_settings_keep_what_is_the_deployments(database: Database) -> None:
    settings = env_settings(database, send_rate_per_second=20, telegram_bot_token=ENV_TOKEN)
    record = StructureRecord(
        slug="riaille", bot_token=OTHER_TOKEN, staff_user_ids="7", timezone="Europe/Paris"
    )
    mine = structure_settings(settings, record)
    assert mine.send_rate_per_second == 20 and mine.database_url == settings.database_url
    assert mine.telegram_bot_token == OTHER_TOKEN and mine.staff_ids == frozenset({7})
    assert mine.webhook_url == ""  # no WEBHOOK_URL: polling


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_lines_name_the_structure_whose_bot_logged_them(log_format: str) -> None:
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(build_formatter(log_format))
    logger = logging.getLogger("tests.tenancy")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with acting_for("riaille"):
            logger.info("reminders: 3 due")
        logger.info("started")
    finally:
        logger.removeHandler(handler)
    first, second = output.getvalue().splitlines()
    if log_format == "json":
        assert '"structure": "riaille"' in first and "structure" not in second
    else:
        assert "[riaille] tests.tenancy: reminders: 3 due" in first and "[" not in second
