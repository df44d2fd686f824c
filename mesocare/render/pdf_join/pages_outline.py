"""The joined file's pages and outline: every piece's pages in order under one page tree (a
blank page after a piece with an odd number of pages when the batch is printed on both sides),
and one outline whose entries point at the same pages as in the pieces."""

from __future__ import annotations

from array import array

from mesocare.render.pdf_join.objects import OUTLINES, PAGES, Writer, real, refs


def outline_entries(pdf) -> list[tuple[str, int]]:
    """(title, page index) of each top-level outline entry of ``pdf``, in order."""
    import pikepdf

    where = {page.objgen: index for index, page in enumerate(pdf.pages)}
    entries = []
    with pdf.open_outline() as outline:
        for item in outline.root:
            target = item.destination
            if isinstance(target, pikepdf.Array) and len(target) and target[0].objgen in where:
                entries.append((item.title, where[target[0].objgen]))
    return entries


def outline_items(root) -> set[tuple[int, int]]:
    """The objects of a piece's outline (written anew in the joined file)."""
    found = set()
    stack = [root.Outlines] if "/Outlines" in root else []
    while stack:
        item = stack.pop()
        if item.is_indirect:
            found.add(item.objgen)
        stack.extend(item[key] for key in ("/First", "/Next") if key in item)
    return found


class Pages:
    """The page objects and outline entries kept from one piece to the next, for the front run
    (the cover sheet, whose pieces come last) and the rest."""

    def __init__(self, writer: Writer, duplex: bool):
        self.w, self.duplex = writer, duplex
        self.pages = (array("I"), array("I"))
        self.entries: tuple[list[tuple[str, int]], list[tuple[str, int]]] = ([], [])
        self.size: tuple[float, ...] | None = None

    def add(self, src, number: dict[int, int], side: int, shift: int) -> set[int]:
        """The piece's pages under the one page tree, their keys into the parent tree shifted by
        ``shift`` (changed on the piece's objects, before they are written); its outline. The
        numbers of the objects changed (written through pikepdf, not as the piece wrote them)."""
        import pikepdf

        tree = src.Root.Pages
        if self.size is None and len(src.pages):
            self.size = tuple(float(x) for x in src.pages[0].mediabox)[2:]
        pages = self.pages[side]
        changed: set[int] = set()
        for page in src.pages:
            obj = page.obj
            if obj.get("/Parent") is None or obj.Parent.objgen != tree.objgen:
                obj.Parent = tree
                changed.add(obj.objgen[0])
            if shift and "/StructParents" in obj:
                obj.StructParents = int(obj.StructParents) + shift
                changed.add(obj.objgen[0])
            annots = obj.get("/Annots", [])
            for annot in annots:
                if shift and isinstance(annot, pikepdf.Dictionary) and "/StructParent" in annot:
                    annot.StructParent = int(annot.StructParent) + shift
                    # the object that holds the annotation's dictionary
                    holder = annot if annot.is_indirect else annots if annots.is_indirect else obj
                    changed.add(holder.objgen[0])
            pages.append(number[obj.objgen[0]])
        here = pages[len(pages) - len(src.pages) :]
        self.entries[side].extend((title, here[page]) for title, page in outline_entries(src))
        return changed

    def pad(self, side: int) -> None:
        """A blank page when the run ends on an odd page and the batch is printed on both sides."""
        pages = self.pages[side]
        if self.duplex and len(pages) % 2:
            blank = self.w.reserve()
            size = self.size or (595.28, 841.89)
            self.w.obj(
                blank,
                b"<< /Type /Page /MediaBox [ 0 0 %s %s ] /Resources << >> /Parent %d 0 R >>"
                % (real(size[0]), real(size[1]), PAGES),
            )
            pages.append(blank)

    def finish(self) -> int:
        """The page tree and the outline; the number of pages."""
        import pikepdf

        w = self.w
        self.pad(0)  # the front run ends on a new sheet too
        pages = self.pages[0] + self.pages[1]
        entries = self.entries[0] + self.entries[1]
        w.obj(PAGES, b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (len(pages), refs(pages)))
        items = [w.reserve() for _ in entries]
        for i, (title, page) in enumerate(entries):
            links = b"".join(
                [
                    b" /Prev %d 0 R" % items[i - 1] if i else b"",
                    b" /Next %d 0 R" % items[i + 1] if i + 1 < len(items) else b"",
                ]
            )
            w.obj(
                items[i],
                b"<< /Title %s /Parent %d 0 R%s /Dest [ %d 0 R /Fit ] >>"
                % (pikepdf.String(title).unparse(), OUTLINES, links, page),
            )
        if items:
            w.obj(
                OUTLINES,
                b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>"
                % (items[0], items[-1], len(items)),
            )
        else:
            w.obj(OUTLINES, b"<< /Type /Outlines /Count 0 >>")
        return len(pages)
