"""How long free text typed into the app may be: one place for forms and models.

A form refuses longer input with a message (never a database error); the model fields carry
the same numbers so a ModelForm or the admin applies them too.
"""

from __future__ import annotations

NOTES_MAX_LENGTH = 2000  # clinical and desk notes, aftercare additions, medications
REASON_MAX_LENGTH = 500  # override, amendment and cancellation reasons
TEMPLATE_MAX_LENGTH = 5000  # a treatment type's aftercare template
