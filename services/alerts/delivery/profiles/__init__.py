"""Profiles: how a lawyer and an organisation are reached (contacts, escalation timing)."""
