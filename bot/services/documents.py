"""Infos/Documents: what staff publish (règlement intérieur, forms) and parents download.

Parents' use cases take the Telegram user id and need a linked account (`NotLinked`
otherwise); staff's take the staff member's id and write the staff audit row, with the real
outcome, in the action's own transaction. Each function commits once and returns plain values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.services.children import ChildSheet, child_sheet, owned_child
from bot.services.home import FamilyRecord, family_record
from bot.services.staff_audit import audit_staff
from bot.services.use_case import family_use_case, use_case
from storage.db import Database, UnitOfWork
from storage.models import Child, Document

ACTION_PUBLISH = "document.publish"
ACTION_WITHDRAW = "document.withdraw"
ACTION_LIST = "document.list"
MAX_TITLE = 200


@dataclass(frozen=True)
class PublishedFile:
    """A file sent to the admin group, as Telegram describes it."""

    file_id: str
    file_name: str | None
    mime_type: str | None


@dataclass(frozen=True)
class DocumentEntry:
    """A published document, as the lists and the sending show it."""

    id: int
    title: str
    telegram_file_id: str
    file_name: str | None
    mime_type: str | None
    published_at: dt.datetime

    @property
    def is_photo(self) -> bool:
        """Sent as a photo (an image posted without a file name), not as a file."""
        return self.file_name is None and (self.mime_type or "").startswith("image/")


@dataclass(frozen=True)
class Publication:
    """What publishing did: the document, and whether it is new or only got a new title."""

    document: DocumentEntry
    created: bool


@dataclass(frozen=True)
class DocumentsTab:
    """The Infos / Documents tab of a family: the published documents and its children."""

    documents: tuple[DocumentEntry, ...]
    children: tuple[Child, ...]


@dataclass(frozen=True)
class RegistrationForm:
    """The data of a fiche d'inscription: None everywhere for a blank one."""

    record: FamilyRecord | None = None
    sheet: ChildSheet | None = None


def _entry(document: Document) -> DocumentEntry:
    return DocumentEntry(
        document.id,
        document.title,
        document.telegram_file_id,
        document.file_name,
        document.mime_type,
        document.published_at,
    )


# --- Parents -------------------------------------------------------------------------------


async def documents_tab(db: Database, user_id: int) -> DocumentsTab:
    """The published documents, newest first, and the children of the account's family."""
    async with family_use_case(db, user_id) as (uow, family_id):
        documents = await uow.repos.documents.published()
        children = await uow.repos.families.children(family_id)
        return DocumentsTab(tuple(_entry(d) for d in documents), tuple(children))


async def document_for_parent(
    db: Database, user_id: int, document_id: int | None
) -> DocumentEntry | None:
    """A document still published, or None (withdrawn or unknown); for a linked account."""
    async with family_use_case(db, user_id) as (uow, _family_id):
        document = await _published(uow, document_id)
        return _entry(document) if document is not None else None


async def registration_form(
    db: Database, user_id: int, child_id: int | None, *, now: dt.datetime
) -> RegistrationForm | None:
    """A blank fiche (no child), or one pre-filled for a child of the family.

    None when the child is not the family's (the attempt is audited).
    """
    async with family_use_case(db, user_id) as (uow, family_id):
        if not child_id:
            return RegistrationForm()
        child = await owned_child(uow, family_id, child_id, actor=user_id, now=now)
        if child is None:
            return None
        return RegistrationForm(
            await family_record(uow, family_id), await child_sheet(uow, family_id, child)
        )


async def _published(uow: UnitOfWork, document_id: int | None) -> Document | None:
    document = await uow.repos.documents.get(document_id) if document_id else None
    return document if document is not None and document.withdrawn_at is None else None


# --- Staff ---------------------------------------------------------------------------------


async def publish_document(
    db: Database, *, title: str, file: PublishedFile, staff_id: int, now: dt.datetime
) -> Publication:
    """Publish a file under a title; the same file published again only gets the new title."""
    title = " ".join(title.split())[:MAX_TITLE]
    async with use_case(db) as uow:
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
        audit_staff(uow, staff_id, ACTION_PUBLISH, now=now, target=f"document:{document.id}")
        return Publication(_entry(document), created)


async def documents_for_staff(
    db: Database, *, staff_id: int, now: dt.datetime
) -> list[DocumentEntry]:
    """/documents: what parents may download, newest first (the listing is audited)."""
    async with use_case(db) as uow:
        documents = await uow.repos.documents.published()
        audit_staff(uow, staff_id, ACTION_LIST, now=now)
        return [_entry(d) for d in documents]


async def withdraw_document(
    db: Database, document_id: int | None, *, staff_id: int, now: dt.datetime
) -> DocumentEntry | None:
    """Withdraw a document (once); None when unknown or already withdrawn (audited as refused)."""
    async with use_case(db) as uow:
        document = await _published(uow, document_id)
        if document is None:
            audit_staff(
                uow,
                staff_id,
                ACTION_WITHDRAW,
                now=now,
                outcome="refused",
                target=f"document:{document_id}",
            )
            return None
        document.withdrawn_at = now
        audit_staff(uow, staff_id, ACTION_WITHDRAW, now=now, target=f"document:{document.id}")
        return _entry(document)
