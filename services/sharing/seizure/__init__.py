"""Seizure response: one audited action that cuts a client or a whole partner off at once."""
