"""repdesk: a keyboard-driven terminal desk for one sales rep.

Importing this package imports nothing heavy: the shell commands stay fast.
"""

__version__ = "0.1.0"
