"""The Textual app. Only this package imports textual (tests/cli proves the shell never does)."""
