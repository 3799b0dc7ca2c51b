"""Each unit of work acts for one structure, and sees and changes only that structure's rows.

Every table of a structure's data has `structure_id` (`storage.models.Scoped`). A unit of work
is opened for one structure (`Database.for_structure`); then

- every ORM SELECT, UPDATE and DELETE it runs gets `structure_id = <its structure>` added to
  each scoped table it names, joins included (`with_loader_criteria`), so a repository that
  forgets the filter still reads nothing of another commune;
- every row it inserts gets its structure from the unit of work (the column's default reads
  the session's execution option `STRUCTURE_OPTION`), and a flush refuses to insert, change or
  delete an object of another structure (one loaded elsewhere and handed over);
- a unit of work opened for no structure (the registry of structures) is refused any scoped
  table, unless it reads every structure on purpose (`ALL_STRUCTURES`: the outbox watcher,
  the operations' gauges).

SQLAlchemy adds the criteria where a statement names a model: its columns, joins and `in_()`
subqueries. It adds nothing to a statement whose columns name no model (`select(func.count())`,
`select_from(Model)`, a bare `exists()`, `.subquery()`), nor to one on plain tables
(`Model.__table__`): a repository writes those with `in_structure(session, Model)` (or the
table's `structure_id`), and tests/storage/test_structure_isolation.py checks every repository
method and scans storage/ for such statements.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from storage.models import Scoped, UnscopedWriteError

STRUCTURE_INFO = "structure_id"
"""Key of `Session.info` holding the structure a session acts for."""
ALL_STRUCTURES = "all_structures"
"""Key of `Session.info` of a session that reads every structure's rows on purpose
(`Database.all_structures`: the outbox watcher, the operations' gauges); it may not write them."""


class UnscopedReadError(RuntimeError):
    """A unit of work acting for no structure reached a structure's table."""


def session_structure(session: Any) -> int | None:
    """The structure a session (sync or async) acts for; None for the registry's sessions."""
    info = getattr(session, "info", None)
    value = info.get(STRUCTURE_INFO) if info is not None else None
    return int(value) if value is not None else None


def structure_of(session: Any) -> int:
    """The structure a session acts for; refused for a session acting for none."""
    structure_id = session_structure(session)
    if structure_id is None:
        raise UnscopedReadError("a structure's table reached outside any structure")
    return structure_id


def in_structure(session: Any, model: type[Scoped]) -> ColumnElement[bool]:
    """`model.structure_id = <the session's structure>`, for subqueries (see the docstring)."""
    return model.structure_id == structure_of(session)


@event.listens_for(Session, "do_orm_execute")
def _scope_statement(state: ORMExecuteState) -> None:
    if state.is_column_load or not _names_scoped_table(state):
        return
    structure_id = session_structure(state.session)
    if structure_id is None:
        if state.session.info.get(ALL_STRUCTURES) and state.is_select:
            return
        raise UnscopedReadError("a structure's table reached outside any structure")
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(
            with_loader_criteria(
                Scoped,
                lambda cls: cls.structure_id == structure_id,
                include_aliases=True,
            )
        )


@event.listens_for(Session, "before_flush")
def _refuse_foreign_objects(session: Session, _context: Any, _instances: Any) -> None:
    structure_id = session_structure(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Scoped) and obj.structure_id not in (None, structure_id):
            raise UnscopedWriteError(f"a {type(obj).__name__} of another structure written")


def _names_scoped_table(state: ORMExecuteState) -> bool:
    return any(issubclass(mapper.class_, Scoped) for mapper in state.all_mappers)
