"""The joined file's one structure tree, built from each piece's (PDF/UA-1 needs one).

The cover sheet's ``Document`` element holds every piece's top-level structure elements in page
order (their ``/P`` is that element); the parent tree is one number tree with a leaf per piece,
whose keys are shifted past the pieces before it (the pages' ``/StructParents`` and annotations'
``/StructParent`` are shifted to match, see ``pages_outline``); role and class maps are merged;
each piece's IDs (table header cells) get the piece's number as a prefix, in the ID tree and in
the cells' ``/ID`` and ``/Headers`` (``objects.Serializer``), so they stay unique; a handout
typeset in another language than the document's keeps it (``/Lang`` on its elements).
"""

from __future__ import annotations

import re
from array import array
from typing import Any

from mesocare.render.pdf_join.objects import (
    DOCUMENT,
    ID_TREE,
    PARENT_TREE,
    STRUCT_ROOT,
    Writer,
    keys,
    refs,
)


def tree_items(node, key: str) -> list:
    """The (key, value) pairs of a number tree (``/Nums``) or name tree (``/Names``), in order."""
    pairs: list[tuple[Any, Any]] = []
    stack = [node]
    while stack:
        node = stack.pop()
        if key in node:
            flat = list(node[key])
            pairs.extend(zip(flat[0::2], flat[1::2], strict=False))  # a stray last key: dropped
        stack.extend(reversed(list(node.get("/Kids", []))))
    return pairs


def top_level(struct) -> tuple[list[int], list]:
    """The numbers of a piece's top-level structure elements (the kids of its ``Document``
    elements, and any other element at the top) and its ``Document`` elements."""
    import pikepdf

    kids: list[int] = []
    documents = []
    for element in _listed(struct.get("/K")):
        if isinstance(element, pikepdf.Dictionary) and element.get("/S") == "/Document":
            documents.append(element)
            kids.extend(_elements(element.get("/K")))
        elif isinstance(element, pikepdf.Dictionary) and element.is_indirect:
            kids.append(element.objgen[0])
    return kids, documents


def _listed(value) -> list:
    import pikepdf

    return list(value) if isinstance(value, pikepdf.Array) else [] if value is None else [value]


_REFERENCE = re.compile(rb"(\d+) \d+ R")


def _elements(value) -> list[int]:
    """The numbers of the structure elements in ``value`` (a ``/K``): read from qpdf's writing
    of it when it holds only references and marked-content numbers, so that none of the
    elements is read (a piece's Document element has thousands)."""
    import pikepdf

    if isinstance(value, pikepdf.Array):
        text = value.unparse(resolved=True)
        if text.find(b"<") < 0 and text.find(b"(") < 0:  # no dictionary, no string
            return [int(number) for number in _REFERENCE.findall(text)]
    return [
        kid.objgen[0]
        for kid in _listed(value)
        if isinstance(kid, pikepdf.Dictionary) and kid.is_indirect
    ]


def prefixed_ids(struct, prefix: bytes) -> list[tuple[Any, bytes, Any]]:
    """The piece's IDs as (the new ID, a pikepdf String; the old ID's bytes; its element), sorted
    by the new ID (a name tree is in order)."""
    import pikepdf

    pairs = tree_items(struct.IDTree, "/Names") if "/IDTree" in struct else []
    ids = [(pikepdf.String(prefix + bytes(name)), bytes(name), element) for name, element in pairs]
    return sorted(ids, key=lambda id_: bytes(id_[0]))


class Structure:
    """What is kept of the pieces' structure trees from one piece to the next: a number per
    top-level element and per tree leaf, the merged maps."""

    def __init__(self, writer: Writer):
        self.w = writer
        self.kids = (array("I"), array("I"))  # [front run, the rest]: top-level elements
        self.parent_leaves: list[int] = []
        self.id_leaves: list[tuple[bytes, int]] = []  # (the piece's ID prefix, its leaf)
        self.next_key = 0
        self.roles: dict[str, bytes] = {}
        self.classes: dict[str, bytes] = {}
        self.lang: bytes | None = None

    def speak(self, src, kids: list[int], first: bool) -> set[int]:
        """The joined file's language is the first piece's; a piece (``src``) in another language
        gives it to its top-level elements (``kids``) that name none (before the piece is
        written). The numbers of the elements changed."""
        import pikepdf

        lang = src.Root.get("/Lang")
        changed: set[int] = set()
        if first:
            self.lang = bytes(lang) if lang is not None else None
        elif lang is not None and bytes(lang) != self.lang:
            for number in kids:
                kid = src.get_object(number, 0)
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid and "/Lang" not in kid:
                    kid.Lang = lang
                    changed.add(number)
        return changed

    def add(
        self, struct, kids: list[int], side: int, shift: int, writer, ids: list, prefix: bytes
    ) -> None:
        """The piece's top-level elements, parent tree leaf (keys shifted by ``shift``), ID tree
        leaf and maps; ``writer``: the piece's ``renumber.Renumbering``."""
        w, serial = self.w, writer.serial
        self.kids[side].extend(serial.number[kid] for kid in kids if kid in serial.number)
        pairs = tree_items(struct.ParentTree, "/Nums") if "/ParentTree" in struct else []
        keys = [int(key) for key, _ in pairs]
        if keys:
            leaf = w.reserve()
            values = writer.values([value for _, value in pairs])
            body = b" ".join(
                b"%d %s" % (int(key) + shift, value)
                for (key, _), value in zip(pairs, values, strict=True)
            )
            w.obj(
                leaf,
                b"<< /Limits [ %d %d ] /Nums [ %s ] >>"
                % (min(keys) + shift, max(keys) + shift, body),
            )
            self.parent_leaves.append(leaf)
        following = int(struct.get("/ParentTreeNextKey", 0))
        self.next_key += max(following, max(keys) + 1 if keys else 0)
        if ids:
            leaf = w.reserve()
            body = b" ".join(new.unparse() + b" " + serial.ref(element) for new, _, element in ids)
            w.obj(
                leaf,
                b"<< /Limits [ %s %s ] /Names [ %s ] >>"
                % (ids[0][0].unparse(), ids[-1][0].unparse(), body),
            )
            self.id_leaves.append((prefix, leaf))
        for key, into in (("/RoleMap", self.roles), ("/ClassMap", self.classes)):
            for name, value in struct.get(key, {}).items():
                into.setdefault(name, serial.body(value))

    def finish(self, document: bytes) -> None:
        """The one ``Document`` element (``document``: the cover sheet's other keys, written),
        the parent tree, the ID tree and the structure tree's root."""
        w = self.w
        id_leaves = [leaf for _, leaf in sorted(self.id_leaves)]
        w.obj(
            DOCUMENT,
            b"<< /Type /StructElem /S /Document /P %d 0 R /K [ %s ]%s >>"
            % (STRUCT_ROOT, refs(self.kids[0] + self.kids[1]), document),
        )
        w.obj(PARENT_TREE, b"<< /Kids [ %s ] >>" % refs(self.parent_leaves))
        w.obj(ID_TREE, b"<< /Kids [ %s ] >>" % refs(id_leaves))
        root = (
            b"<< /Type /StructTreeRoot /K [ %d 0 R ] /ParentTree %d 0 R /ParentTreeNextKey %d"
            % (DOCUMENT, PARENT_TREE, self.next_key)
        )
        if id_leaves:
            root += b" /IDTree %d 0 R" % ID_TREE
        for key, merged in (("/RoleMap", self.roles), ("/ClassMap", self.classes)):
            if merged:
                root += b" %s << %s >>" % (key.encode(), keys(merged, ()))
        w.obj(STRUCT_ROOT, root + b" >>")
