"""Pure types and rules of tnrwatch (no I/O): incidents, persons, actors, filters, countries."""
