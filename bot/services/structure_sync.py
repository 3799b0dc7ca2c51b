"""Mirror the structure file's régies and services into the database.

Services and régies are referenced by bookings, enrolments and invoices, so they need rows;
the file stays the source of truth for names and rules.
"""

from __future__ import annotations

from bot.structure import Structure
from storage.db import UnitOfWork
from storage.models import Regie, Service


async def sync_structure(uow: UnitOfWork, structure: Structure) -> None:
    """Create or update régies and services from the configuration; deactivate removed services."""
    repo = uow.repos.structure
    regie_ids: dict[str, int] = {}
    for regie_config in structure.regies:
        regie = await repo.regie_by_code(regie_config.code)
        if regie is None:
            regie = Regie(code=regie_config.code, next_invoice_number=1, next_payment_number=1)
            repo.add(regie)
        regie.name = regie_config.name
        regie.invoice_prefix = regie_config.invoice_prefix
        await repo.flush()
        regie_ids[regie_config.code] = regie.id
    configured = {service.code for service in structure.services}
    for service_config in structure.services:
        service = await repo.service_by_code(service_config.code)
        if service is None:
            service = Service(code=service_config.code)
            repo.add(service)
        service.name = service_config.name
        service.regie_id = regie_ids[service_config.regie]
        service.rules = dict(service_config.raw_rules)
        service.active = True
    for service in await repo.services():
        if service.code not in configured:
            service.active = False
    await repo.flush()
