"""Templates in the handout's language: ``{{ _("Phone: %(phone)s", phone=...) }}`` through the
gettext catalog, and the date, time and list filters in that language's words.

``for_language(env, lang)`` returns an overlay of a template environment (it shares the loader
and the compiled templates) with Jinja's i18n extension installed for one language, cached per
environment and language.
"""

from __future__ import annotations

from typing import Any

from mesocare.lang import ui
from mesocare.lang.language import Language

_OVERLAYS: dict[tuple[int, str], tuple[Any, Any]] = {}  # (environment, its overlay)


def _filters(lang: Language) -> dict:
    return {
        "day": lang.day,
        "clock": lang.clock,
        "moment": lang.grammar.moment,
        "areas": lambda codes: ui.areas(lang, codes),
        "technique": lambda code: ui.technique(lang, code),
        "joined": lang.joined,
        "label": lambda text: lang.typo(f"{text}:"),
    }


def for_language(env, lang: Language):
    key = (id(env), lang.tag)
    overlay = _OVERLAYS.get(key)
    if overlay is None:
        overlay = env.overlay(extensions=["jinja2.ext.i18n"])
        overlay.filters = dict(env.filters)  # an overlay shares these dicts with its parent
        overlay.globals = dict(env.globals)
        overlay.install_gettext_callables(
            gettext=lang.gettext, ngettext=lang.ngettext, newstyle=True
        )
        # the same callables, with the language's contractions once the dates are filled in
        _ = gettext_for(lang)
        overlay.globals.update(_=_, gettext=_, ngettext=ngettext_for(lang))
        overlay.filters.update(_filters(lang))
        overlay.globals.update(lang_tag=lang.tag)
        _OVERLAYS[key] = (env, overlay)  # keep env alive so its id is not reused
        return overlay
    return overlay[1]


def gettext_for(lang: Language):
    """A ``_`` for one part of a template (one handout in a batch of several languages), with
    the same behaviour as Jinja's newstyle gettext: %(name)s filled in, values escaped in HTML."""
    from jinja2 import pass_context
    from markupsafe import Markup

    @pass_context
    def gettext(__context, __string, **variables):
        rv = lang.gettext(__string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return _contract(lang, rv % variables) if variables else rv

    return gettext


def ngettext_for(lang: Language):
    """Jinja's newstyle ngettext (``num`` filled in), with the language's contractions."""
    from jinja2 import pass_context
    from markupsafe import Markup

    @pass_context
    def ngettext(__context, __singular, __plural, __num, **variables):
        variables.setdefault("num", __num)
        rv = lang.ngettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return _contract(lang, rv % variables)

    return ngettext


def _contract(lang: Language, text):
    """Portuguese "em sábado" -> "no sábado" in a filled-in string (kept Markup when it was)."""
    from markupsafe import Markup

    out = lang.grammar.contract(text)
    return Markup(out) if isinstance(text, Markup) and not isinstance(out, Markup) else out
