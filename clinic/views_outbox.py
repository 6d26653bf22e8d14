"""The outbox: what was sent to patients, when, and what failed (with a resend button)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic import clock, messaging, selectors_outbox
from clinic.forms_outbox import OutboxFilterForm
from clinic.models import MessageKind, MessageStatus, OutboundMessage
from clinic.roles import can_see_clinical, role_required
from clinic.tasks import kick_sends

PAGE_SIZE = 50


@role_required()
@require_GET
def outbox_list(request: HttpRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        outbox = selectors_outbox.outbox_messages(**form.cleaned_data)
    elif form.is_bound:
        outbox = OutboundMessage.objects.none()
    else:
        outbox = selectors_outbox.outbox_messages()
    page = Paginator(outbox, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/outbox_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "statuses": MessageStatus,
            "here": request.get_full_path(),
            "email_delivery": selectors_outbox.email_delivery(now=clock.now()),
        },
    )


@role_required()
@require_GET
def outbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(OutboundMessage.objects.select_related("patient"), pk=pk)
    # An aftercare email quotes the practitioner's clinical notes: not for receptionists.
    body_is_clinical = message.kind in CLINICAL_KINDS and not can_see_clinical(request.user)
    return render(
        request,
        "clinic/outbox_detail.html",
        {
            "message": message,
            "statuses": MessageStatus,
            "here": request.get_full_path(),
            "body_hidden": body_is_clinical,
        },
    )


CLINICAL_KINDS = frozenset({MessageKind.AFTERCARE})


@role_required()
@require_POST
def outbox_resend(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        message = messaging.message_resend(message_id=pk)
    except messaging.MessageNotResendable as refusal:
        messages.error(request, refusal.message)
    else:
        kick_sends([message.pk])
        messages.success(
            request,
            f"{message.get_kind_display()} to {message.recipient} queued to be sent again.",
        )
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    return redirect(back or "clinic:outbox_list")


@role_required()
@require_http_methods(["GET", "POST"])
def outbox_resend_failed(request: HttpRequest) -> HttpResponse:
    """Resend every failed email still worth sending: GET asks, POST does it."""
    if request.method == "POST":
        result = messaging.messages_resend_failed()
        kick_sends(result.queued)
        queued = len(result.queued)
        messages.success(request, f"{queued} email{'' if queued == 1 else 's'} queued again.")
        left = result.too_late + result.refused
        if left:
            messages.info(
                request,
                f"{left} failed email{' was' if left == 1 else 's were'} left alone: no longer "
                f"worth sending, or the patient's record was erased.",
            )
        return redirect("clinic:outbox_list")
    return render(
        request,
        "clinic/outbox_confirm_resend_failed.html",
        {"failed": selectors_outbox.failed_messages(now=clock.now())},
    )
