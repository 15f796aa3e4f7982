"""Field extraction and multivalue commands: rex, regex, mvexpand, makemv, spath, xmlkv, replace,
convert."""

from __future__ import annotations

import re

from sqlglot import exp

from huntbook.errors import UnsupportedSplError
from huntbook.query.spl import ast
from huntbook.query.spl.compiler.basic import assign, assign_many, expand
from huntbook.query.spl.compiler.search import re_escape_text
from huntbook.query.spl.compiler.state import Field, State, alias
from huntbook.query.spl.compiler.timefuncs import format_epoch, splunk_format
from huntbook.query.spl.compiler.values import (
    LIST,
    NULL,
    NUM,
    TEXT,
    Val,
    any_element,
    as_list,
    as_num,
    as_text,
    col,
    fn,
    lit,
    not_null,
    typed_null,
)
from huntbook.query.spl.functions import spath_path
from huntbook.query.spl.regex import pcre_to_re2, re2_pattern

_HEX_BRACED = re.compile(r"(?<!\\)((?:\\\\)*)\\x\{([0-9A-Fa-f]{1,6})\}")


def _group_indexes(pattern: str, state: State, pos: int) -> dict[str, int]:
    r"""Named groups and their numbers (Python's re reads ``(?P<n>...)`` like RE2 does; RE2's and
    PCRE's ``\x{202E}``, which Python spells ``\U0000202e``, is rewritten for the count)."""
    python = _HEX_BRACED.sub(lambda m: f"{m.group(1)}\\U{int(m.group(2), 16):08x}", pattern)
    try:
        return dict(re.compile(python).groupindex)
    except re.error as exc:
        raise state.ctx.error(f"invalid regular expression: {exc}", pos) from None


def compile_rex(cmd: ast.Rex, state: State) -> State:
    """Named groups become fields; no match leaves fields as they were (spl.md §4 rex)."""
    source = as_text(state.get(cmd.field))
    if cmd.mode == "sed":
        return _rex_sed(cmd, state, source)
    pattern = pcre_to_re2(cmd.pattern)
    groups = _group_indexes(pattern, state, cmd.pos)
    values: list[tuple[str, Val]] = []
    for name, index in groups.items():
        old = state.get(name)
        if cmd.max_match == 1:
            extracted = exp.Nullif(
                this=_extract_group(source, pattern, index, state), expression=lit("")
            )
            matched = exp.RegexpLike(this=source.copy(), expression=lit(pattern))
            keep = as_text(old) if old.kind != NULL else typed_null(TEXT)
            values.append(
                (
                    name,
                    Val(exp.Case(ifs=[exp.If(this=matched, true=extracted)], default=keep), TEXT),
                )
            )
        else:
            every: exp.Expr = exp.RegexpExtractAll(
                this=source.copy(), expression=lit(pattern), group=lit(index)
            )
            if cmd.max_match > 1:
                every = fn("list_slice", every, lit(1), lit(cmd.max_match))
            empty = exp.EQ(this=exp.ArraySize(this=every), expression=lit(0))
            keep = as_list(old)
            values.append(
                (
                    name,
                    Val(exp.Case(ifs=[exp.If(this=empty, true=keep)], default=every.copy()), LIST),
                )
            )
    return assign_many(state, values) if values else state


_MAX_GROUP_INDEX = 9  # DuckDB's regexp_extract(s, p, n) takes a group number 0..9


def _extract_group(source: exp.Expr, pattern: str, index: int, state: State) -> exp.Expr:
    """Group ``index`` of the first match; past group 9, through DuckDB's struct form
    ``regexp_extract(s, p, ['g1', ..., 'gN'])['gN']`` (the group list names groups 1..N)."""
    if index <= _MAX_GROUP_INDEX:
        return exp.RegexpExtract(this=source.copy(), expression=lit(pattern), group=lit(index))
    names = [lit(f"g{i}") for i in range(1, index + 1)]
    struct = exp.RegexpExtract(
        this=source.copy(), expression=lit(pattern), group=exp.Array(expressions=names)
    )
    return exp.Bracket(this=struct, expressions=[lit(f"g{index}")])


_SED = re.compile(r"^s(.)(.*?)(?<!\\)\1(.*?)(?<!\\)\1([gi\d]*)$", re.DOTALL)
_TRANSLATE = re.compile(r"^y(.)(.*?)\1(.*?)\1$", re.DOTALL)


def _rex_sed(cmd: ast.Rex, state: State, source: exp.Expr) -> State:
    m = _SED.match(cmd.pattern)
    if m:
        regex = re2_pattern(m.group(2), "rex mode=sed", state.ctx.text, cmd.pos)
        repl, flags = m.group(3), m.group(4)
        if any(ch.isdigit() for ch in flags):
            raise UnsupportedSplError(
                "rex mode=sed: replacing only the Nth match is not supported",
                state.ctx.text,
                cmd.pos,
            )
        if "g" in flags and "i" not in flags:
            replaced: exp.Expr = exp.RegexpReplace(
                this=source, expression=lit(regex), replacement=lit(repl), modifiers=lit("g")
            )
        else:
            # First match only (or case-insensitive): DuckDB's own flags; Spark replaces all.
            modifiers = ("g" if "g" in flags else "") + ("i" if "i" in flags else "")
            args = [source, lit(regex), lit(repl)] + ([lit(modifiers)] if modifiers else [])
            replaced = exp.Anonymous(this="REGEXP_REPLACE", expressions=args)
        return assign(state, cmd.field, Val(replaced, TEXT), cmd.pos)
    t = _TRANSLATE.match(cmd.pattern)
    if t:
        translated = fn("translate", source, lit(t.group(2)), lit(t.group(3)))
        return assign(state, cmd.field, Val(translated, TEXT), cmd.pos)
    raise state.ctx.error("rex mode=sed expects s/regex/replacement/[g] or y/abc/xyz/", cmd.pos)


def compile_regex(cmd: ast.Regex, state: State) -> State:
    v = state.get(cmd.field)
    pattern = pcre_to_re2(cmd.pattern)
    if v.kind == NULL:
        test: exp.Expr = exp.false()
    elif v.kind == LIST:
        test = any_element(v.expr, exp.RegexpLike(this=col("__r"), expression=lit(pattern)), "__r")
    else:
        test = exp.RegexpLike(this=as_text(v), expression=lit(pattern))
    if cmd.negate:
        test = exp.and_(not_null(v.expr.copy()), exp.Not(this=test), copy=False)
    return state.then(state.select_from(exp.Star()).where(test, copy=False))


def compile_mvexpand(cmd: ast.MvExpand, state: State) -> State:
    """One row per value; rows without the field produce no row (as UNNEST does)."""
    v = state.get(cmd.field)
    if v.kind != LIST:
        return state
    values = v.expr
    if cmd.limit is not None and cmd.limit > 0:
        values = fn("list_slice", values, lit(1), lit(cmd.limit))
    internal = state.fresh_sql(cmd.field)
    select = state.select_from(exp.Star(), alias(exp.Explode(this=values), internal))
    fields = dict(state.fields)
    fields[cmd.field] = Field(cmd.field, internal, TEXT)
    return state.then(select, fields=fields, added=[internal])


def compile_makemv(cmd: ast.MakeMv, state: State) -> State:
    text = as_text(state.get(cmd.field))
    if cmd.tokenizer:
        values: exp.Expr = exp.RegexpExtractAll(
            this=text, expression=lit(pcre_to_re2(cmd.tokenizer)), group=lit(1)
        )
    else:
        values = exp.Split(this=text, expression=lit(cmd.delim))
    if not cmd.allowempty:
        lam = exp.Lambda(
            this=exp.NEQ(this=col("__s"), expression=lit("")),
            expressions=[exp.to_identifier("__s")],
        )
        values = exp.ArrayFilter(this=values, expression=lam)
    return assign(state, cmd.field, Val(values, LIST), cmd.pos)


def compile_spath(cmd: ast.Spath, state: State) -> State:
    if cmd.path is None:
        return _spath_auto(cmd, state)
    source = as_text(state.get(cmd.input))
    value = exp.JSONExtractScalar(this=source, expression=lit(spath_path(cmd.path)))
    return assign(state, cmd.output or cmd.path, Val(value, TEXT), cmd.pos)


_SPATH_NAME = re.compile(r"^[^_{}.][^{}.]*(?:\{\}|\.[^{}.]+)*$")  # a.b, a{}.c: object keys


def _spath_auto(cmd: ast.Spath, state: State) -> State:
    """spath without path=: every JSON leaf becomes a field named by its path (``a.b``, ``a{}.c``
    for the values of an array, a multivalue); on XML input (text starting with ``<``) every
    element holding text, named by its element path from the root (``Event.System.Computer``).
    The names come from the data, so only the ones later commands name are extracted
    (``ctx.needed``); a field the input lacks, or input that is neither, leaves the field as it
    was. XML attributes (``a{@name}``) are not extracted.
    """
    needed = state.ctx.needed
    if needed is None:
        raise UnsupportedSplError(
            "spath without path= creates fields named by the data; huntbook extracts the ones "
            "later commands name, so end the search with table, fields or stats naming them "
            "(no wildcard), or give path=",
            state.ctx.text,
            cmd.pos,
        )
    source = as_text(state.get(cmd.input))
    names = sorted(n for n in needed if _SPATH_NAME.match(n) and n != cmd.input)
    values = [(name, _json_or_xml_leaf(source, name, state.get(name))) for name in names]
    if values:
        state.ctx.warn("spath without path= tests its input with DuckDB's json_valid (DuckDB only)")
    return assign_many(state, values) if values else state


def _json_or_xml_leaf(source: exp.Expr, name: str, old: Val) -> Val:
    """The JSON leaf at ``name``, or on XML input (text starting with ``<``) the element's text;
    ``old`` where the input has neither."""
    json = _json_leaf(source, name, old)
    xml = _xml_leaf(source, name)
    if xml is None:  # not an element path (a{}.b): JSON only
        return json
    keep = as_text(old) if old.kind != NULL else typed_null(TEXT)
    present = exp.RegexpLike(this=source.copy(), expression=xml.expression.copy())
    in_xml = exp.Case(ifs=[exp.If(this=present, true=xml)], default=keep)
    is_xml = exp.Like(this=exp.Trim(this=source.copy()), expression=lit("<%"))
    return Val(exp.Case(ifs=[exp.If(this=is_xml, true=in_xml)], default=json.expr), TEXT)


_XML_PATH = re.compile(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$")  # element names, dotted


def _xml_leaf(source: exp.Expr, name: str) -> exp.RegexpExtract | None:
    """The text of the first element at path ``name`` (each element inside the one before it;
    not XML-unescaped), or None when ``name`` is no element path."""
    if not _XML_PATH.match(name):
        return None
    *outer, leaf = name.split(".")
    opening = "".join(rf"<{re_escape_text(e)}(?:\s[^>]*)?>(?s:.*?)" for e in outer)
    leaf_re = re_escape_text(leaf)
    regex = rf"{opening}<{leaf_re}(?:\s[^>]*)?>([^<]*)</{leaf_re}>"
    return exp.RegexpExtract(this=source.copy(), expression=lit(regex), group=lit(1))


def _json_leaf(source: exp.Expr, name: str, old: Val) -> Val:
    """The JSON value at path ``name`` when ``source`` is JSON holding it, else ``old``."""
    path = lit(spath_path(name))
    if "{}" in name:
        extracted: exp.Expr = fn("json_extract_string", source.copy(), path)
        keep, kind = as_list(old), LIST
        found: exp.Expr = exp.GT(this=exp.ArraySize(this=extracted.copy()), expression=lit(0))
    else:
        extracted = exp.JSONExtractScalar(this=source.copy(), expression=path)
        keep, kind = (as_text(old) if old.kind != NULL else typed_null(TEXT)), TEXT
        found = not_null(extracted.copy())
    test = exp.and_(fn("json_valid", source.copy()), found, copy=False)
    return Val(exp.Case(ifs=[exp.If(this=test, true=extracted)], default=keep), kind)


_JSON_KEY = re.compile(r'^[^"\\]+$')  # a top-level key quotable in a JSON path


def compile_fromjson(cmd: ast.FromJson, state: State) -> State:
    """Splunk's fromjson: each top-level key of the field's JSON object becomes a field
    (``prefix`` + key): strings as they are, numbers and booleans as text, arrays as multivalue
    fields (nested objects in them as JSON text), objects as JSON text. The keys come from the
    data, so only the ones later commands name are extracted (``ctx.needed``); input that is not
    a JSON object, or lacks the key, leaves the field as it was.
    """
    needed = state.ctx.needed
    if needed is None:
        raise UnsupportedSplError(
            "fromjson creates fields named by the data; huntbook extracts the ones later "
            "commands name, so end the search with table, fields or stats naming them "
            "(no wildcard)",
            state.ctx.text,
            cmd.pos,
        )
    state.ctx.refuse_on_spark("fromjson")
    source = as_text(state.get(cmd.field))
    names = sorted(
        n
        for n in needed
        if n.startswith(cmd.prefix) and n != cmd.field and _JSON_KEY.match(n[len(cmd.prefix) :])
    )
    values = [(n, _json_key(source, n[len(cmd.prefix) :], state.get(n))) for n in names]
    return assign_many(state, values) if values else state


def _json_key(source: exp.Expr, key: str, old: Val) -> Val:
    """The value of top-level ``key`` as a multivalue (one value unless it is an array)."""
    path = lit(f'$."{key}"')
    kind = fn("json_type", source.copy(), path.copy())
    elements = fn("json_extract_string", source.copy(), lit(f'$."{key}"[*]'))
    single = exp.Array(expressions=[fn("json_extract_string", source.copy(), path.copy())])
    value = exp.Case(
        ifs=[
            exp.If(this=exp.EQ(this=kind.copy(), expression=lit("NULL")), true=typed_null(LIST)),
            exp.If(
                this=exp.EQ(this=kind.copy(), expression=lit("ARRAY")),
                true=_null_if_empty_list(elements),
            ),
        ],
        default=single,
    )
    is_object = exp.EQ(this=fn("json_type", source.copy()), expression=lit("OBJECT"))
    found = exp.and_(is_object, fn("json_exists", source.copy(), path))
    keep = as_list(old)
    in_json = exp.Case(ifs=[exp.If(this=found, true=value)], default=keep.copy())
    # CASE, not AND: the JSON functions only see text json_valid accepted
    valid = fn("json_valid", source.copy())
    return Val(exp.Case(ifs=[exp.If(this=valid, true=in_json)], default=keep), LIST)


def _null_if_empty_list(lst: exp.Expr) -> exp.Expr:
    empty = exp.EQ(this=exp.ArraySize(this=lst), expression=lit(0))
    return exp.Case(ifs=[exp.If(this=empty, true=typed_null(LIST))], default=lst.copy())


_XML_KEY = re.compile(r"^[A-Za-z]\w*$")  # a key usable as an XML tag and a regex group name


def compile_xmlkv(cmd: ast.XmlKv, state: State) -> State:
    """Splunk's xmlkv: ``<key>value</key>`` makes ``key=value``, from the first such element.

    The keys come from the data, so only the ones later commands name are extracted (the
    compiler's look-ahead, ``ctx.needed``); each is a rex that leaves the field as it was when
    the element is absent. Elements with children have no value of their own.
    """
    needed = state.ctx.needed
    if needed is None:
        raise UnsupportedSplError(
            "xmlkv creates fields named by the data; huntbook extracts the ones later commands "
            "name, so end the search with table, fields or stats naming them (no wildcard)",
            state.ctx.text,
            cmd.pos,
        )
    for key in sorted(n for n in needed if _XML_KEY.match(n) and n != cmd.field):
        pattern = rf"<{key}(?:\s[^>]*)?>(?P<{key}>[^<]*)</{key}>"
        state = compile_rex(ast.Rex(pattern, cmd.field, pos=cmd.pos), state)
    return state


def compile_replace(cmd: ast.Replace, state: State) -> State:
    """Splunk's replace: a field value equal to a (wildcard) string becomes its replacement.

    Search Reference, replace: later exact values take precedence over earlier ones, fuller
    wildcard matches over lesser ones (here: more fixed characters first); `*` in the
    replacement puts back what the wildcard matched. Each value is replaced once.
    """
    exact = [(old, new) for old, new in reversed(cmd.pairs) if "*" not in old]
    wild = sorted(
        ((old, new) for old, new in cmd.pairs if "*" in old),
        key=lambda pair: -len(pair[0].replace("*", "")),
    )
    if any("*" in new for _, new in cmd.pairs):
        state.ctx.warn(
            "replace with a wildcard in the replacement uses \\1 back-references (DuckDB)"
        )
    values: list[tuple[str, Val]] = []
    for name in expand(cmd.fields, [f.name for f in state.visible()]):
        v = state.get(name)
        if v.kind == NULL:
            continue
        if v.kind == LIST:
            var = exp.to_identifier("__v")
            lam = exp.Lambda(this=_replaced(col("__v"), exact + wild), expressions=[var])
            values.append((name, Val(fn("list_transform", v.expr, lam), LIST)))
        else:
            values.append((name, Val(_replaced(as_text(v), exact + wild), TEXT)))
    return assign_many(state, values) if values else state


def _replaced(value: exp.Expr, pairs: list[tuple[str, str]]) -> exp.Expr:
    ifs: list[exp.If] = []
    for old, new in pairs:
        if "*" not in old:
            ifs.append(exp.If(this=exp.EQ(this=value.copy(), expression=lit(old)), true=lit(new)))
            continue
        regex = "(?s)^" + "(.*)".join(re_escape_text(part) for part in old.split("*")) + "$"
        matched = exp.RegexpLike(this=value.copy(), expression=lit(regex))
        parts = new.split("*")
        template = "".join(
            part.replace("\\", "\\\\") + (f"\\{i + 1}" if i < len(parts) - 1 else "")
            for i, part in enumerate(parts)
        )
        rewritten = exp.RegexpReplace(
            this=value.copy(), expression=lit(regex), replacement=lit(template)
        )
        ifs.append(exp.If(this=matched, true=rewritten))
    return exp.Case(ifs=ifs, default=value.copy())


def compile_convert(cmd: ast.Convert, state: State) -> State:
    for func, field, target in cmd.conversions:
        v = state.get(field)
        if func == "ctime":
            text = format_epoch(as_num(v), cmd.timeformat)
            state = assign(state, target, Val(text, TEXT), cmd.pos)
        elif func in ("num", "auto"):
            state = assign(state, target, Val(as_num(v), NUM), cmd.pos)
        elif func == "mktime":
            parsed = fn("try_strptime", as_text(v), lit(splunk_format(cmd.timeformat)))
            state = assign(state, target, Val(exp.TimeToUnix(this=parsed), NUM), cmd.pos)
        elif func == "none":
            continue
        else:
            raise UnsupportedSplError(f"unsupported conversion {func}()", state.ctx.text, cmd.pos)
    return state
