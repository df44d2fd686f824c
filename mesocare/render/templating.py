"""The Jinja environment: the clinic's templates folder first, then ours, in a sandbox.

Templates are data a clinic may copy from anyone, so they render in Jinja's
``SandboxedEnvironment``: a template can read the values it is given and use our filters, but
cannot reach Python's internals (``cycler.__init__.__globals__``, ``''.__class__.__mro__``),
call methods that change data, or build huge ranges and strings. StrictUndefined makes a
template that names a missing field fail loudly. HTML templates are autoescaped (a name typed
as ``<b>Ana</b>`` prints as typed). Every printed value loses its control characters
(``printable``), so a name with an escape sequence cannot rewrite the screen that shows it.

``template_errors`` is the one place where anything a template does wrong (a syntax error, an
unsafe attribute, a missing value, ``1/0``, a template that includes itself, a file that is
not UTF-8) becomes one ``TemplateError`` sentence naming the file and line; every format that
renders a template goes through ``render_template`` (or ``template_errors`` directly).
"""

from __future__ import annotations

import os
import re
import textwrap
from contextlib import contextmanager
from functools import lru_cache

from mesocare import words
from mesocare.errors import MesocareError, TemplateError
from mesocare.model import AREA_WORDS, TECHNIQUE_WORDS
from mesocare.render.printable import printable, printable_value

MAX_TEXT = 1_000_000  # the longest string or list a template may build with * or **
MAX_TEMPLATE_BYTES = 256 * 1024  # one template file (compiling a huge one takes minutes)


_SPACES = re.compile(
    r"[ \t\n\r\f\v]+"
)  # ASCII spaces only: no-break spaces (French « », " :") stay


def wrap(text: str, width: int = 72, indent: str = "", first: str | None = None) -> str:
    """Wrap a paragraph; ``first`` is the first line's prefix (a bullet), ``indent`` the rest's."""
    return textwrap.fill(
        " ".join(_SPACES.split(str(text).strip(" \t\n\r\f\v"))),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=True,
        break_on_hyphens=False,
    )


# CommonMark's backslash escapes; "&" too, so "&lt;b&gt;" typed in a name is not an entity.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


def md_escape(value) -> str:
    """Escape Markdown punctuation so a name or rule text prints as typed."""
    return _MD_SPECIAL.sub(
        r"\\\1", " ".join(_SPACES.split(printable(str(value)).strip(" \t\n\r\f\v")))
    )


def area_words(areas) -> str:
    """face and hands; or "body; neck and décolletage" when a name already has an "and"."""
    names = [AREA_WORDS.get(a, a) for a in areas]
    if any(" and " in n for n in names) and len(names) > 1:
        return "; ".join(names)
    return words.joined(names)


def short_version(version: str) -> str:
    return version[:12]


def _loader(search: list[str]):
    """A FileSystemLoader that says which file is not UTF-8 text (or cannot be read)."""
    import jinja2

    class Loader(jinja2.FileSystemLoader):
        def get_source(self, environment, template):
            path = self._path(template)
            if (
                path != template and os.path.getsize(path) > MAX_TEMPLATE_BYTES
            ):  # before it is read or compiled
                raise TemplateError(
                    f"{path}: the template is larger than {MAX_TEMPLATE_BYTES // 1024} KB, "
                    "more than a handout needs."
                )
            try:
                source, filename, uptodate = super().get_source(environment, template)
            except jinja2.TemplateNotFound:
                raise  # an OSError too: the include names the file that asked for it
            except (UnicodeDecodeError, OSError) as e:
                path = self._path(template)
                if isinstance(e, OSError):
                    raise TemplateError(
                        f"{path}: the template cannot be read ({e.strerror or 'error'})."
                    ) from None
                with open(path, "rb") as f:
                    data = f.read()
                try:
                    data.decode("utf-8")
                    line = 1
                except UnicodeDecodeError as bad:
                    line = data.count(b"\n", 0, bad.start) + 1
                raise TemplateError(
                    f"{path}, line {line}: the template is not UTF-8 text; save it as UTF-8."
                ) from None
            # the template's own text loses its control characters too (a NUL, an escape sequence)
            return printable(source), filename, uptodate

        def _path(self, template: str) -> str:
            pieces = jinja2.loaders.split_template_path(template)
            for folder in self.searchpath:
                path = os.path.join(folder, *pieces)
                if os.path.isfile(path):
                    return path
            return template

    return Loader(search)


def _sandbox_class():
    from jinja2.sandbox import SandboxedEnvironment, SecurityError

    class Sandbox(SandboxedEnvironment):
        """The sandbox, with ``*`` and ``**`` kept from building a value too big to hold."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context, operator, left, right):
            if operator == "**" and isinstance(right, int) and abs(right) > 100:
                raise SecurityError("a power above 100 is more than a template needs.")
            if operator == "*":
                count, seq = (left, right) if isinstance(left, int) else (right, left)
                if (
                    isinstance(count, int)
                    and isinstance(seq, (str, list, tuple))
                    and len(seq) * count > MAX_TEXT
                ):
                    raise SecurityError("the template builds a text or list too long to print.")
            return super().call_binop(context, operator, left, right)

    return Sandbox


@lru_cache(maxsize=8)
def environment(clinic_dir: str | None):
    """A cached, sandboxed Jinja environment for one clinic templates folder (None: ours only)."""
    import jinja2

    from mesocare.resources import templates_dir

    search = [str(templates_dir())]
    if clinic_dir:
        search.insert(0, clinic_dir)
    env = _sandbox_class()(
        loader=_loader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "htm", "html.j2"), default_for_string=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=printable_value,
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


def _where(error: BaseException, name: str, folders: list[str]) -> str:
    """ "path/handout.txt.j2, line 3": the innermost template line in the error's traceback."""
    where = name
    tb = error.__traceback__
    roots = tuple(os.path.join(os.path.abspath(f), "") for f in folders)
    while tb is not None:
        path = tb.tb_frame.f_code.co_filename
        if path.startswith(roots) or os.path.abspath(path).startswith(roots):
            where = f"{path}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return where


@contextmanager
def template_errors(name: str, clinic_dir: str | None):
    """Turn whatever goes wrong while template ``name`` renders into one TemplateError.

    The sentence names the template file and line and what went wrong, never a value it was
    rendering (those may be patient details).
    """
    import jinja2
    from jinja2.sandbox import SecurityError

    from mesocare.resources import templates_dir

    folders = [f for f in (clinic_dir, str(templates_dir())) if f]
    try:
        yield
    except MesocareError:
        raise
    except jinja2.TemplateNotFound as e:
        where = _where(e, name, folders)
        where = (
            "" if where == name and e.name == name else f"{where}: "
        )  # the file that asked for it
        raise TemplateError(
            f"{where}template {str(e.name)[:80]} was not found in the clinic's templates folder "
            "or ours."
        ) from None
    except jinja2.TemplateSyntaxError as e:
        raise TemplateError(
            f"{e.filename or e.name}, line {e.lineno}: template syntax error: {e.message}"
        ) from None
    except SecurityError as e:
        raise TemplateError(
            f"{_where(e, name, folders)}: the template does something templates may not ({e}) "
            "and was stopped."
        ) from None
    except jinja2.UndefinedError as e:
        raise TemplateError(
            f"{_where(e, name, folders)}: the template uses a value that does not exist: "
            f"{e.message}"
        ) from None
    except RecursionError as e:
        raise TemplateError(
            f"{_where(e, name, folders)}: the template includes or calls itself without end."
        ) from None
    except ZeroDivisionError as e:
        raise TemplateError(f"{_where(e, name, folders)}: the template divides by zero.") from None
    except Exception as e:  # noqa: BLE001 - a template is a program: any failure is its error
        raise TemplateError(
            f"{_where(e, name, folders)}: the template failed ({type(e).__name__})."
        ) from None


def render_template(name: str, clinic_dir: str | None, env=None, lang=None, **context) -> str:
    """Render template ``name`` (the clinic's, else ours) with ``context``; errors as TemplateError.

    ``lang`` (a mesocare.lang.Language; the context's ``lang`` when not given, else the default)
    installs that language's gettext catalog and date filters (``{{ _("...") }}``).
    """
    from mesocare import lang as languages
    from mesocare.lang.jinja import for_language

    given = context.get("lang")
    lang = lang or (given if isinstance(given, languages.Language) else None) or languages.get(None)
    with template_errors(name, clinic_dir):
        env = for_language(env or environment(clinic_dir), lang)
        return env.get_template(name).render(**context)
