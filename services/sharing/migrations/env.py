"""Alembic environment of the sharing service: runs on the connection `migrate()` hands in."""

from libs.common.db import run_alembic_env
from services.sharing.access import models as access_models
from services.sharing.access.enrolment import models as enrolment_models
from services.sharing.approvals import models as approval_models
from services.sharing.audit import models as audit_models
from services.sharing.identity import models as identity_models
from services.sharing.models import metadata
from services.sharing.seizure import models as seizure_models
from services.sharing.vault import models as vault_models
from services.sharing.vault.copies import models as copies_models
from services.sharing.vault.delivery import models as delivery_models
from services.sharing.vault.policy import models as policy_models

# Every context's tables derive from SharingTable: importing them completes `metadata`.
CONTEXTS = (
    access_models,
    enrolment_models,
    audit_models,
    identity_models,
    vault_models,
    copies_models,
    policy_models,
    delivery_models,
    seizure_models,
    approval_models,
)

run_alembic_env(metadata)
