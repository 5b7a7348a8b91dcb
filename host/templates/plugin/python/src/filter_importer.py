"""{{name}}: a Mailroom filter-importer plugin for "simple filter lines".

A filter importer turns another system's filter export into Mailroom rules.
This one reads a made-up text format, one filter per line:

    FIELD | MATCH | VALUE | ACTION [| ARGUMENT]
    from  | ends-with | @example.com | label | customers

The contract is in wit/v{{contract}}/: filter-importer.wit says what this
plugin exports and returns, types.wit what a rule, a condition and an action
are and, at its end, what the host offers (`interface host`: `log`).
build.sh turns this file into a WebAssembly component with componentize-py.

How componentize-py maps the WIT to Python:
- `wit_world` is generated while build.sh runs; it is not on disk. Run
  `.venv/bin/componentize-py -d wit/v{{contract}} -w {{world}} bindings /tmp/b`
  to see it (handy for an editor).
- records are dataclasses with snake_case fields (`match-type` ->
  `match_type`), enums are Enum members (`begins-with` ->
  `MatchType.BEGINS_WITH`), `option<T>` is a value or None, `list<u8>` is
  `bytes`. The records filter-importer.wit defines itself live in
  `wit_world.exports.filter_importer`, the shared ones in
  `wit_world.imports.types`.
- a variant case is a class named `<Variant>_<Case>`: `test(condition)` is
  `types.ConditionNode_Test(condition)`, `add-label("x")` is
  `types.Action_AddLabel("x")`, the case without a payload `star` is
  `types.Action_Star()`.
- a `result` is returned directly when it is ok; to return an err, raise
  `componentize_py_types.Err(value)`, here with an `ImportError` record
  (the contract's `import-error`, not Python's built-in ImportError).
- the world's own export (`metadata`) is a method of class `WitWorld`, the
  interface's functions (`formats`, `import-filters`) are methods of class
  `FilterImporter`.

The build stubs out WASI: no print(), no files, no clock. Use `host.log`.
"""

from typing import List

from componentize_py_types import Err
from wit_world import WitWorld as _WitWorld
from wit_world.exports import FilterImporter as _FilterImporter
from wit_world.exports import filter_importer as fi
from wit_world.imports import host, types

FORMAT = "simple-lines"

# The words of the format and what each one means in the contract.
FIELDS = {
    "from": types.Field.FROM,
    "to": types.Field.TO,
    "cc": types.Field.CC,
    "subject": types.Field.SUBJECT,
    "body": types.Field.BODY,
}
MATCHES = {
    "contains": types.MatchType.CONTAINS,
    "is": types.MatchType.IS,
    "begins-with": types.MatchType.BEGINS_WITH,
    "ends-with": types.MatchType.ENDS_WITH,
}
# Actions that need an argument, and those that take none.
ACTIONS_WITH_ARGUMENT = {"label": types.Action_AddLabel, "move": types.Action_MoveTo}
ACTIONS_WITHOUT = {
    "star": types.Action_Star,
    "mark-read": types.Action_MarkRead,
    "archive": types.Action_Archive,
}


class Skip(Exception):
    """A line that cannot be imported; the message says why."""


def parse_line(text: str, n: int) -> types.Rule:
    parts = [part.strip() for part in text.split("|")]
    if len(parts) < 4 or len(parts) > 5:
        raise Skip(
            "expected FIELD | MATCH | VALUE | ACTION [| ARGUMENT], found %d part(s)"
            % len(parts)
        )
    field, match, value, action = parts[:4]
    argument = parts[4] if len(parts) == 5 else ""
    if field not in FIELDS:
        raise Skip("unknown field `%s`: use one of %s" % (field, ", ".join(FIELDS)))
    if match not in MATCHES:
        raise Skip("unknown match `%s`: use one of %s" % (match, ", ".join(MATCHES)))
    if action in ACTIONS_WITH_ARGUMENT:
        if not argument:
            raise Skip("action `%s` needs an argument, e.g. `%s | Name`" % (action, action))
        act = ACTIONS_WITH_ARGUMENT[action](argument)
    elif action in ACTIONS_WITHOUT:
        if argument:
            raise Skip("action `%s` takes no argument, found `%s`" % (action, argument))
        act = ACTIONS_WITHOUT[action]()
    else:
        known = list(ACTIONS_WITH_ARGUMENT) + list(ACTIONS_WITHOUT)
        raise Skip("unknown action `%s`: use one of %s" % (action, ", ".join(known)))

    condition = types.Condition(
        field=FIELDS[field],
        header_name=None,
        match_type=MATCHES[match],
        value=value,
        case_sensitive=False,
    )
    return types.Rule(
        name="line %d" % n,
        enabled=True,
        # A condition tree is a flat list whose node 0 is the root (types.wit
        # `condition-node`); one test is a tree of one node.
        conditions=[types.ConditionNode_Test(condition)],
        actions=[act],
        # Where the rule came from, so a re-import replaces it; the host
        # fills in the file's SHA-256.
        source=types.RuleSource(
            format=FORMAT, file_sha256="", filter_id=None, line=n, column=1
        ),
    )


class WitWorld(_WitWorld):
    def metadata(self) -> types.Metadata:
        # The host reads this when the plugin is uploaded.
        return types.Metadata(
            name="{{name}}",
            version="0.1.0",
            kind=types.PluginKind.FILTER_IMPORTER,
            description="Imports filters written as simple `FIELD | MATCH | VALUE | ACTION` lines",
            config_keys=[],
            permissions=[],
        )


class FilterImporter(_FilterImporter):
    def formats(self) -> List[fi.FilterFormat]:
        # The host offers this importer for files with these extensions.
        return [fi.FilterFormat(id=FORMAT, name="Simple filter lines", extensions=["txt"])]

    def import_filters(self, format: str, data: bytes) -> fi.ImportedRules:
        # An err means "cannot import this file at all"; the host may hand us
        # a file of another format, so refuse it rather than guess.
        if format != FORMAT:
            raise Err(fi.ImportError(
                message="unknown format `%s`: this plugin reads %s" % (format, FORMAT),
                line=None,
                column=None,
            ))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Err(fi.ImportError(message="the file is not UTF-8 text", line=None, column=None))

        # A byte order mark (Notepad writes one) is not part of the first
        # line. (Not the "utf-8-sig" codec: componentize-py bundles only the
        # modules the code imports, and codecs are imported by name at run time.)
        if text.startswith("\ufeff"):
            text = text[1:]

        rules: List[types.Rule] = []
        warnings: List[fi.ImportWarning] = []
        # split("\n"), not splitlines(): only a newline ends a line, so line
        # numbers match what an editor shows (strip() drops a "\r").
        for n, line in enumerate(text.split("\n"), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                rules.append(parse_line(line, n))
            except Skip as why:
                # A bad line is a warning, not an error: the rest still imports.
                warnings.append(fi.ImportWarning(
                    location="line %d" % n,
                    message=str(why),
                    line=n,
                    column=None,
                    filter_id=None,
                    rule_index=None,
                ))
        host.log(host.LogLevel.INFO, "%d rule(s), %d warning(s)" % (len(rules), len(warnings)))
        return fi.ImportedRules(rules=rules, warnings=warnings)
