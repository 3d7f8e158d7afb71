"""lift tests: incrementality experiments' results that calibrate the response curves

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 13:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lift_test',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=40), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('lift', sa.Float(), nullable=False),
    sa.Column('standard_error', sa.Float(), nullable=False),
    sa.Column('spend_rc', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lift_test')),
    sa.UniqueConstraint('platform', 'date_from', 'date_to', 'metric', name=op.f('uq_lift_test_platform'))
    )


def downgrade() -> None:
    op.drop_table('lift_test')
