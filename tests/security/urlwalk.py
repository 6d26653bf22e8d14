"""Every URL the resolver knows, as a concrete path built with dummy arguments."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

# Values tried for each argument, in order, until ``reverse`` accepts one.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "app_label": ("clinic",),
    "uidb64": ("MQ",),
    "token": ("abc-123-not-a-real-token", "x"),
}
DEFAULT_CANDIDATES = ("999999", "x")


@dataclass(frozen=True)
class Route:
    name: str
    template: str
    arguments: tuple[str, ...]


def _arguments(pattern: URLPattern | URLResolver) -> list[str]:
    resolved = pattern.pattern
    converters = getattr(resolved, "converters", None)
    if converters:
        return list(converters)
    regex = getattr(resolved, "regex", None)
    return list(regex.groupindex) if regex is not None else []


def routes() -> Iterator[Route]:
    def walk(patterns: list, prefix: str, namespace: str | None, arguments: list[str]):
        for pattern in patterns:
            here = [*arguments, *_arguments(pattern)]
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner, here)
            else:
                name = pattern.name or ""
                full = f"{namespace}:{name}" if namespace and name else name
                yield Route(full, prefix + str(pattern.pattern), tuple(here))

    yield from walk(get_resolver().url_patterns, "", None, [])


def concrete_path(route: Route, values: Mapping[str, object] | None = None) -> str | None:
    """A path for the route: ``values`` first, then dummy candidates; None if impossible."""
    values = values or {}
    kwargs: dict[str, object] = {}
    for argument in route.arguments:
        kwargs[argument] = values.get(argument, CANDIDATES.get(argument, DEFAULT_CANDIDATES)[0])
    try:
        return reverse(route.name, kwargs=kwargs)
    except NoReverseMatch:
        pass
    for argument in route.arguments:
        if argument in values:
            continue
        for candidate in CANDIDATES.get(argument, DEFAULT_CANDIDATES)[1:]:
            kwargs[argument] = candidate
            try:
                return reverse(route.name, kwargs=kwargs)
            except NoReverseMatch:
                continue
    return None
