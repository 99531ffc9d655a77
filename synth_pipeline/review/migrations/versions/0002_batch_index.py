"""Index items by (version, batch_no): a queue page counts the progress of its own batches only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 16:20:00
"""

from __future__ import annotations

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_review_items_version_batch', 'review_items', ['version', 'batch_no'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_review_items_version_batch', table_name='review_items')
