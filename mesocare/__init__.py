"""mesocare: dated pre- and aftercare handouts for mesotherapy clinics.

The package is a plain library with a thin command line on top (``mesocare.cli``).
Core functions are pure: they take and return dataclasses, read no clock and print nothing.
"""

__version__ = "0.1.0"
