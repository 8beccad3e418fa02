"""Watchlists: lawyers, their entries (a label and identity tokens) and the token index."""
