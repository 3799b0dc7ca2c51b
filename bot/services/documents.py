"""Infos/Documents: what staff publish (règlement intérieur, forms) and parents download."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import UnitOfWork
from storage.models import Document

ACTION_PUBLISH = "document.publish"
ACTION_WITHDRAW = "document.withdraw"
MAX_TITLE = 200


@dataclass(frozen=True)
class PublishedFile:
    """A file sent to the admin group, as Telegram describes it."""

    file_id: str
    file_name: str | None
    mime_type: str | None


async def publish_document(
    uow: UnitOfWork, *, title: str, file: PublishedFile, staff_id: int, now: dt.datetime
) -> tuple[Document, bool]:
    """Publish a file under a title; the same file published again only gets the new title.

    Returns the document and whether it is new.
    """
    title = " ".join(title.split())[:MAX_TITLE]
    existing = await uow.repos.documents.by_file(file.file_id)
    if existing is not None:
        existing.title = title
        document, created = existing, False
    else:
        document = Document(
            title=title,
            telegram_file_id=file.file_id,
            file_name=file.file_name,
            mime_type=file.mime_type,
            published_at=now,
            published_by=staff_id,
        )
        uow.repos.documents.add(document)
        await uow.session.flush()
        created = True
    uow.repos.audit.record(
        action=ACTION_PUBLISH,
        outcome="ok",
        actor_telegram_id=staff_id,
        actor_kind="staff",
        target=f"document:{document.id}",
        at=now,
    )
    return document, created


async def published_documents(uow: UnitOfWork) -> Sequence[Document]:
    """The documents parents may download, newest first."""
    return await uow.repos.documents.published()


async def published_document(uow: UnitOfWork, document_id: int) -> Document | None:
    """A document still published, or None (withdrawn or unknown)."""
    document = await uow.repos.documents.get(document_id)
    return document if document is not None and document.withdrawn_at is None else None


async def withdraw_document(uow: UnitOfWork, document_id: int, *, staff_id: int, now: dt.datetime) -> Document | None:
    """Withdraw a document (once); None when unknown or already withdrawn."""
    document = await uow.repos.documents.get(document_id)
    if document is None or document.withdrawn_at is not None:
        return None
    document.withdrawn_at = now
    uow.repos.audit.record(
        action=ACTION_WITHDRAW,
        outcome="ok",
        actor_telegram_id=staff_id,
        actor_kind="staff",
        target=f"document:{document.id}",
        at=now,
    )
    return document
