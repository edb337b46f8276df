"""Formats in and out: our CSV/JSON/XLSX layout, mapping files for foreign datasets, GeoJSON."""
