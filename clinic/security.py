"""Sessions, sign-in protection and two-factor login (ASVS V3/V6, HIPAA 164.312(a)).

- ``NoStoreMiddleware``: pages rendered by views are never stored by browsers or proxies.
- ``SessionLifetimeMiddleware``: a session ends ``SESSION_ABSOLUTE_HOURS`` after sign-in,
  however active (the idle timeout is Django's ``SESSION_COOKIE_AGE``); a user whose session
  timed out is told so on the sign-in page.
- ``TwoFactorMiddleware``: a user with a TOTP device must enter a code after the password;
  with ``OTP_REQUIRED_FOR_CLINICAL`` practitioners and managers must enrol first.
- ``LoginThrottleBackend``: django-axes per username *and* address, with a cool-off, so
  guesses from one address never lock the owner out elsewhere; an address that fails for
  many usernames is paused for longer; the user is emailed once per lockout.
- Signal receivers: every sign-in, sign-out, failure and lockout is logged and audited;
  deactivating a user deletes their sessions.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from typing import Any
from urllib.parse import urlencode

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_failure_limit
from axes.models import AccessFailureLog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.contrib.sessions.models import Session
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import audit, emails
from clinic.models import AuditAction
from clinic.roles import CLINICAL_ROLES, has_role

logger = logging.getLogger("clinic.security")

SESSION_STARTED_KEY = "_clinic_signed_in_at"
# "verify": has a device, must enter a code; "enrol": must set one up; "none": neither.
SESSION_OTP_KEY = "_clinic_two_factor"
TWO_FACTOR_URL_NAMES = frozenset({"otp_verify", "otp_enrol", "logout"})
# When the last signed-in request was (signed, no personal data); see SessionLifetimeMiddleware.
LAST_ACTIVE_COOKIE = "clinic_last_active"


@functools.cache
def _trusted_proxy_networks(entries: tuple[str, ...]) -> tuple[Any, ...]:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {error}") from error


def is_trusted_proxy(address: str) -> bool:
    """Whether ``address`` is one of ``TRUSTED_PROXIES`` (addresses or networks)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    networks = _trusted_proxy_networks(tuple(settings.TRUSTED_PROXIES))
    return any(parsed in network for network in networks)


def client_ip_address(request: HttpRequest) -> str:
    """The client's address, trusting X-Forwarded-For only from our own proxies.

    The hops are the X-Forwarded-For entries followed by REMOTE_ADDR. Walking from the
    right, a hop is passed over only while it is one of ``TRUSTED_PROXIES`` (at most
    ``TRUSTED_PROXY_COUNT`` of them): each proxy appended the address it saw, so a client
    that reaches the app directly, not through a proxy, cannot pick its own address, and
    anything a client wrote further left is ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.TRUSTED_PROXY_COUNT:
        return remote
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in forwarded if hop]
    client = remote
    for _ in range(settings.TRUSTED_PROXY_COUNT):
        if not hops or not is_trusted_proxy(client):
            break
        client = hops.pop()
    try:
        return str(ipaddress.ip_address(client))
    except ValueError:
        return remote


class NoStoreMiddleware:
    """``Cache-Control: no-store`` unless a response chose its own caching (static files)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store, private"
        return response


def idle_sign_out_message() -> str:
    minutes = settings.SESSION_COOKIE_AGE // 60
    return f"You were signed out after {minutes} minutes without activity."


class SessionLifetimeMiddleware:
    """Ends sessions past their absolute lifetime, and explains an idle time-out.

    An idle session simply expires (the browser drops its cookie), so nothing on the server
    knows the visitor was signed in. A second, signed cookie holding only the time of the
    last signed-in request outlives it; an anonymous request that still carries one from
    longer ago than the idle timeout gets the reason on the sign-in page. Signing out
    deletes it, so a deliberate sign-out is never called a time-out.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response.set_signed_cookie(
                LAST_ACTIVE_COOKIE,
                str(int(time.time())),
                salt=LAST_ACTIVE_COOKIE,
                max_age=settings.SESSION_ABSOLUTE_HOURS * 3600,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        elif LAST_ACTIVE_COOKIE in request.COOKIES:
            response.delete_cookie(LAST_ACTIVE_COOKIE, samesite="Lax")
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> None:
        # In process_view (not __call__) so the messages middleware is ready, and before
        # LoginRequiredMiddleware's process_view, which then sends the user to sign in.
        if not request.user.is_authenticated:
            last_active = request.get_signed_cookie(
                LAST_ACTIVE_COOKIE, default=None, salt=LAST_ACTIVE_COOKIE
            )
            if last_active and time.time() - int(last_active) >= settings.SESSION_COOKIE_AGE:
                messages.info(request, idle_sign_out_message())
            return
        started = request.session.get(SESSION_STARTED_KEY)
        now = time.time()
        if started is None:
            request.session[SESSION_STARTED_KEY] = now
        elif now - started > settings.SESSION_ABSOLUTE_HOURS * 3600:
            logger.info("session of user %s ended: absolute lifetime", request.user.pk)
            logout(request)
            messages.info(request, "Your session has ended. Please sign in again.")


def two_factor_state(user: Any) -> str:
    if user_has_device(user, confirmed=True):
        return "verify"
    if settings.OTP_REQUIRED_FOR_CLINICAL and has_role(user, *CLINICAL_ROLES):
        return "enrol"
    return "none"


class TwoFactorMiddleware:
    """Sends signed-in but unverified users to the code (or enrolment) page.

    The state is worked out once at sign-in and kept in the session, so ordinary pages
    pay no extra query.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        # Types: django-otp's middleware adds is_verified() to the user.
        if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]
            return None
        if not getattr(view_func, "login_required", True):
            return None
        match = request.resolver_match
        if match is not None and match.url_name in TWO_FACTOR_URL_NAMES:
            return None
        state = request.session.get(SESSION_OTP_KEY)
        if state is None:
            state = request.session[SESSION_OTP_KEY] = two_factor_state(user)
        if state == "none":
            return None
        target = reverse("otp_verify" if state == "verify" else "otp_enrol")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


def address_is_paused(ip_address: str) -> bool:
    """Whether one address failed for ``LOGIN_ADDRESS_USERNAME_LIMIT`` different usernames
    within ``LOGIN_ADDRESS_COOLOFF``: password spraying, paused for every username.

    Counted from axes' failure log, which outlives the per-username cool-off.
    """
    since = timezone.now() - settings.LOGIN_ADDRESS_COOLOFF
    usernames = (
        AccessFailureLog.objects.filter(ip_address=ip_address, attempt_time__gte=since)
        .values("username")
        .distinct()
        .count()
    )
    return usernames >= settings.LOGIN_ADDRESS_USERNAME_LIMIT


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes for every sign-in through a web request, plus the per-address pause.

    Axes locks a username only at the address that failed (``AXES_LOCKOUT_PARAMETERS``), so
    nobody can lock a colleague out by typing wrong passwords elsewhere; an address that
    sprays many usernames is paused for all of them, for longer.

    A call without a request (the test client's ``login``, a shell) is not an attack
    surface; axes would refuse it outright, so it is passed on to the next backend.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> Any:
        if request is None:
            return None
        if address_is_paused(client_ip_address(request)):
            # Read by AxesMiddleware, which then answers with lockout_response.
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.clinic_pause = settings.LOGIN_ADDRESS_COOLOFF  # type: ignore[attr-defined]
            raise AxesBackendPermissionDenied("address paused after failures for many usernames")
        return super().authenticate(request, *args, **kwargs)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in: the sign-in page's look, status 429."""
    pause = getattr(request, "clinic_pause", settings.AXES_COOLOFF_TIME)
    minutes = max(1, int(pause.total_seconds() // 60))
    return render(request, "registration/lockout.html", {"cooloff_minutes": minutes}, status=429)


def totp_new_key() -> str:
    """A fresh TOTP secret (hex), kept in the session until the first code confirms it.

    Nothing is written before that: opening the enrolment page changes no data.
    """
    from django_otp.util import random_hex

    return random_hex(20)


def totp_config_url(*, user: Any, key: str) -> str:
    return TOTPDevice(user=user, name="Authenticator app", key=key).config_url


def totp_device_confirm(*, request: HttpRequest, key: str, token: str) -> bool:
    """Enrol: the first code proves the app holds ``key``; the session is then verified."""
    from django_otp import login as otp_login
    from django_otp.oath import TOTP

    checker = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6)
    matched_t = None
    for drift in (0, -1, 1):  # a phone clock up to one step out
        checker.drift = drift
        if f"{checker.token():06d}" == token:
            matched_t = checker.t()
            break
    user = request.user
    if matched_t is None:
        # Types: a signed-in user (a model row) here.
        audit.record(action=AuditAction.OTP_FAILED, obj=user, detail="Enrolment code")  # type: ignore[arg-type]
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        # last_t: this code is spent and cannot sign in again.
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", key=key, confirmed=True, last_t=matched_t
        )
        # Types: a signed-in user (a model row) here.
        audit.record(action=AuditAction.OTP_ENROL, obj=user)  # type: ignore[arg-type]
    otp_login(request, device)
    request.session[SESSION_OTP_KEY] = "verify"
    return True


def totp_verify(*, request: HttpRequest, token: str) -> bool:
    """Check a code against the user's confirmed devices; each code works once (last_t)."""
    from django_otp import login as otp_login
    from django_otp import match_token

    device = match_token(request.user, token)
    if device is None:
        # Types: a signed-in user (a model row) here.
        audit.record(action=AuditAction.OTP_FAILED, obj=request.user, detail="Sign-in code")  # type: ignore[arg-type]
        logger.warning("two-factor code refused for user %s", request.user.pk)
        return False
    # A new key for the now fully signed-in session.
    request.session.cycle_key()
    otp_login(request, device)
    return True


def kill_user_sessions(user_id: int) -> int:
    """Delete every live session of a user (database session store)."""
    doomed = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now())
        if str(session.get_decoded().get("_auth_user_id")) == str(user_id)
    ]
    Session.objects.filter(session_key__in=doomed).delete()
    return len(doomed)


# Signal receivers, connected in ClinicConfig.ready.


def on_user_pre_save(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk and (update_fields is None or "is_active" in update_fields):
        instance._clinic_was_active = (
            sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
        )


def on_user_post_save(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created and getattr(instance, "_clinic_was_active", False) and not instance.is_active:
        ended = kill_user_sessions(instance.pk)
        logger.info("user %s deactivated: %s session(s) ended", instance.pk, ended)
    instance._clinic_was_active = instance.is_active


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    request.session[SESSION_STARTED_KEY] = time.time()
    request.session[SESSION_OTP_KEY] = two_factor_state(user)
    logger.info("user %s signed in", user.pk)
    with audit.request_context(request):
        audit.record(action=AuditAction.LOGIN, obj=user)


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None or request is None:
        return
    logger.info("user %s signed out", user.pk)
    with audit.request_context(request):
        audit.record(action=AuditAction.LOGOUT, obj=user)


def on_login_failed(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    logger.warning(
        "failed sign-in for username %r from %s",
        username,
        audit.client_ip(request) if request else "-",
    )
    if request is None:
        return
    user_id = (
        get_user_model().objects.filter(username=username).values_list("pk", flat=True).first()
    )
    with audit.request_context(request):
        audit.record(
            action=AuditAction.LOGIN_FAILED,
            object_type="auth.user",
            object_id=user_id or "",
            detail=f"Username tried: {username}",
        )


def on_locked_out(
    sender: Any, request: HttpRequest | None, username: str, ip_address: str, **kwargs: Any
) -> None:
    logger.warning("sign-in locked out: username %r from %s", username, ip_address)
    if request is None:
        return
    # Axes signals every refused attempt while locked; the lockout itself is the failure
    # that reaches the limit, and only that one is audited and emailed.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures != get_failure_limit(request, getattr(request, "axes_credentials", None)):
        return
    with audit.request_context(request):
        audit.record(
            action=AuditAction.LOCKOUT,
            object_type="auth.user",
            detail=f"Locked out: username {username[:100]} from {ip_address}",
        )
    email_lockout_to_user(username=username, ip_address=ip_address, failures=failures)


def email_lockout_to_user(*, username: str, ip_address: str, failures: int) -> None:
    """Tell the owner of ``username`` (if any, active, with an address) about a lockout."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or not user.email:
        return
    email = emails.staff_sign_in_paused(
        given_name=user.first_name or user.get_username(),
        username=user.get_username(),
        ip_address=ip_address,
        failures=failures,
        cooloff_minutes=max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)),
        reset_url=settings.CLINIC_BASE_URL.rstrip("/") + reverse("password_reset"),
    )
    try:
        emails.send_to_staff(to=user.email, email=email)
    except Exception:  # any mail failure: the lockout stands, the notice is logged as lost
        logger.exception("could not email user %s about a sign-in lockout", user.pk)


def connect_signals() -> None:
    from axes.signals import user_locked_out
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
    from django.db.models.signals import post_save, pre_save

    user_model = get_user_model()
    pre_save.connect(on_user_pre_save, sender=user_model, dispatch_uid="clinic-user-pre-save")
    post_save.connect(on_user_post_save, sender=user_model, dispatch_uid="clinic-user-post-save")
    user_logged_in.connect(on_logged_in, dispatch_uid="clinic-logged-in")
    user_logged_out.connect(on_logged_out, dispatch_uid="clinic-logged-out")
    user_login_failed.connect(on_login_failed, dispatch_uid="clinic-login-failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="clinic-locked-out")
