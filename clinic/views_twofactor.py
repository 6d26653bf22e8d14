"""Two-factor sign-in: enter a code after the password, or set up an authenticator app."""

from __future__ import annotations

import base64

import segno
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods
from django_otp import user_has_device

from clinic import security
from clinic.forms_security import OneTimeCodeForm

ENROL_KEY = "_clinic_enrol_key"


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    # Types: django-otp's middleware adds is_verified() to the user.
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(_next_url(request))
    if not user_has_device(request.user, confirmed=True):
        state = security.two_factor_state(request.user)
        request.session[security.SESSION_OTP_KEY] = state
        return redirect("otp_enrol" if state == "enrol" else _next_url(request))
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if security.totp_verify(request=request, token=form.cleaned_data["token"]):
            return redirect(_next_url(request))
        form.add_error("token", "That code is wrong or has already been used. Try the next one.")
    context = {"form": form, "next": _next_url(request)}
    return render(request, "registration/otp_verify.html", context)


@require_http_methods(["GET", "POST"])
def otp_enrol(request: HttpRequest) -> HttpResponse:
    # Someone who has a device but has not entered a code must not replace it from here.
    # Types: django-otp's middleware adds is_verified() to the user.
    if user_has_device(request.user, confirmed=True) and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect("otp_verify")
    key = request.session.get(ENROL_KEY)
    if not key:
        key = request.session[ENROL_KEY] = security.totp_new_key()
    form = OneTimeCodeForm(request.POST or None, submit_label="Turn on two-factor sign-in")
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if security.totp_device_confirm(request=request, key=key, token=token):
            request.session.pop(ENROL_KEY, None)
            messages.success(request, "Two-factor sign-in is on for your account.")
            return redirect(_next_url(request))
        form.add_error("token", "That code does not match. Check the time on your phone.")
    secret = base64.b32encode(bytes.fromhex(key)).decode()
    otpauth_uri = security.totp_config_url(user=request.user, key=key)
    return render(
        request,
        "registration/otp_enrol.html",
        {
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "otpauth_uri": otpauth_uri,
            "qr_data_uri": segno.make(otpauth_uri, error="m").svg_data_uri(scale=5),
            "required": settings.OTP_REQUIRED_FOR_CLINICAL,
            "next": _next_url(request),
        },
    )
