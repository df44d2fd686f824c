"""The Jinja environment: the clinic's templates folder first, then ours.

StrictUndefined makes a template that names a missing field fail loudly. HTML templates
are autoescaped (a name typed as ``<b>Ana</b>`` prints as typed).
"""

from __future__ import annotations

import re
import textwrap
from functools import lru_cache
from pathlib import Path

from mesocare import words
from mesocare.errors import TemplateError
from mesocare.model import AREA_WORDS, TECHNIQUE_WORDS


def wrap(text: str, width: int = 72, indent: str = "", first: str | None = None) -> str:
    """Wrap a paragraph; ``first`` is the first line's prefix (a bullet), ``indent`` the rest's."""
    return textwrap.fill(
        " ".join(str(text).split()),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    )


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def md_escape(value) -> str:
    """Escape Markdown punctuation so a name or rule text prints as typed."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def area_words(areas) -> str:
    """face and hands; or "body; neck and décolletage" when a name already has an "and"."""
    names = [AREA_WORDS.get(a, a) for a in areas]
    if any(" and " in n for n in names) and len(names) > 1:
        return "; ".join(names)
    return words.joined(names)


def short_version(version: str) -> str:
    return version[:12]


@lru_cache(maxsize=8)
def environment(clinic_dir: str | None):
    """A cached Jinja environment for one clinic templates folder (None: ours only)."""
    import jinja2

    from mesocare.resources import templates_dir

    search = [str(templates_dir())]
    if clinic_dir:
        search.insert(0, clinic_dir)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "html.j2"), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        day=words.day,
        moment=words.moment,
        clock=words.clock,
        wrap=wrap,
        areas=area_words,
        technique=lambda t: TECHNIQUE_WORDS.get(t, t),
        short=short_version,
        joined=words.joined,
        md=md_escape,
    )
    return env


def render_template(name: str, clinic_dir: str | None, **context) -> str:
    import jinja2

    try:
        return environment(clinic_dir).get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"template {name} was not found in the clinic's templates folder or ours.") from None
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(f"{e.filename or e.name}, line {e.lineno}: template syntax error: {e.message}") from None
    except jinja2.UndefinedError as e:
        raise TemplateError(f"template {name} uses a value that does not exist: {e.message}") from None


def template_folder(clinic_dir: str | None) -> Path | None:
    return Path(clinic_dir) if clinic_dir else None
