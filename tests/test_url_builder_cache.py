"""The test suite's cache of Werkzeug's URL builders (tests/conftest.py) builds exactly the
URLs that Werkzeug's own builders do, for every route of the app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from . import conftest


def _value(converter: Any) -> Any:
    """A value the converter accepts: one of its words, a number or a text."""
    for candidate in [*sorted(getattr(converter, "items", ())), 7, "a-b c"]:
        try:
            converter.to_url(candidate)
        except ValueError:
            continue
        return candidate
    raise AssertionError(f"no value for {converter!r}")


def _values(rule: Any) -> dict[str, Any]:
    return {name: _value(rule._converters[name]) for name in rule.arguments if name not in (rule.defaults or {})}


def test_cached_builders_build_what_werkzeugs_own_build(app: Flask) -> None:
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 50
    for rule in rules:
        values = _values(rule)
        for append_unknown in (False, True):
            own = conftest._compile_builder(rule, append_unknown).__get__(rule, None)
            cached = conftest._cached_compile_builder(rule, append_unknown).__get__(rule, None)
            assert cached(**values) == own(**values), rule.rule
        extra = {**values, "page": 2, "q": "x&y"}
        own = conftest._compile_builder(rule, True).__get__(rule, None)
        assert rule.build(extra) == own(**extra), rule.rule
