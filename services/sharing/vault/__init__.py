"""The vault: the report store (consumer), reads, per-report grants, erasure."""
