"""Which roles SHOULD reach each route: what the generated route-by-role matrix must show.

One line per route: `"service METHOD /path": "the roles that reach it"`. `ANYONE` is every role
and `anonymous` (no token): PUBLIC routes only. A role here reaches the route's handler; many
handlers then narrow further (their own partner's, their own lawyer's), noted after `#`.
`tests/unit/auth/test_role_matrix.py` compares this with `python -m lifeline.routes` (from the
services' OpenAPI documents), `tests/integration/auth/test_role_matrix_http.py` with real tokens.

Adding a route: add its line in its service's block; list only the roles that need it.
"""

from __future__ import annotations

ANYONE = "anyone"
# Every registered role, i.e. any valid token of the service (whoami, audit witness).
ANY_ROLE = "submitter reader lawyer partner_admin operator"

EXPECTED: dict[str, str] = {
    # --- intake ---------------------------------------------------------------------------
    "intake GET /healthz": ANYONE,
    "intake GET /readyz": ANYONE,
    "intake GET /v1/sys/seal-status": ANYONE,
    "intake POST /v1/sys/unseal": ANYONE,  # the unseal share is the credential
    "intake GET /v1/auth/whoami": "submitter reader lawyer operator",  # intake's token holders
    "intake POST /v1/reports": "submitter reader lawyer",
    "intake GET /v1/reports": "submitter reader lawyer",  # own partner's receipts
    "intake GET /v1/reports/{report_id}/receipt": "submitter reader lawyer",  # own partner's
    "intake POST /v1/system/ping": "operator",
    # --- sharing: public -------------------------------------------------------------------
    "sharing GET /healthz": ANYONE,
    "sharing GET /readyz": ANYONE,
    "sharing GET /v1/sys/seal-status": ANYONE,
    "sharing POST /v1/sys/unseal": ANYONE,
    "sharing POST /v1/auth/token": ANYONE,  # the client assertion is the credential
    "sharing POST /v1/enrol": ANYONE,  # the one-time enrolment code is the credential
    "sharing GET /.well-known/jwks.json": ANYONE,
    "sharing GET /.well-known/oauth-authorization-server": ANYONE,  # RFC 8414 metadata
    "sharing GET /.well-known/lifeline/hpke-keys": ANYONE,
    "sharing GET /.well-known/lifeline/delivery-signing-keys": ANYONE,
    "sharing POST /v1/admin/bootstrap": ANYONE,  # the one-time secret; 409 once done
    # --- sharing: any client ---------------------------------------------------------------
    "sharing GET /v1/auth/whoami": ANY_ROLE,
    "sharing GET /v1/audit/checkpoint": ANY_ROLE,  # shows a size and a hash, no entry
    "sharing GET /v1/audit/consistency": ANY_ROLE,
    # --- sharing: tokenising names (OPRF), for those who submit or keep watchlists ---------
    "sharing GET /v1/identity/prf": "submitter reader lawyer",
    "sharing POST /v1/identity/evaluate": "submitter reader lawyer",
    # --- sharing: reading reports (what is visible is the policies' and grants' decision) --
    "sharing GET /v1/reports": "reader lawyer partner_admin",
    "sharing GET /v1/reports/{report_id}": "reader lawyer partner_admin",
    "sharing GET /v1/reports/{report_id}/reads": "reader lawyer partner_admin operator",
    # An export is a read of each report in it (CSV, STIX, MISP): the readers of the listing.
    "sharing GET /v1/exports/reports": "reader lawyer partner_admin",
    "sharing GET /v1/reports/{report_id}/grants": "reader lawyer partner_admin operator",
    # Granting and erasing: `reports:manage` (own partner's reports) or `admin`.
    "sharing POST /v1/reports/{report_id}/grants": "reader partner_admin operator",
    "sharing DELETE /v1/reports/{report_id}": "reader partner_admin operator",
    # Release requests are decided like grants (submitter's own reports, 404 for others').
    "sharing GET /v1/release-requests": "reader partner_admin operator",
    "sharing POST /v1/release-requests/{request_id}/approve": "reader partner_admin operator",
    "sharing POST /v1/release-requests/{request_id}/deny": "reader partner_admin operator",
    # The partner's keys for sealed reads (a read is sealed only to the caller's partner's key).
    "sharing GET /v1/partners/me/hpke-keys": "reader lawyer partner_admin",
    "sharing POST /v1/partners/me/hpke-keys": "reader lawyer partner_admin",
    "sharing DELETE /v1/partners/me/hpke-keys/{kid}": "reader lawyer partner_admin",
    # --- sharing: clients and keys (a partner admin: its own partner's only, else 403/404) --
    "sharing GET /v1/admin/clients": "partner_admin operator",
    "sharing POST /v1/admin/clients": "partner_admin operator",
    "sharing GET /v1/admin/clients/{client_id}": "partner_admin operator",
    "sharing POST /v1/admin/clients/{client_id}/revoke": "partner_admin operator",
    "sharing GET /v1/admin/clients/{client_id}/keys": "partner_admin operator",
    "sharing POST /v1/admin/clients/{client_id}/keys": "partner_admin operator",
    "sharing GET /v1/admin/keys/{kid}": "partner_admin operator",
    "sharing POST /v1/admin/keys/{kid}/revoke": "partner_admin operator",
    "sharing POST /v1/admin/keys/{kid}/confirm": "partner_admin operator",
    "sharing GET /v1/admin/clients/{client_id}/enrolments": "partner_admin operator",
    "sharing POST /v1/admin/clients/{client_id}/enrolments": "partner_admin operator",
    "sharing DELETE /v1/admin/clients/{client_id}/enrolments/{enrolment_id}": (
        "partner_admin operator"
    ),
    "sharing POST /v1/admin/keys/{kid}/rotate": "partner_admin operator",
    # --- sharing: the operator alone --------------------------------------------------------
    "sharing GET /v1/admin/partners": "operator",
    "sharing POST /v1/admin/partners": "operator",
    "sharing GET /v1/admin/partners/{partner_id}": "operator",
    "sharing PUT /v1/admin/partners/{partner_id}/contact": "partner_admin operator",
    "sharing POST /v1/admin/partners/{partner_id}/disable": "operator",
    # Retention: a partner administrator reads its own partner's; only the operator sets it.
    "sharing GET /v1/admin/partners/{partner_id}/retention": "partner_admin operator",
    "sharing PUT /v1/admin/partners/{partner_id}/retention": "operator",
    "sharing GET /v1/admin/retention": "operator",
    "sharing GET /v1/admin/policies/{partner_id}": "operator",
    "sharing PUT /v1/admin/policies/{partner_id}": "operator",
    "sharing POST /v1/admin/policies/{partner_id}/diff": "operator",
    "sharing GET /v1/admin/explain": "operator",
    # Seizure response and two-person approval: the operator's alone (docs/auth.md).
    "sharing GET /v1/admin/approvals": "operator",
    "sharing GET /v1/admin/approvals/{approval_id}": "operator",
    "sharing POST /v1/admin/approvals/{approval_id}/approve": "operator",
    "sharing POST /v1/admin/approvals/{approval_id}/deny": "operator",
    "sharing GET /v1/admin/seizures": "operator",
    "sharing POST /v1/admin/seizures": "operator",
    "sharing GET /v1/admin/seizures/{seizure_id}": "operator",
    "sharing POST /v1/admin/seizures/{seizure_id}/lift": "operator",
    "sharing GET /v1/admin/audit": "operator",
    "sharing GET /v1/admin/audit/verify": "operator",
    "sharing GET /v1/admin/vault/keys": "operator",
    "sharing POST /v1/admin/vault/kek/rotate": "operator",
    "sharing POST /v1/admin/vault/kek/rewrap": "operator",
    "sharing POST /v1/admin/vault/kek/{version}/promote": "operator",
    "sharing POST /v1/admin/vault/kek/{version}/retire": "operator",
    "sharing POST /v1/admin/vault/sealing-keys/rotate": "operator",
    "sharing POST /v1/admin/vault/sealing-keys/{kid}/retire": "operator",
    "sharing POST /v1/admin/identity/prf/rotate": "operator",
    "sharing POST /v1/admin/identity/prf/{version}/retire": "operator",
    "sharing GET /v1/system/events/{event_id}": "operator",
    # --- alerts ---------------------------------------------------------------------------
    "alerts GET /healthz": ANYONE,
    "alerts GET /readyz": ANYONE,
    "alerts GET /v1/sys/seal-status": ANYONE,
    "alerts POST /v1/sys/unseal": ANYONE,
    "alerts GET /v1/ack/{token}": ANYONE,  # the signed single-use link is the credential
    "alerts POST /v1/ack/{token}": ANYONE,
    "alerts GET /v1/auth/whoami": "lawyer partner_admin operator",  # alerts' token holders
    # A lawyer's own entries, profile and alerts (another lawyer's are 404).
    "alerts GET /v1/watchlist/entries": "lawyer",
    "alerts POST /v1/watchlist/entries": "lawyer",
    "alerts GET /v1/watchlist/entries/{entry_id}": "lawyer",
    "alerts DELETE /v1/watchlist/entries/{entry_id}": "lawyer",
    # Lifting a "not my client" suppression: the entry's lawyer only.
    "alerts DELETE /v1/watchlist/entries/{entry_id}/suppressions/{suppression_id}": "lawyer",
    "alerts GET /v1/lawyer/profile": "lawyer",
    "alerts PUT /v1/lawyer/profile": "lawyer",
    "alerts POST /v1/lawyer/profile/test": "lawyer",  # to the caller's own contacts only
    # The caller's own organisation; setting it redirects every colleague's unanswered alerts.
    "alerts GET /v1/organisation/escalation": "lawyer partner_admin",
    "alerts PUT /v1/organisation/escalation": "partner_admin",
    # The rota: its lawyers see who is on duty (and its calendar), its administrator sets it.
    "alerts GET /v1/organisation/rota": "lawyer partner_admin",
    "alerts PUT /v1/organisation/rota": "partner_admin",
    "alerts DELETE /v1/organisation/rota": "partner_admin",
    "alerts GET /v1/organisation/rota/on-duty": "lawyer partner_admin",
    "alerts GET /v1/organisation/rota.ics": "lawyer partner_admin",  # bearer only, no URL token
    # What became of the organisation's alerts (the not-my-client share): its people read it.
    "alerts GET /v1/organisation/feedback": "lawyer partner_admin",
    "alerts GET /v1/alerts": "lawyer",
    "alerts GET /v1/alerts/{alert_id}": "lawyer",
    "alerts POST /v1/alerts/{alert_id}/ack": "lawyer",
    "alerts POST /v1/alerts/{alert_id}/resolve": "lawyer",  # the same principal as the ack
    "alerts GET /v1/system/events/{event_id}": "operator",
    "alerts GET /v1/admin/retention": "operator",
}

# Outside the OpenAPI documents, on every service: the document itself (public, like the code
# it describes; the console shows it at /docs/<service>). No scope can guard a route that is not
# an API route: a mount or a plain route added anywhere else fails
# `test_no_route_is_outside_the_matrix`.
OUTSIDE_THE_MATRIX = [
    "GET,HEAD /openapi.json",
]

WHO = ("submitter", "reader", "lawyer", "partner_admin", "operator", "anonymous")


def expected_roles(route: str) -> frozenset[str] | None:
    """The columns that should reach `route` (None when the table does not classify it)."""
    line = EXPECTED.get(route)
    if line is None:
        return None
    names = frozenset(WHO) if line == ANYONE else frozenset(line.split())
    unknown = names - set(WHO)
    if unknown:
        raise ValueError(f"{route}: unknown role {sorted(unknown)} in tests/support/role_matrix.py")
    return names


def line_for(route: str, roles: frozenset[str]) -> str:
    """The table line that says `roles` reach `route`, as a developer would paste it."""
    if roles == frozenset(WHO):
        value = "ANYONE"
    else:
        value = '"' + " ".join(w for w in WHO if w in roles) + '"' if roles else '""'
    return f'    "{route}": {value},'
