"""Matching: `report.received` → alerts about watchlist entries, and their first pages."""
