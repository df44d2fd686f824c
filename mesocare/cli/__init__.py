"""The command line: parse, call the library, print. Nothing clinical is decided here.

application.py holds the app, its one callback (the run's Context) and the one error boundary;
each command group has its module (prep, batch, schema, init, rules, plan, mail); options.py
declares the options they share.
"""

__all__ = ["app", "main"]


def __getattr__(name: str):
    """``app`` (every command) and ``main``, from app.py when first asked for: a run imports
    and builds only the command it runs (see ``application.make_app``)."""
    if name in __all__:
        from mesocare.cli import application

        return getattr(application, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
