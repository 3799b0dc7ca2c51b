"""initial schema: the whole domain

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_telegram_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('family_id', sa.BigInteger(), nullable=True),
    sa.Column('target', sa.String(length=120), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_actor_telegram_id'), ['actor_telegram_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('bot_state',
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_bot_state'))
    )
    op.create_table('children',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=32), nullable=True),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('school', sa.String(length=120), nullable=True),
    sa.Column('class_name', sa.String(length=40), nullable=True),
    sa.Column('glasses', sa.Boolean(), nullable=False),
    sa.Column('doctor_name', sa.String(length=120), nullable=True),
    sa.Column('doctor_phone', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children')),
    sa.UniqueConstraint('identifier', name=op.f('uq_children_identifier'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('telegram_file_id', sa.String(length=200), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('mime_type', sa.String(length=80), nullable=True),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by', sa.BigInteger(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    op.create_table('families',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('regime', sa.Enum('caf', 'msa', 'other', name='regime', native_enum=False, length=32), nullable=True),
    sa.Column('caf_number', sa.String(length=32), nullable=True),
    sa.Column('caf_children_count', sa.Integer(), nullable=True),
    sa.Column('quotient_familial', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('organisme_rattachement', sa.String(length=80), nullable=True),
    sa.Column('bank_name', sa.String(length=80), nullable=True),
    sa.Column('account_holder', sa.String(length=120), nullable=True),
    sa.Column('iban', sa.String(length=40), nullable=True),
    sa.Column('bic', sa.String(length=16), nullable=True),
    sa.Column('direct_debit', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_families')),
    sa.UniqueConstraint('number', name=op.f('uq_families_number'))
    )
    op.create_table('regies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('invoice_prefix', sa.String(length=16), nullable=False),
    sa.Column('next_invoice_number', sa.Integer(), nullable=False),
    sa.Column('next_payment_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regies')),
    sa.UniqueConstraint('code', name=op.f('uq_regies_code'))
    )
    op.create_table('reminder_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('recipient', sa.BigInteger(), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_log')),
    sa.UniqueConstraint('kind', 'recipient', 'subject', name=op.f('uq_reminder_log_kind_recipient_subject'))
    )
    op.create_table('school_years',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_years')),
    sa.UniqueConstraint('label', name=op.f('uq_school_years_label'))
    )
    op.create_table('telegram_users',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(), nullable=False),
    sa.Column('unreachable_since', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_telegram_users'))
    )
    op.create_table('authorized_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=True),
    sa.Column('relation', sa.String(length=60), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('mobile', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_authorized_persons_child_id_children'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authorized_persons'))
    )
    with op.batch_alter_table('authorized_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorized_persons_child_id'), ['child_id'], unique=False)

    op.create_table('family_children',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('custody', sa.Enum('full', 'odd_weeks', 'even_weeks', name='custody', native_enum=False, length=32), nullable=False),
    sa.Column('custody_reference_monday', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_family_children_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_family_children_family_id_families'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_children')),
    sa.UniqueConstraint('family_id', 'child_id', name=op.f('uq_family_children_family_id_child_id'))
    )
    op.create_table('guardians',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('responsable', 'conjoint', name='guardianrole', native_enum=False, length=32), nullable=False),
    sa.Column('civility', sa.String(length=20), nullable=True),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('quality', sa.String(length=40), nullable=True),
    sa.Column('situation', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('postal_code', sa.String(length=10), nullable=True),
    sa.Column('city', sa.String(length=80), nullable=True),
    sa.Column('phone_home', sa.String(length=32), nullable=True),
    sa.Column('phone_work', sa.String(length=32), nullable=True),
    sa.Column('phone_mobile', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=120), nullable=True),
    sa.Column('profession', sa.String(length=80), nullable=True),
    sa.Column('csp', sa.String(length=80), nullable=True),
    sa.Column('employer', sa.String(length=120), nullable=True),
    sa.Column('employer_address', sa.String(length=200), nullable=True),
    sa.Column('sms_consent', sa.Boolean(), nullable=False),
    sa.Column('email_consent', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_guardians_family_id_families'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guardians')),
    sa.UniqueConstraint('family_id', 'role', name=op.f('uq_guardians_family_id_role'))
    )
    op.create_table('health_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('allergy', 'illness', 'contraindication', 'pai', name='healthitemkind', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_health_items_child_id_children'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_items'))
    )
    with op.batch_alter_table('health_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_items_child_id'), ['child_id'], unique=False)

    op.create_table('invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('used_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_invites_family_id_families'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invites')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_invites_code_hash'))
    )
    op.create_table('invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('regie_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('total', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_invoices_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['regie_id'], ['regies.id'], name=op.f('fk_invoices_regie_id_regies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('family_id', 'regie_id', 'period_start', name=op.f('uq_invoices_family_id_regie_id_period_start')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number'))
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_family_id'), ['family_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('from_family', 'from_structure', name='messagedirection', native_enum=False, length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reply_to_id', sa.Integer(), nullable=True),
    sa.Column('author_telegram_id', sa.BigInteger(), nullable=True),
    sa.Column('author_name', sa.String(length=120), nullable=True),
    sa.Column('attachment_file_id', sa.String(length=200), nullable=True),
    sa.Column('attachment_kind', sa.String(length=16), nullable=True),
    sa.Column('admin_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_messages_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_to_id'], ['messages.id'], name=op.f('fk_messages_reply_to_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_admin_message_id'), ['admin_message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_family_id'), ['family_id'], unique=False)

    op.create_table('reminder_preferences',
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['telegram_user_id'], ['telegram_users.id'], name=op.f('fk_reminder_preferences_telegram_user_id_telegram_users')),
    sa.PrimaryKeyConstraint('telegram_user_id', 'kind', name=op.f('pk_reminder_preferences'))
    )
    op.create_table('requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('responsable', 'conjoint', 'fiscal', 'caf', 'bank', 'add_child', 'child_data', 'authorization', 'authorization_removal', 'health', 'enrolment', 'booking', 'absence', name='requestkind', native_enum=False, length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'refused', 'cancelled', name='requeststatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.BigInteger(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=120), nullable=True),
    sa.Column('attachment_file_id', sa.String(length=200), nullable=True),
    sa.Column('attachment_kind', sa.String(length=16), nullable=True),
    sa.Column('admin_message_id', sa.BigInteger(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=80), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_requests_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_requests_family_id_families'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requests')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_requests_idempotency_key'))
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requests_family_id'), ['family_id'], unique=False)
        batch_op.create_index('ix_requests_status_created', ['status', 'created_at'], unique=False)

    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('regie_id', sa.Integer(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['regie_id'], ['regies.id'], name=op.f('fk_services_regie_id_regies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('code', name=op.f('uq_services_code'))
    )
    op.create_table('telegram_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.Column('linked_by', sa.String(length=16), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_telegram_links_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['telegram_user_id'], ['telegram_users.id'], name=op.f('fk_telegram_links_telegram_user_id_telegram_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_telegram_links'))
    )
    with op.batch_alter_table('telegram_links', schema=None) as batch_op:
        batch_op.create_index('ix_telegram_links_active_user', ['telegram_user_id', 'revoked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_telegram_links_family_id'), ['family_id'], unique=False)

    op.create_table('vaccinations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=True),
    sa.Column('dose', sa.String(length=40), nullable=True),
    sa.Column('lot', sa.String(length=40), nullable=True),
    sa.Column('booster_on', sa.Date(), nullable=True),
    sa.Column('doctor', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_vaccinations_child_id_children'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vaccinations'))
    )
    with op.batch_alter_table('vaccinations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vaccinations_child_id'), ['child_id'], unique=False)

    op.create_table('booking_windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('period_starts_on', sa.Date(), nullable=False),
    sa.Column('period_ends_on', sa.Date(), nullable=False),
    sa.Column('opens_at', sa.DateTime(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_booking_windows_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_windows'))
    )
    op.create_table('closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_closures_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closures')),
    sa.UniqueConstraint('day', 'service_id', name=op.f('uq_closures_day_service_id'))
    )
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_closures_day'), ['day'], unique=False)

    op.create_table('day_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('reserved', 'regular', 'pending', 'booking_processing', 'booking_refused', 'absence_processing', 'absent_excused', 'absent_billed', 'present', 'cancelled', name='daystatus', native_enum=False, length=32), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_day_entries_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_day_entries_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_day_entries_request_id_requests')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_day_entries_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_day_entries')),
    sa.UniqueConstraint('child_id', 'service_id', 'day', name=op.f('uq_day_entries_child_id_service_id_day'))
    )
    with op.batch_alter_table('day_entries', schema=None) as batch_op:
        batch_op.create_index('ix_day_entries_service_day', ['service_id', 'day'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('regular_weekdays', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_enrolments_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_enrolments_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_enrolments_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
    sa.UniqueConstraint('child_id', 'service_id', 'family_id', 'starts_on', name=op.f('uq_enrolments_child_id_service_id_family_id_starts_on'))
    )
    op.create_table('invoice_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=8, scale=2), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_invoice_lines_child_id_children')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_invoice_lines_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines'))
    )
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoice_lines_invoice_id'), ['invoice_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('regie_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('method', sa.Enum('cheque', 'cash', 'cesu', 'direct_debit', 'card', 'titre', 'online', name='paymentmethod', native_enum=False, length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=True),
    sa.Column('telegram_charge_id', sa.String(length=200), nullable=True),
    sa.Column('recorded_by', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_payments_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_payments_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['regie_id'], ['regies.id'], name=op.f('fk_payments_regie_id_regies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('number', name=op.f('uq_payments_number')),
    sa.UniqueConstraint('telegram_charge_id', name=op.f('uq_payments_telegram_charge_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_family_id'), ['family_id'], unique=False)

    op.create_table('waiting_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('offered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_waiting_list_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_id'], ['families.id'], name=op.f('fk_waiting_list_family_id_families'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_waiting_list_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waiting_list')),
    sa.UniqueConstraint('child_id', 'service_id', 'day', name=op.f('uq_waiting_list_child_id_service_id_day'))
    )
    op.create_table('day_entry_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day_entry_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor_telegram_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.Enum('reserved', 'regular', 'pending', 'booking_processing', 'booking_refused', 'absence_processing', 'absent_excused', 'absent_billed', 'present', 'cancelled', name='daystatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('reserved', 'regular', 'pending', 'booking_processing', 'booking_refused', 'absence_processing', 'absent_excused', 'absent_billed', 'present', 'cancelled', name='daystatus', native_enum=False, length=32), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['day_entry_id'], ['day_entries.id'], name=op.f('fk_day_entry_events_day_entry_id_day_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_day_entry_events_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_day_entry_events'))
    )
    with op.batch_alter_table('day_entry_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_day_entry_events_day_entry_id'), ['day_entry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('day_entry_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_day_entry_events_day_entry_id'))

    op.drop_table('day_entry_events')
    op.drop_table('waiting_list')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_family_id'))

    op.drop_table('payments')
    with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoice_lines_invoice_id'))

    op.drop_table('invoice_lines')
    op.drop_table('enrolments')
    with op.batch_alter_table('day_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_day_entries_service_day')

    op.drop_table('day_entries')
    with op.batch_alter_table('closures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_closures_day'))

    op.drop_table('closures')
    op.drop_table('booking_windows')
    with op.batch_alter_table('vaccinations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vaccinations_child_id'))

    op.drop_table('vaccinations')
    with op.batch_alter_table('telegram_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telegram_links_family_id'))
        batch_op.drop_index('ix_telegram_links_active_user')

    op.drop_table('telegram_links')
    op.drop_table('services')
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_index('ix_requests_status_created')
        batch_op.drop_index(batch_op.f('ix_requests_family_id'))

    op.drop_table('requests')
    op.drop_table('reminder_preferences')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_family_id'))
        batch_op.drop_index(batch_op.f('ix_messages_admin_message_id'))

    op.drop_table('messages')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invoices_family_id'))

    op.drop_table('invoices')
    op.drop_table('invites')
    with op.batch_alter_table('health_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_items_child_id'))

    op.drop_table('health_items')
    op.drop_table('guardians')
    op.drop_table('family_children')
    with op.batch_alter_table('authorized_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authorized_persons_child_id'))

    op.drop_table('authorized_persons')
    op.drop_table('telegram_users')
    op.drop_table('school_years')
    op.drop_table('reminder_log')
    op.drop_table('regies')
    op.drop_table('families')
    op.drop_table('documents')
    op.drop_table('children')
    op.drop_table('bot_state')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_telegram_id'))

    op.drop_table('audit_log')
