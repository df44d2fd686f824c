"""The command line: parse, call the library, print. Nothing clinical is decided here.

app.py holds the app, its one callback (the run's Context) and the one error boundary;
each command group has its module (prep, batch, schema, init, rules, plan); options.py
declares the options they share.
"""

from mesocare.cli.app import app, main

__all__ = ["app", "main"]
