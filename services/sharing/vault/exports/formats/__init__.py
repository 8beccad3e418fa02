"""The export formats by the name `?format=` takes: adding one is a module and an entry here."""

from __future__ import annotations

from services.sharing.vault.exports.formats import csv, misp, stix
from services.sharing.vault.exports.formats.base import Exporter

EXPORTERS: dict[str, Exporter] = {
    "csv": csv.EXPORTER,
    "stix": stix.EXPORTER,
    "misp": misp.EXPORTER,
}
