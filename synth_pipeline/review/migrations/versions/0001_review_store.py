"""The review store: users, tokens, items, responses, revisions, adjudications, audit chain.

Revision ID: 0001
Revises:
Create Date: 2026-11-30 14:26:49.483551
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

OPEN = sa.text("state = 'open'")
DISPUTED = sa.text("state = 'disputed'")

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_audit',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_table('review_audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # The chain's tip: one row, locked by every append.
    head = sa.table("review_audit_head", sa.column("id", sa.Integer), sa.column("seq", sa.Integer),
                    sa.column("prev_hash", sa.String), sa.column("hash", sa.String))
    op.bulk_insert(head, [{"id": 1, "seq": 0, "prev_hash": "0" * 64, "hash": "0" * 64}])
    op.create_table('review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('row_id', sa.String(length=200), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('batch_no', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('prelabel', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('lineage', sa.JSON(), nullable=False),
    sa.Column('route', sa.String(length=20), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('submitted', sa.Integer(), nullable=False),
    sa.Column('is_gold', sa.Boolean(), nullable=False),
    sa.Column('gold', sa.JSON(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('agreement', sa.Double(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("state IN ('open', 'complete', 'disputed', 'resolved')", name='ck_review_items_state'),
    sa.CheckConstraint('submitted >= 0 AND submitted <= quota', name='ck_review_items_quota'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version', 'row_id', 'row_version', name='uq_review_items_row'),
    sa.UniqueConstraint('version', 'seq', name='uq_review_items_seq')
    )
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.create_index('ix_review_items_disputed', ['agreement', 'id'], unique=False, postgresql_where=DISPUTED,
                              sqlite_where=DISPUTED)
        batch_op.create_index('ix_review_items_open', ['version', 'seq'], unique=False, postgresql_where=OPEN,
                              sqlite_where=OPEN)
        batch_op.create_index('ix_review_items_version_state', ['version', 'state'], unique=False)

    op.create_table('review_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'reviewer', 'adjudicator', 'auditor', 'viewer')",
                       name='ck_review_users_role'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('review_version_counters',
    sa.Column('version', sa.String(length=200), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_batch', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('review_adjudications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('adjudicator_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=True),
    sa.Column('edited_record', sa.JSON(), nullable=True),
    sa.Column('diff', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['adjudicator_id'], ['review_users.id'], ),
    sa.ForeignKeyConstraint(['item_id'], ['review_items.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id')
    )
    op.create_table('review_api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['review_users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('review_api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('review_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('edited_record', sa.JSON(), nullable=True),
    sa.Column('diff', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('flag_pattern', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seconds', sa.Double(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'discarded')", name='ck_review_responses_status'),
    sa.ForeignKeyConstraint(['item_id'], ['review_items.id'], ),
    sa.ForeignKeyConstraint(['reviewer_id'], ['review_users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'reviewer_id', name='uq_review_responses_item_reviewer')
    )
    with op.batch_alter_table('review_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_responses_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('review_response_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('rev', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['review_responses.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id', 'rev', name='uq_review_revisions_rev')
    )


def downgrade() -> None:
    op.drop_table('review_response_revisions')
    with op.batch_alter_table('review_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_responses_reviewer_id'))

    op.drop_table('review_responses')
    with op.batch_alter_table('review_api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_api_tokens_user_id'))

    op.drop_table('review_api_tokens')
    op.drop_table('review_adjudications')
    op.drop_table('review_version_counters')
    op.drop_table('review_users')
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_index('ix_review_items_version_state')
        batch_op.drop_index('ix_review_items_open', postgresql_where=OPEN,
                              sqlite_where=OPEN)
        batch_op.drop_index('ix_review_items_disputed', postgresql_where=DISPUTED,
                              sqlite_where=DISPUTED)

    op.drop_table('review_items')
    op.drop_table('review_audit_head')
    op.drop_table('review_audit')
