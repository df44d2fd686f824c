"""The clinic's config, below everything that uses it.

``clinic`` finds and reads the clinic config file (``mesocare.yaml``) into a ``Clinic``;
``schema`` is that file's fields, validated with pydantic; ``mail`` its ``email:`` section
and ``ehr`` its ``ehr:`` section. Nothing here imports the mail, render or EHR layers: they
take the settings (dataclasses in ``mesocare.model``) that this package builds.
"""
