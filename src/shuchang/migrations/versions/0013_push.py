"""push: leases, per-unit progress and the record in flight of push jobs

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dataplane_push_jobs") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("progress", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("record_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("sent", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("dataplane_push_jobs") as batch:
        batch.drop_column("sent")
        batch.drop_column("record_id")
        batch.drop_column("progress")
        batch.drop_column("owner")
