"""The desk's storage: tables, engine, schema steps, the desk file, file locations, crash log."""
