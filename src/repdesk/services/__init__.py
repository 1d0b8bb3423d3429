"""Domain services: keyword-only functions over a session and plain data.

No textual, no printing. Each function does its work inside the caller's transaction (the
caller opens one short `store.write_session` per action) and returns plain values.
"""
