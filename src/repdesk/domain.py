"""The domain's fixed vocabulary (see ../shared/domain.md). Standard library only: the fast
shell path and the models both use it."""

STATUSES = ("open", "won", "lost")
STAGE_KINDS = ("open", "won", "lost")
ACTIVITY_KINDS = ("call", "email", "meeting", "note")
OBJECTION_CATEGORIES = (
    "price",
    "budget",
    "timing",
    "competitor",
    "authority",
    "need",
    "confusion",
    "other",
)
OBJECTION_STATUSES = ("open", "addressed", "resolved")
SEGMENTS = ("new", "existing")
