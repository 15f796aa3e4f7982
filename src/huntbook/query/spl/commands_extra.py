"""Parse functions of addtotals, fieldsummary, fromjson, outputlookup and iplocation (issue 11):
``parse_<name>(cursor, subsearch) -> ast node``. An option a command does not implement is
refused by name, never ignored.
"""

from __future__ import annotations

from huntbook.errors import UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.commands import Subsearch
from huntbook.query.spl.cursor import Cursor, to_bool, to_int
from huntbook.query.spl.tokens import Token, TokenType


def _options_and_names(
    cur: Cursor, command: str, known: tuple[str, ...]
) -> tuple[dict[str, Token], list[str]]:
    """``key=value`` options (only ``known`` ones) and the other words, commas skipped."""
    opts: dict[str, Token] = {}
    names: list[str] = []
    while not cur.at_end():
        if cur.accept(TokenType.COMMA):
            continue
        if cur.peek(1).is_op("="):
            key_tok = cur.peek()
            key, value = cur.option()
            if key not in known:
                raise UnsupportedSplError(
                    f"{command} option {key}= is not supported (only {', '.join(known)})",
                    cur.text,
                    key_tok.start,
                )
            opts[key] = value
        else:
            names.append(cur.name())
    return opts, names


def _one_name(cur: Cursor, names: list[str], command: str, what: str) -> str:
    if len(names) != 1:
        raise cur.error(f"{command} takes one {what}")
    return names[0]


def parse_addtotals(cur: Cursor, sub: Subsearch) -> ast.AddTotals:
    known = ("row", "col", "labelfield", "label", "fieldname")
    opts, names = _options_and_names(cur, "addtotals", known)
    return ast.AddTotals(
        tuple(names),
        to_bool(opts["row"], cur) if "row" in opts else True,
        to_bool(opts["col"], cur) if "col" in opts else False,
        opts["labelfield"].value if "labelfield" in opts else None,
        opts["label"].value if "label" in opts else "Total",
        opts["fieldname"].value if "fieldname" in opts else "Total",
    )


def parse_fieldsummary(cur: Cursor, sub: Subsearch) -> ast.FieldSummary:
    opts, names = _options_and_names(cur, "fieldsummary", ("maxvals",))
    maxvals = to_int(opts["maxvals"], cur) if "maxvals" in opts else 100
    if maxvals < 0:
        raise cur.error("fieldsummary maxvals= cannot be negative", opts["maxvals"])
    return ast.FieldSummary(tuple(names), maxvals)


def parse_fromjson(cur: Cursor, sub: Subsearch) -> ast.FromJson:
    opts, names = _options_and_names(cur, "fromjson", ("prefix",))
    field = _one_name(cur, names, "fromjson", "field (the JSON text)")
    return ast.FromJson(field, opts["prefix"].value if "prefix" in opts else "")


def parse_outputlookup(cur: Cursor, sub: Subsearch) -> ast.OutputLookup:
    known = ("append", "create_empty", "override_if_empty", "max")
    opts, names = _options_and_names(cur, "outputlookup", known)
    table = _one_name(cur, names, "outputlookup", "lookup file name")
    return ast.OutputLookup(
        table,
        to_bool(opts["append"], cur) if "append" in opts else False,
        to_bool(opts["create_empty"], cur) if "create_empty" in opts else True,
        to_bool(opts["override_if_empty"], cur) if "override_if_empty" in opts else True,
        to_int(opts["max"], cur) if "max" in opts else None,
    )


def parse_iplocation(cur: Cursor, sub: Subsearch) -> ast.IpLocation:
    opts, names = _options_and_names(cur, "iplocation", ("prefix", "allfields", "lang"))
    field = _one_name(cur, names, "iplocation", "IP address field")
    return ast.IpLocation(
        field,
        opts["prefix"].value if "prefix" in opts else "",
        to_bool(opts["allfields"], cur) if "allfields" in opts else False,
        opts["lang"].value if "lang" in opts else "en",
    )
