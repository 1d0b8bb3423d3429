"""Domain services: keyword-only functions over a session and plain data.

No textual, no printing. Each function does its work inside the caller's transaction (the
caller opens one short `store.write_session` per action) and returns plain values.
"""

# Every write through a session leaves a sync outbox entry on a linked desk (see outbox.py);
# importing the package registers the hook, so no write path can go around it.
from repdesk.services import outbox as _outbox  # noqa: F401
