"""Retention: closed alerts with their deliveries, old attempts and warnings, pruned."""
