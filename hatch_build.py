"""Build hook: compile the gettext catalogs (mesocare/locales/*/LC_MESSAGES/*.po) to .mo files
inside the wheel, with Babel. The .po files are the source (in the repo); the .mo files are
build output (ignored by git, shipped in the wheel)."""

from __future__ import annotations

import io
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogs(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root)
        for po in sorted((root / "mesocare" / "locales").glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as f:
                catalog = read_po(f)
            out = io.BytesIO()
            write_mo(out, catalog)
            mo = po.with_suffix(".mo")
            if not mo.is_file() or mo.read_bytes() != out.getvalue():
                mo.write_bytes(out.getvalue())
            build_data["force_include"][str(mo)] = str(mo.relative_to(root))
