"""Read-only reports: the SQL that the shell's fast path and the app both run, and the figures."""
