"""Identity: blind OPRF evaluation of canonical identity keys, rate-limited and audited."""
