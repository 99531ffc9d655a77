"""Assignments: an admin reserves items of a version for a named reviewer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 18:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'review_assignments',
        sa.Column('item_id', sa.Integer(), nullable=False, autoincrement=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=False),
        sa.Column('assigned_by', sa.String(length=200), nullable=False),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['review_items.id']),
        sa.ForeignKeyConstraint(['reviewer_id'], ['review_users.id']),
        sa.PrimaryKeyConstraint('item_id'),
    )
    op.create_index('ix_review_assignments_reviewer', 'review_assignments', ['reviewer_id', 'item_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_review_assignments_reviewer', table_name='review_assignments')
    op.drop_table('review_assignments')
