"""Access: the partner registry, API clients and their keys, bootstrap, audited changes."""
