"""Cross-cutting basics: settings, errors, ids, units, clock. Imports nothing from the project."""
