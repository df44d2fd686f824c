"""YAML files a clinic gives us (configs, rule files), read safely, within limits, with lines.

- Safe loading only (no Python objects), the C loader when available, YAML 1.2 booleans
  (only true/false: YAML 1.1 would turn the window key ``on`` or a value ``no`` into a bool),
  and dates left as text for the schema to check.
- Limits, each answered with one sentence naming the file: at most ``MAX_BYTES`` bytes, at
  most ``MAX_DEPTH`` levels of nesting, and at most ``MAX_NODES`` values once aliases are
  expanded (a "billion laughs" file of aliases to aliases is refused before it is built).
  An alias that refers to itself is refused too.
- Every value's line is recorded by path, so a validation error can name file, line, field.

Also here: turning pydantic's validation errors into a field name and our own words
(shared by the rule-file and clinic-config schemas). PyYAML is imported only when a file
is read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mesocare.errors import YamlError

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

MAX_BYTES = 1_000_000  # 1 MB: our whole rule set is about 40 kB
MAX_DEPTH = 32  # levels of nested mappings and lists
MAX_NODES = 100_000  # values after expanding aliases

_LOADER = None


def _yaml_loader():
    """The safe loader (the C one when available), with YAML 1.2 booleans: only true/false."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class Loader(base):  # type: ignore[misc, valid-type]
            pass

        # dates stay text: the schemas parse them, so a date such as 2024-02-30 is a named
        # field error rather than an exception inside the YAML library
        dropped = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
        Loader.yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag not in dropped]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }
        Loader.add_implicit_resolver(
            "tag:yaml.org,2002:bool",
            re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
            list("tTfF"),
        )
        _LOADER = Loader
    return _LOADER


def read_text(path: Path, name: str) -> str:
    """A YAML file's text (UTF-8), refused past ``MAX_BYTES``. Raises YamlError or OSError."""
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise YamlError(
            name,
            None,
            None,
            f"is larger than {MAX_BYTES // 1_000_000} MB, the most mesocare reads in a YAML file",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise YamlError(name, None, None, "is not UTF-8 text: save it as UTF-8") from None


def _check_depth(text: str, file: str) -> None:
    """Walk the event stream (flat, no recursion) and refuse nesting deeper than MAX_DEPTH."""
    import yaml

    loader = _yaml_loader()(text)
    depth = 0
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise YamlError(
                        file,
                        line,
                        None,
                        f"nested more than {MAX_DEPTH} levels deep, the most mesocare reads",
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    finally:
        loader.dispose()


def _children(node) -> list:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return []


def _check_expansion(root, file: str) -> None:
    """Count the values the node graph expands to (aliases counted in full), without building it."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # iterative post-order walk; a node shared by aliases is sized once and counted each time
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(c)] for c in _children(node))
            if size > MAX_NODES:
                raise YamlError(
                    file,
                    node.start_mark.line + 1,
                    None,
                    f"expands to more than {MAX_NODES:,} values (aliases repeat what they point "
                    "to): write the values out",
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlError(
                file, node.start_mark.line + 1, None, "an alias refers to the value it is inside"
            )
        on_path.add(key)
        stack.append((node, True))
        for child in reversed(_children(node)):
            if id(child) in on_path:
                raise YamlError(
                    file,
                    child.start_mark.line + 1,
                    None,
                    "an alias refers to the value it is inside",
                )
            if id(child) not in sizes:
                stack.append((child, False))


def _index_lines(node, path: tuple, lines: dict[tuple, int]) -> None:
    """Record the line (1-based) where each value in the YAML tree starts, by path."""
    import yaml

    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _index_lines(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), lines)


def load_yaml_with_lines(text: str, file: str) -> tuple[Any, dict[tuple, int]]:
    """Parse YAML safely within the limits; return the data and a map from path to line.

    Raises YamlError (file, line, problem) for bad YAML or a file past a limit.
    """
    import yaml

    if len(text.encode("utf-8")) > MAX_BYTES:
        raise YamlError(
            file,
            None,
            None,
            f"is larger than {MAX_BYTES // 1_000_000} MB, the most mesocare reads in a YAML file",
        )
    try:
        _check_depth(text, file)
        loader = _yaml_loader()(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}
            _check_expansion(node, file)
            try:
                data = loader.construct_document(node)
            except (ValueError, OverflowError, TypeError) as e:  # e.g. an integer of 5,000 digits
                raise YamlError(
                    file, None, None, f"a value cannot be read ({e.__class__.__name__})"
                ) from None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = (e.problem or e.context or "cannot be read").strip()
        raise YamlError(file, line, None, f"not valid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise YamlError(file, None, None, f"not valid YAML: {e}") from None
    lines: dict[tuple, int] = {}
    _index_lines(node, (), lines)
    return data, lines


# ----------------------------------------------------------------------------- validation words


def line_for(lines: dict[tuple, int], loc: tuple) -> int | None:
    """The line of the deepest part of ``loc`` that the file has."""
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


_PYDANTIC_WORDS = {
    "extra_forbidden": "unknown key",
    "missing": "is missing",
}


def field_name(loc: tuple) -> str:
    """("rules", 3, "window", "before") -> "window.before"; ("rules", 3) -> "rules"."""
    parts = [str(p) for p in loc if not isinstance(p, int)]
    if len(parts) > 1 and parts[0] in ("rules", "notes", "disable"):
        parts = parts[1:]
    # pydantic adds union branch names ("str", "constrained-str", "UnitText", "list[...]")
    # to the path; our own keys are lower case words
    parts = [p for p in parts if re.fullmatch(r"[a-z_]+", p) and p != "str"]
    return ".".join(parts) if parts else (str(loc[0]) if loc else "")


def problem_words(err: ErrorDetails) -> str:
    """One pydantic error in our words."""
    kind = err.get("type", "")
    if kind in _PYDANTIC_WORDS:
        return _PYDANTIC_WORDS[kind]
    msg = err.get("msg", "is not valid")
    msg = msg.removeprefix("Value error, ")
    if kind == "literal_error":
        got = err.get("input")
        return f"'{got}' is not allowed: {msg[0].lower()}{msg[1:]}"
    if kind.startswith("date_") or kind == "date_type":
        got = err.get("input")
        return f"'{got}' is not a real date: write it as YYYY-MM-DD, for example 2024-06-10"
    return msg[0].lower() + msg[1:] if msg else "is not valid"
