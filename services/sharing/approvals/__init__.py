"""Two-person approval: a gated action waits until a second operator approves it, then runs once."""
