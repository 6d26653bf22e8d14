"""The one role x page/endpoint table: who may GET and who may POST each URL.

``tests/security/test_access_matrix.py`` walks every URL the resolver knows and checks
the running views against this table: a role listed may use the page (it may still get a
404 for an id that does not exist, or a form error); a role not listed is refused (403 or
405 for staff, a redirect to sign in for anonymous visitors, 401 from the API). A URL
missing from the table fails the test, so the table stays complete.

The anonymous allowlist (:data:`ANONYMOUS_ALLOWED`) is the entries that list
``ANONYMOUS``: sign-in and password reset, ``/healthz``, ``/favicon.ico``, the patient
self-service links under ``/p/`` (signed, expiring tokens), the API's schema and docs
(public by design: the schema names no patient data and every operation needs a token),
and static files (served by WhiteNoise before any view, so not in the resolver). The API
answers 401 without a token, whatever the session says. Django's admin has its own sign-in
page and, like its other pages, lets only managers in (``clinic.admin``): the rule for the
``admin:`` namespace is :data:`ADMIN_RULE`.

Field level (what a role sees on a page it may open) is not in this table: receptionists
never get clinical detail (``clinic.roles.can_see_clinical``), checked by the same test
with planted clinical text.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinic.roles import Role

ANONYMOUS = "anonymous"
R, P, M = Role.RECEPTIONIST.value, Role.PRACTITIONER.value, Role.MANAGER.value
STAFF = (R, P, M)
CLINICAL = (P, M)
MANAGERS = (M,)
EVERYONE = (ANONYMOUS, R, P, M)
NOBODY: tuple[str, ...] = ()


@dataclass(frozen=True)
class Access:
    get: tuple[str, ...]
    post: tuple[str, ...]
    note: str = ""


def rule(get: tuple[str, ...] = NOBODY, post: tuple[str, ...] = NOBODY, note: str = "") -> Access:
    return Access(get=tuple(get), post=tuple(post), note=note)


MATRIX: dict[str, Access] = {
    # Accounts
    "home": rule(get=STAFF),
    "healthz": rule(get=EVERYONE, note="Load balancer probe; no data"),
    "favicon": rule(get=EVERYONE, note="Redirect to the static icon; no data"),
    "login": rule(get=EVERYONE, post=EVERYONE, note="django-axes throttled"),
    "logout": rule(get=STAFF, post=STAFF, note="GET asks with a button; POST signs out (CSRF)"),
    "otp_verify": rule(get=STAFF, post=STAFF),
    "otp_enrol": rule(get=STAFF, post=STAFF),
    "password_change": rule(get=STAFF, post=STAFF),
    "password_change_done": rule(get=STAFF),
    "password_reset": rule(get=EVERYONE, post=EVERYONE),
    "password_reset_done": rule(get=EVERYONE),
    "password_reset_confirm": rule(get=EVERYONE, post=EVERYONE, note="Signed one-time token"),
    "password_reset_complete": rule(get=EVERYONE),
    # Clinic: staff, patients, audit, GDPR
    "clinic:staff_list": rule(get=MANAGERS),
    "clinic:patient_list": rule(get=STAFF),
    "clinic:patient_create": rule(get=STAFF, post=STAFF),
    "clinic:patient_detail": rule(get=STAFF, note="Clinical detail only for P and M"),
    "clinic:patient_update": rule(get=STAFF, post=STAFF),
    "clinic:patient_archive": rule(get=STAFF, post=STAFF),
    "clinic:patient_unarchive": rule(get=STAFF, post=STAFF),
    "clinic:outbox_list": rule(get=STAFF),
    "clinic:outbox_detail": rule(get=STAFF, note="Aftercare bodies only for P and M"),
    "clinic:outbox_resend": rule(post=STAFF),
    "clinic:outbox_resend_failed": rule(get=STAFF, post=STAFF, note="GET asks; POST resends"),
    "clinic:audit_report": rule(get=MANAGERS),
    "clinic:audit_export_csv": rule(get=MANAGERS),
    "clinic:patient_privacy": rule(get=MANAGERS, note="GDPR export page; audited"),
    "clinic:patient_export_json": rule(get=MANAGERS, note="GDPR export; audited"),
    "clinic:patient_erase": rule(get=MANAGERS, post=MANAGERS),
    # Treatments: assessments, catalogue, series, sessions
    "treatments:assessment_create": rule(
        get=CLINICAL, post=CLINICAL, note="Needs a practitioner profile as well as the role"
    ),
    "treatments:assessment_detail": rule(get=CLINICAL),
    "treatments:assessment_update": rule(get=CLINICAL, post=CLINICAL),
    "treatments:assessment_amend": rule(get=CLINICAL, post=CLINICAL),
    "treatments:assessment_sign": rule(post=CLINICAL),
    "treatments:treatmenttype_list": rule(get=STAFF),
    "treatments:treatmenttype_detail": rule(get=STAFF),
    "treatments:treatmenttype_create": rule(get=MANAGERS, post=MANAGERS),
    "treatments:treatmenttype_update": rule(get=MANAGERS, post=MANAGERS),
    "treatments:series_list": rule(get=STAFF, note="Receptionists: no clinical detail"),
    "treatments:series_plan": rule(get=CLINICAL, post=CLINICAL),
    "treatments:series_detail": rule(get=STAFF, note="Receptionists: no clinical detail"),
    "treatments:series_update": rule(get=CLINICAL, post=CLINICAL),
    "treatments:series_stop": rule(get=CLINICAL, post=CLINICAL),
    "treatments:series_maintenance": rule(post=CLINICAL),
    "treatments:session_log": rule(get=CLINICAL, post=CLINICAL),
    "treatments:session_detail": rule(get=CLINICAL),
    "treatments:session_edit": rule(get=CLINICAL, post=CLINICAL),
    "treatments:session_sign": rule(post=CLINICAL),
    "treatments:session_discard": rule(post=CLINICAL),
    "treatments:session_amend": rule(get=CLINICAL, post=CLINICAL),
    "treatments:aftercare_detail": rule(get=CLINICAL),
    # Bookings: calendar, appointments, availability
    "bookings:calendar_day": rule(get=STAFF),
    "bookings:calendar_week": rule(get=STAFF),
    "bookings:appointment_new": rule(get=STAFF, post=STAFF),
    "bookings:appointment_detail": rule(get=STAFF),
    "bookings:appointment_action": rule(post=STAFF, note="Check-in, confirm, no-show, complete"),
    "bookings:appointment_reschedule": rule(get=STAFF, post=STAFF),
    "bookings:appointment_cancel": rule(get=STAFF, post=STAFF),
    "bookings:slot_search": rule(get=STAFF),
    "bookings:due_list": rule(get=STAFF),
    "bookings:series_book_rest": rule(get=STAFF, post=STAFF),
    "bookings:availability": rule(get=MANAGERS),
    "bookings:opening_hours": rule(get=MANAGERS, post=MANAGERS),
    "bookings:closures": rule(get=MANAGERS, post=MANAGERS),
    "bookings:closure_delete": rule(post=MANAGERS),
    "bookings:closure_detail": rule(get=MANAGERS),
    "bookings:closure_cancel_booked": rule(get=MANAGERS, post=MANAGERS),
    "bookings:working_hours": rule(get=MANAGERS, post=MANAGERS),
    "bookings:time_off": rule(get=MANAGERS, post=MANAGERS),
    "bookings:time_off_delete": rule(post=MANAGERS),
    "bookings:time_off_detail": rule(get=MANAGERS),
    "bookings:time_off_cancel_booked": rule(get=MANAGERS, post=MANAGERS),
    "bookings:rooms": rule(get=MANAGERS),
    "bookings:room_create": rule(get=MANAGERS, post=MANAGERS),
    "bookings:room_edit": rule(get=MANAGERS, post=MANAGERS),
    "bookings:booking_settings": rule(get=MANAGERS, post=MANAGERS),
    "bookings:api_tokens": rule(get=MANAGERS, post=MANAGERS),
    "bookings:api_token_revoke": rule(post=MANAGERS),
    # Patient self-service links: no login, a signed expiring token is the key
    "selfservice:confirm": rule(get=EVERYONE, post=EVERYONE, note="Signed token"),
    "selfservice:cancel": rule(get=EVERYONE, post=EVERYONE, note="Signed token"),
    "selfservice:reschedule": rule(get=EVERYONE, post=EVERYONE, note="Signed token"),
    "selfservice:pick": rule(get=EVERYONE, post=EVERYONE, note="Signed token"),
    "selfservice:rebook": rule(get=EVERYONE, post=EVERYONE, note="Signed token"),
    "selfservice:unsubscribe": rule(get=EVERYONE, post=EVERYONE, note="Signed token"),
    "selfservice:link_not_working": rule(
        get=EVERYONE, post=EVERYONE, note="Any other /p/ address: the 'call us' page (404)"
    ),
    # The JSON API (bookings.api): Bearer token of a staff user, never the session cookie,
    # so no CSRF. Operations sharing a path share a row (GET and POST on /api/patients).
    "api:api-root": rule(get=EVERYONE, post=EVERYONE, note="The API's prefix: 404, nothing"),
    "api:openapi-json": rule(get=EVERYONE, post=EVERYONE, note="Schema: public, no data"),
    "api:openapi-view": rule(get=EVERYONE, post=EVERYONE, note="Docs page: public, no data"),
    "api:patient_search": rule(get=STAFF, post=STAFF, note="GET search, POST create"),
    "api:patient_create": rule(get=STAFF, post=STAFF, note="GET search, POST create"),
    "api:patient_get": rule(get=STAFF),
    "api:practitioner_list": rule(get=STAFF),
    "api:room_list": rule(get=STAFF),
    "api:treatment_type_list": rule(get=STAFF),
    "api:slot_list": rule(get=STAFF),
    "api:appointment_list": rule(get=STAFF, post=STAFF, note="GET list, POST book"),
    "api:appointment_create": rule(get=STAFF, post=STAFF, note="GET list, POST book"),
    "api:appointment_get": rule(get=STAFF),
    "api:appointment_reschedule": rule(post=STAFF),
    "api:appointment_cancel": rule(post=STAFF),
    "api:appointment_status": rule(post=STAFF, note="Completing: P and M only (403 otherwise)"),
}
API_NAMESPACE = "api"

# Django's admin: its own sign-in page is open (same axes-throttled authentication); every
# other admin page lets managers only (clinic.admin replaces AdminSite.has_permission).
ADMIN_NAMESPACE = "admin"
ADMIN_RULE = rule(
    get=MANAGERS,
    post=MANAGERS,
    note="Django admin: managers only; read-only where an app page edits the rows",
)
ADMIN_OPEN = {"admin:login": rule(get=EVERYONE, post=EVERYONE, note="Admin sign-in form")}


# POST endpoints that take no CSRF token, and why that is safe.
CSRF_EXEMPT: dict[str, str] = {
    "selfservice:unsubscribe": (
        "RFC 8058 one-click unsubscribe: mail clients POST without a page; the signed, "
        "expiring token in the link is the authority, and it only turns emails off"
    ),
    "selfservice:link_not_working": (
        "Any other address under /p/: writes nothing, every method gets the same 'this link "
        "doesn't work, call us' page"
    ),
}


def access_for(url_name: str) -> Access | None:
    """The rule for a URL name (``namespace:name``), or None when the table lacks it."""
    if url_name in MATRIX:
        return MATRIX[url_name]
    if url_name in ADMIN_OPEN:
        return ADMIN_OPEN[url_name]
    if url_name.split(":", 1)[0] == ADMIN_NAMESPACE:
        return ADMIN_RULE
    return None


def anonymous_allowed() -> set[str]:
    """URL names an anonymous visitor may use (GET or POST)."""
    table = {**MATRIX, **ADMIN_OPEN}
    return {
        name
        for name, access in table.items()
        if ANONYMOUS in access.get or ANONYMOUS in access.post
    }


ANONYMOUS_ALLOWED = frozenset(anonymous_allowed())
