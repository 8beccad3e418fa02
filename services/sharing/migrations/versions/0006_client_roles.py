"""Client roles: every API client is registered with a role that bounds its scopes.

Existing clients get the role their scopes imply, and lose the scopes that role may not hold:
`admin` stays only with clients of the operator's organisation (another partner's admin client
becomes that partner's administrator); readers that were never given the new `reports:manage`
scope stop granting and erasing until a partner administrator gives it to them. Policies and
per-report grants for the old guessed role `analyst` now name the registered role `reader`.

Revision ID: 0006
Revises: 0005
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# A snapshot of the role bounds at this revision (migrations never import code that changes).
_BOUNDS = {
    "submitter": {"reports:submit"},
    "reader": {"reports:submit", "reports:read", "reports:manage"},
    "lawyer": {"reports:submit", "reports:read", "watchlist:manage", "alerts:read", "alerts:ack"},
    "partner_admin": {"clients:manage", "reports:read", "reports:manage"},
    "operator": {"admin"},
}
_LAWYER_ONLY = {"watchlist:manage", "alerts:read", "alerts:ack"}

_clients = sa.table(
    "api_clients",
    sa.column("id", sa.String),
    sa.column("partner_id", sa.String),
    sa.column("scopes", sa.String),
    sa.column("role", sa.String),
)
_partners = sa.table("partners", sa.column("id", sa.String), sa.column("is_operator", sa.Boolean))
_policies = sa.table(
    "vault_policies",
    sa.column("partner_id", sa.String),
    sa.column("role", sa.String),
    sa.column("document", sa.Text),
)
_grants = sa.table("vault_report_grants", sa.column("role", sa.String))


def _role(scopes: set[str], operator_org: bool) -> tuple[str, set[str]]:
    """The role a client's old scopes imply, and its scopes cut to that role's bound."""
    if "admin" in scopes:
        role = "operator" if operator_org else "partner_admin"
        kept = {"admin"} if operator_org else (scopes | {"clients:manage"})
    elif scopes & _LAWYER_ONLY:
        role, kept = "lawyer", scopes
    elif "reports:read" in scopes:
        role, kept = "reader", scopes
    else:
        role, kept = "submitter", scopes
    return role, (kept & _BOUNDS[role]) or set(_BOUNDS[role])


def upgrade() -> None:
    with op.batch_alter_table("api_clients") as batch:
        batch.add_column(sa.Column("role", sa.String(32), nullable=True))
    conn = op.get_bind()
    operators = {
        r.id for r in conn.execute(sa.select(_partners.c.id).where(_partners.c.is_operator))
    }
    for row in conn.execute(
        sa.select(_clients.c.id, _clients.c.partner_id, _clients.c.scopes)
    ).all():
        role, kept = _role(set(row.scopes.split()), row.partner_id in operators)
        conn.execute(
            _clients.update()
            .where(_clients.c.id == row.id)
            .values(role=role, scopes=" ".join(sorted(kept)))
        )
    with op.batch_alter_table("api_clients") as batch:
        batch.alter_column("role", existing_type=sa.String(32), nullable=False)
    _rename_policy_role("analyst", "reader")


def _rename_policy_role(old: str, new: str) -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_policies.c.partner_id, _policies.c.document).where(_policies.c.role == old)
    ).all()
    for row in rows:
        document = json.loads(row.document)
        document["role"] = new
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
        conn.execute(
            _policies.update()
            .where(_policies.c.partner_id == row.partner_id, _policies.c.role == old)
            .values(role=new, document=text)
        )
    conn.execute(_grants.update().where(_grants.c.role == old).values(role=new))


def downgrade() -> None:
    _rename_policy_role("reader", "analyst")
    with op.batch_alter_table("api_clients") as batch:
        batch.drop_column("role")
