"""Phone numbers: one stored form (E.164), friendly display, and the forms search matches.

Numbers are parsed in the clinic's region (``settings.CLINIC_PHONE_REGION``, default GB), so
staff can type "07700 900123" and the record holds "+447700900123".
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from clinic.errors import BAD_INPUT, DomainError

# Ofcom keeps 07700 900000-900999 for drama and demonstrations. phonenumbers calls them
# invalid, but the demo clinic and the tests use them so that no real person's number is
# ever stored by accident; accept them as mobiles.
FICTIONAL_PREFIXES = ("+447700900",)


class InvalidPhoneNumber(DomainError, ValueError):
    """A number that cannot be dialled; ``message`` is written for the person at the desk.

    Still a ``ValueError`` for callers that parse numbers as plain values.
    """

    code = "invalid_phone_number"
    http_status = BAD_INPUT


def _example(region: str) -> str:
    example = phonenumbers.example_number_for_type(
        region, phonenumbers.PhoneNumberType.MOBILE
    ) or phonenumbers.example_number(region)
    if example is None:
        return ""
    national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)
    return f", e.g. {national} or {international}"


def normalise_phone(raw: str, *, region: str) -> str:
    """The E.164 form of ``raw`` ("+447700900123"), or "" for a blank value.

    Raises :class:`InvalidPhoneNumber` when the number is not a valid number for its
    country (too short, too long, or a prefix no operator uses).
    """
    text = (raw or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        raise InvalidPhoneNumber(
            f"Enter a phone number with digits only{_example(region)}."
        ) from None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    fictional = e164.startswith(FICTIONAL_PREFIXES) and len(e164) == len("+447700900123")
    if not (phonenumbers.is_valid_number(number) or fictional):
        raise InvalidPhoneNumber(
            f"{text} is not a valid phone number. Check the digits{_example(region)}; "
            "numbers from abroad start with + and the country code."
        )
    return e164


def format_phone(e164: str, *, region: str) -> str:
    """How staff read a stored number: national form at home, international form otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, region)
    except NumberParseException:
        return e164
    home = number.country_code == phonenumbers.country_code_for_region(region)
    return phonenumbers.format_number(
        number, PhoneNumberFormat.NATIONAL if home else PhoneNumberFormat.INTERNATIONAL
    )


def phone_search_forms(e164: str, *, region: str) -> list[str]:
    """Digit strings a search should match: "447700900123" and "07700900123"."""
    if not e164:
        return []
    forms = [e164.lstrip("+")]
    try:
        number = phonenumbers.parse(e164, region)
    except NumberParseException:
        return forms
    national = "".join(
        ch for ch in phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL) if ch.isdigit()
    )
    if national and national not in forms:
        forms.append(national)
    return forms


def can_receive_texts(e164: str, *, region: str) -> bool:
    """Whether a stored number looks like a mobile (or could be one, as in the US)."""
    if not e164:
        return False
    if e164.startswith(FICTIONAL_PREFIXES):
        return True
    try:
        number = phonenumbers.parse(e164, region)
    except NumberParseException:
        return False
    return phonenumbers.number_type(number) in {
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    }
