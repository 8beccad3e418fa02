"""Backup and restore of a network's data directory and databases (docs/backup.md)."""
