"""The hash-chained audit log: appends from every context, paged reads and chain verification."""
