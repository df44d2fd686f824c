"""Email: each patient's handout and reminders, sent through the clinic's mail server, once.

Small modules, each usable alone (the ``email:`` settings are the clinic config's, in
``mesocare.config.mail``):

- ``messages``: pure: what to send (the first thing to do, the day's reminders), the
  content hash that says whether it changed, the Message-ID and the attachments' names.
- ``letters``: pure: one message's words (plain text and HTML from templates) and bytes
  (the PDF and calendar file attached).
- ``sentlog``: the SQLite log of what the server accepted, so nothing goes twice.
- ``smtp``: one reused, verified, timed-out smtplib connection with retries for
  temporary refusals.

``outbox`` ties them together for the ``send`` and ``remind`` commands: its ``Plan`` of
``Job``s (``jobs``) is rendered by ``rendering`` and counted by ``summary``.
"""
