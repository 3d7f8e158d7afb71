"""planning: stored response curves and forecasts (planning_artefact, planning_forecast) that
the Budget and Forecast pages read

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:28:12.093931
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('planning_artefact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('data_version', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('date_from', sa.Date(), nullable=True),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planning_artefact'))
    )
    with op.batch_alter_table('planning_artefact', schema=None) as batch_op:
        batch_op.create_index('ix_planning_artefact_kind_id', ['kind', 'id'], unique=False)

    op.create_table('planning_forecast',
    sa.Column('artefact_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('mean', sa.Float(), nullable=True),
    sa.Column('lo80', sa.Float(), nullable=True),
    sa.Column('hi80', sa.Float(), nullable=True),
    sa.Column('lo95', sa.Float(), nullable=True),
    sa.Column('hi95', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['artefact_id'], ['planning_artefact.id'], name=op.f('fk_planning_forecast_artefact_id_planning_artefact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('artefact_id', 'channel', 'metric', 'date', name=op.f('pk_planning_forecast'))
    )


def downgrade() -> None:
    op.drop_table('planning_forecast')
    with op.batch_alter_table('planning_artefact', schema=None) as batch_op:
        batch_op.drop_index('ix_planning_artefact_kind_id')

    op.drop_table('planning_artefact')
