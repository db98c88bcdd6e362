"""The rendered-fragment cache (web.cached_fragment): rendered once per key, bounded, least
recently used forgotten first."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from casestudies import web


def _renderer(calls: list[int], number: int) -> Callable[[], Markup]:
    def render() -> Markup:
        calls.append(number)
        return Markup("<p>{}</p>").format(number)

    return render


def test_a_fragment_is_rendered_once_and_the_least_recently_used_goes_first() -> None:
    web._fragments.clear()
    calls: list[int] = []
    assert web.cached_fragment("test", 0, caller=_renderer(calls, 0)) == Markup("<p>0</p>")
    for number in range(1, web.FRAGMENTS_KEPT):
        web.cached_fragment("test", number, caller=_renderer(calls, number))
    assert calls == list(range(web.FRAGMENTS_KEPT))
    # A hit renders nothing and makes fragment 0 the most recently used.
    assert web.cached_fragment("test", 0, caller=_renderer(calls, -1)) == Markup("<p>0</p>")
    assert len(calls) == web.FRAGMENTS_KEPT
    # One more fragment than the cache keeps: fragment 1, the least recently used, goes.
    web.cached_fragment("test", web.FRAGMENTS_KEPT, caller=_renderer(calls, web.FRAGMENTS_KEPT))
    assert len(web._fragments) == web.FRAGMENTS_KEPT
    web.cached_fragment("test", 0, caller=_renderer(calls, -1))
    assert -1 not in calls
    web.cached_fragment("test", 1, caller=_renderer(calls, 1))
    assert calls[-1] == 1
    web._fragments.clear()
