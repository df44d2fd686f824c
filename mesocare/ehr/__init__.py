"""Back into the clinic's own systems: the FHIR R4 and HL7 v2 documents.

``fhir_bundle`` and ``hl7_mdm`` turn a handout into what an EHR files (a transaction Bundle;
an MDM^T02 message), ``plan_definition`` the rules in force into a FHIR PlanDefinition,
``ids`` holds the stable business identifiers they share. Everything here is pure: the
time a document was made is a parameter, and the handout's PDF and text are given (rendered
by ``mesocare.render.records``), so this package sits below the renderers. ``mesocare push``
delivers the documents (``mesocare.push``).
"""
