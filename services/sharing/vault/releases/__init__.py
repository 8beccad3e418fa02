"""Release requests: a lawyer's organisation asks a report's submitter for an alert's details."""
