"""``mesocare push``: each handout's record into the clinic's system, exactly once.

``deliver`` goes through the appointments and keeps the push log (``pushlog``, SQLite, beside
the email sent log); ``mllp`` sends HL7 v2 messages to an interface engine, ``fhir_client``
FHIR transactions to a server. The documents themselves are ``mesocare.ehr``'s, rendered by
``mesocare.render.records``; the ``ehr:`` settings are the clinic config's
(``mesocare.config.ehr``).
"""
