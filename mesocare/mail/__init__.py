"""Email: each patient's handout and reminders, sent through the clinic's mail server, once.

Four small modules, each usable alone:

- ``settings``: the ``email:`` part of the clinic config (server, security, sender).
- ``messages``: pure message building: what to send (the first thing to do, the day's
  reminders), the content hash that says whether it changed, and the message bytes
  (plain text and HTML from templates, the PDF and calendar file attached).
- ``sentlog``: the SQLite log of what the server accepted, so nothing goes twice.
- ``smtp``: one reused, verified, timed-out smtplib connection with retries for
  temporary refusals.

``outbox`` ties them together for the ``send`` and ``remind`` commands.
"""
