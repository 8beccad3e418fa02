"""Alerts: list, show and acknowledge them, escalate until acknowledged, withdraw on erasure."""
