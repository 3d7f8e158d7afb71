"""agg_hourly and agg_audience: rollups of the hourly and audience facts over campaigns, filled
from what is stored

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 14:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

MEASURES = ("spend", "spend_rc", "impressions", "clicks", "leads", "conversions", "revenue", "revenue_rc",
            "engagements")


def upgrade() -> None:
    op.create_table('agg_hourly',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    *[sa.Column(c, sa.Float(), nullable=False) for c in MEASURES],
    sa.PrimaryKeyConstraint('date', 'hour', 'account_id', name=op.f('pk_agg_hourly'))
    )
    op.create_table('agg_audience',
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('age_band', sa.String(length=20), nullable=False),
    sa.Column('gender', sa.String(length=20), nullable=False),
    sa.Column('geo', sa.String(length=80), nullable=False),
    sa.Column('segment', sa.String(length=80), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    *[sa.Column(c, sa.Float(), nullable=False) for c in MEASURES],
    sa.PrimaryKeyConstraint('date', 'account_id', 'age_band', 'gender', 'geo', 'segment',
                            name=op.f('pk_agg_audience'))
    )
    sums = ", ".join(f"SUM({c})" for c in MEASURES)
    op.execute(f"INSERT INTO agg_hourly (date, hour, account_id, platform_id, {', '.join(MEASURES)}) "
               f"SELECT date, hour, account_id, MIN(platform_id), {sums} FROM fact_campaign_hourly "
               "GROUP BY date, hour, account_id")
    keys = "date, account_id, age_band, gender, geo, segment"
    op.execute(f"INSERT INTO agg_audience ({keys}, platform_id, {', '.join(MEASURES)}) "
               f"SELECT {keys}, MIN(platform_id), {sums} FROM fact_audience_daily GROUP BY {keys}")


def downgrade() -> None:
    op.drop_table('agg_audience')
    op.drop_table('agg_hourly')
