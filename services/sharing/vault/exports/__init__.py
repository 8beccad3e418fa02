"""Exports: the reports a reader may read, in the formats partners' other tools take."""
