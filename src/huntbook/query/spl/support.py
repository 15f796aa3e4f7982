"""The support matrix: per command its status and known deviations, read by docs/spl-support.md.

``COMMAND_SUPPORT`` must name every command in ``parser.COMMAND_PARSERS`` (a test checks it);
functions and stats aggregates carry their notes in ``FUNCTIONS`` and ``AGGREGATES`` themselves.
``SPLUNK_ONLY_COMMANDS`` lists Splunk's documented search commands huntbook does not implement,
so the parser refuses them by name instead of suggesting a look-alike.
"""

from __future__ import annotations

S, P = "supported", "partial"

COMMAND_SUPPORT: dict[str, tuple[str, str]] = {
    "search": (
        S,
        "OR binds tighter than AND; values case-insensitive, `*` wildcards, CIDR "
        "(IPv4), `!=` vs `NOT`, multivalue any-match, `TERM()`/`CASE()`; bare terms: "
        "see deviations; a `[subsearch]` as a filter: its results as format writes them, "
        "`(a=v1 AND b=v2) OR ...` (fields starting with `_` left out, a multivalue's values "
        "ORed, no results match nothing), at most 10,000 results (Splunk's maxout; huntbook "
        "warns where Splunk drops the rest silently); a subsearch returning a `search` or "
        "`query` field is refused",
    ),
    "where": (S, "eval expression; comparisons case-sensitive; `like()` for wildcards"),
    "eval": (
        P,
        "one CTE per assignment, later ones see earlier ones; `{field}=` (dynamic "
        "names) unsupported",
    ),
    "table": (S, "wildcards; a listed field absent from the data is an empty column"),
    "fields": (S, "`fields +` keeps `_time` and `_raw` unless removed with `fields -`"),
    "rename": (
        S,
        "wildcards; renaming a missing field onto an existing one nulls it; a wildcard "
        "rename leaves a target alone on rows where the matched source field is null",
    ),
    "sort": (
        S,
        "default cap 10,000, `sort 0` unlimited, `num()`/`str()`; auto mode sorts by "
        "the leading number, then text (IPs are not special); missing values last",
    ),
    "reverse": (S, ""),
    "head": (S, "`head N`/`limit=N`; no `head (<expr>)`"),
    "tail": (S, "returned in reverse order"),
    "dedup": (S, "N, keepempty, consecutive, sortby; multivalue fields must match on all values"),
    "stats": (S, "BY multivalue field counts each value; rows missing a BY field are dropped"),
    "eventstats": (P, "no BY on multivalue fields"),
    "streamstats": (
        P,
        "count, sum, avg, mean, min, max, range, stdev, var, first, last (events without the "
        "field skipped); current=, window=; other options (reset_on_change=, time_window=, "
        "...) refused by name",
    ),
    "top": (S, "limit, countfield, percentfield, showcount, showperc, BY; no useother/otherstr"),
    "rare": (S, "as top, least common first"),
    "rex": (
        P,
        "named groups (PCRE `(?<n>` read as RE2 `(?P<n>`; at least one, as Splunk "
        "requires), field=, max_match, mode=sed (s///g, y///); look-around, "
        "back-references, atomic groups and possessive quantifiers are refused (RE2); "
        "sed's Nth-match flag unsupported; no offset_field",
    ),
    "regex": (S, "`field=`/`field!=` or _raw; RE2 syntax (PCRE-only constructs refused)"),
    "transaction": (
        P,
        "field list, startswith/endswith (search, quoted search or eval()), maxspan, "
        "maxpause, maxevents (1000), mvlist, nullstr, keepevicted; several fields "
        "must all be present (no transitive chaining); connected, unifyends, "
        "keeporphans, maxopentxn, maxopenevents, mvraw are accepted and ignored",
    ),
    "metadata": (S, "type=sourcetypes|hosts|sources, index=; exact counts; recentTime = lastTime"),
    "bin": (
        P,
        "span= (s/m/h/d/w or a number) or automatic (<= bins, default 100, nice "
        "spans); non-time fields with span= become `lo-hi` ranges; no "
        "aligntime/start/end",
    ),
    "bucket": (P, "alias of bin"),
    "timechart": (
        P,
        "span= or automatic; one aggregate with BY (DuckDB PIVOT, top `limit` series "
        "+ OTHER for count/sum); empty buckets filled with 0 for count/dc/sum; a span= making "
        "over 50,000 buckets is refused (Splunk's [discretize] maxbins), a mostly-zero grid warns",
    ),
    "chart": (P, "`chart agg over x by y` / `by x y`; one aggregate with BY (DuckDB PIVOT)"),
    "fillnull": (S, "default value 0; without fields: every field of the result"),
    "mvexpand": (S, "limit="),
    "makemv": (S, "delim=, tokenizer= (first capture group), allowempty="),
    "spath": (
        P,
        "input=, path=, output= on JSON; without path=, the JSON leaves or, on XML input "
        "(text starting with `<`), the element texts (`Event.System.Computer`, the first "
        "element of a path, not XML-unescaped, no `{@attr}`) that later commands name (a later "
        "table/fields/stats must name them; a wildcard rename such as `rename X.* as *` is "
        "followed back)",
    ),
    "join": (
        P,
        "type=inner|left|outer, max=, overwrite=; join fields compared as "
        "case-sensitive text; subsearch row/time limits not applied",
    ),
    "append": (S, "subsearch rows after the current ones; fields are the union"),
    "lookup": (
        P,
        "CSV files named like Splunk's (`assets.csv` or `assets`, no folder part), read only "
        "from the store's lookups/ folder and folders given with `--lookups DIR`; fields "
        "checked against the header; case-sensitive; OUTPUT/OUTPUTNEW; several matching rows: "
        "the first row wins (Splunk makes a multivalue)",
    ),
    "inputlookup": (
        P,
        "CSV files, named and found as for lookup; `where <search>`; no append=true",
    ),
    "makeresults": (S, "count= (at most 50,000, Splunk's [searchresults] maxresultrows)"),
    "convert": (P, "ctime(), mktime(), num(), auto(), none(); timeformat=; UTC"),
    "foreach": (
        P,
        "mode=multifield over the fields at that point (wildcards; `<<FIELD>>`, "
        "`<<MATCHSTR>>`, `<<MATCHSEGn>>`, fieldstr=/matchstr=/matchsegN=); no multivalue, "
        "json_array or auto_collections mode",
    ),
    "xmlkv": (
        P,
        "`<key>value</key>` pairs of a field (default _raw), first element of each key; "
        "extracts the keys later commands name, so a later `table`/`stats`/`fields` must "
        "name them (no wildcard); values are not XML-unescaped",
    ),
    "replace": (
        P,
        "`a WITH b, x* WITH y* IN fields`: whole values, case-sensitive, `*` wildcards "
        "carried over; each value replaced once (later exact values win, then wildcard "
        "values with more fixed characters); multivalue fields value by value; IN required",
    ),
    "appendpipe": (S, "the subpipeline runs on the current results; its rows come after them"),
    "datamodel": (
        P,
        "`| datamodel <Model> <Dataset> search` (fields prefixed, as tstats names them) or "
        "`flat` (unprefixed), over the datasets of docs/data-models.md; no model description",
    ),
    "tstats": (
        P,
        "over the events or `from datamodel=M.D` (docs/data-models.md); "
        "`where`, BY, span=, fillnull_value=, nodename=",
    ),
    "addtotals": (
        S,
        "row=, col=, labelfield=, label=, fieldname=, field list (wildcards, commas): the sum "
        "of the values that read as numbers (a multivalue by its first value); no field list: "
        "every field not starting with `_`; a row without a number gets no total",
    ),
    "fieldsummary": (
        S,
        "maxvals= (default 100, 0 all), field list (wildcards; default every field not "
        "starting with `_`): field, count, distinct_count, is_exact, max, mean, min, "
        'numeric_count, stdev, values (`[{"value":..,"count":..}]`, most common first, '
        "ties by value); fields in name order; distinct_count is always exact (is_exact tells "
        "whether Splunk's would be: at most maxvals values); a multivalue counts each value",
    ),
    "fromjson": (
        P,
        "the top-level keys of a JSON object as fields, prefix=; strings as they are, numbers "
        "and booleans as text, arrays as multivalue fields, objects as JSON text; extracts "
        "the keys later commands name (a later table/fields/stats must name them, no "
        "wildcard); not JSON: fields unchanged",
    ),
    "outputlookup": (
        P,
        "writes a CSV into the store's lookups/ folder only (plain name, `.csv` added when "
        "missing; no folder part, no `.csv.gz`, no symlink), with pyarrow before the search "
        "runs, then passes the results on; append= (new fields become new columns), "
        "create_empty=, override_if_empty=, max=; every value text (a multivalue one value "
        "per line); no results: a header-only file (Splunk: an empty one); refused without a "
        "store and by `huntbook serve` (read-only); no KV store options",
    ),
    "iplocation": (
        P,
        "from GeoLite2-City.mmdb (MaxMind DB format) placed in the store's lookups/ folder or "
        "a --lookups folder (huntbook downloads nothing; without it an error says where), read "
        "with the maxminddb package: City, Country, Region, lat, lon; allfields= adds "
        "Continent, MetroCode, Timezone; prefix=, lang=; an address the database lacks "
        "(private ranges) gets empty fields",
    ),
}

# Splunk Enterprise Search Reference, "Command quick reference" (9.x/10.0), minus the commands in
# COMMAND_SUPPORT (a test checks the two are disjoint).
SPLUNK_ONLY_COMMANDS: frozenset[str] = frozenset({
    "abstract", "accum", "addcoltotals", "addinfo", "analyzefields", "anomalies",
    "anomalousvalue", "anomalydetection", "appendcols", "arules", "associate",
    "audit", "autoregress", "bucketdir", "cluster", "cofilter", "collect", "concurrency",
    "contingency", "correlate", "dbinspect", "delete", "delta", "diff", "erex",
    "eventcount", "extract", "fieldformat", "filldown", "findtypes",
    "folderize", "format", "from", "gauge", "gentimes", "geom",
    "geomfilter", "geostats", "highlight", "history", "iconify", "inputcsv",
    "inputintelligence", "kmeans", "kv", "kvform", "loadjob", "localize",
    "localop", "makecontinuous", "map", "mcollect", "metasearch", "meventcollect", "mpreview",
    "msearch", "mstats", "multikv", "multisearch", "mvcombine", "nomv", "outlier", "outputcsv",
    "outputtext", "overlap", "pivot", "predict", "rangemap", "redistribute",
    "reltime", "require", "rest", "return", "rtorder", "run", "savedsearch",
    "script", "scrub", "searchtxn", "selfjoin", "sendalert", "sendemail", "set", "setfields",
    "sichart", "sirare", "sistats", "sitimechart", "sitop", "strcat", "tags", "timewrap",
    "tojson", "transpose", "trendline", "tscollect", "typeahead", "typelearner", "typer",
    "union", "uniq", "untable", "walklex", "x11", "xmlunescape", "xpath", "xyseries",
})  # fmt: skip

DEVIATIONS: tuple[str, ...] = (
    "Bare terms match `_raw` as whole tokens between Splunk's default major/minor "
    "breakers, case-insensitively (a regex over the text, not an index of segments); "
    "`*` inside a term matches characters other than major breakers.",
    "A field the store does not have is null; in `search`, `field=value` on such a "
    "field looks for `field=value` in `_raw` (an approximation of Splunk's automatic "
    "key-value extraction).",
    "A search without `index=` searches every index (Splunk searches the user's default indexes).",
    "Tie order of equal `_time`: `_cd` (ingest order), newest first.",
    "All times are UTC: `strftime`, `strptime`, `convert ctime()`, `metadata`, CLI output.",
    "`rows()` and the CLI show a one-value multivalue as that value, an empty one as "
    "null, and whole-number results (`3.0`) as integers, as Splunk prints them; "
    "`_time` stays a float.",
    "Single-value functions (`substr`, `len`, `replace`, `trim`, ...) given a "
    "multivalue field use its first value (spl.md §2.4 leaves this open).",
    "`.` (concatenation) binds looser than `+`/`-` (spl.md §8 item 4, rearc's reading).",
    "`and`/`or`/`not`/`like`/`in` are accepted in lower case in eval/where.",
    "`transaction`: members of `mvlist` fields are in ascending time with `nullstr` "
    "for members without the field; other merged fields are sorted distinct sets; "
    "`_raw` is the members oldest first, one per line; `field_match_sum` equals "
    "`eventcount`; no `linecount`. With `endswith` only, events newer than any end "
    "event never close. With both, events after the end event of a transaction are "
    "dropped.",
    "`stats`: `values()` has no 100-value cap; `perc`/`median` interpolate linearly "
    "(quantile_cont), not Splunk's approximate percentile; `mode` breaks ties "
    "arbitrarily; min/max are numeric when any value is a number.",
    "Field names are case-sensitive in the engine (`User` and `user` are distinct); "
    "whether both reach a query depends on the store keeping both columns (DuckDB "
    "folds identifier case).",
    "`source=`/`sourcetype=` in a search clause match both generations of Splunk's Windows "
    "add-on (`WinEventLog`, `WinEventLog:<Channel>`, `XmlWinEventLog`, "
    "`XmlWinEventLog:<Channel>`; a channel sourcetype also matches the generic sourcetype with "
    "that channel's source; wildcards after the `:` too; table in "
    "normalize/mappings/search.yaml). `eval`/`where` compare the stored value exactly "
    '(`where source="XmlWinEventLog:Security"` finds only events stored under that name): '
    "they compare values, not names.",
    "Search-time field aliases (normalize/mappings/search.yaml, Splunk's FIELDALIAS-): "
    "`EventID` reads `EventCode` anywhere a field is referenced (search, eval, where, stats...); "
    "where the store also has an `EventID` column, it is read first and `EventCode` fills its "
    "gaps. An alias adds no column to `table *` or to plain search output.",
)

SPARK_NOTES: tuple[str, ...] = (
    '`--engine spark` (`Workspace(engine="spark")`) runs the same compiled query on Spark: '
    "huntbook.query.spark rewrites DuckDB-only SQL into Spark's form of the same answer "
    "(lambda indexes from 0, `list_slice`/`list_position`, ordered `collect_list` via sorted "
    "structs, Java regex group syntax and `$1` replacements, `TRY_CAST` under ANSI mode, epoch "
    "seconds with their fraction) and refuses, before running, what has none (the Spark "
    "column below). tests/query/test_spark_differential.py runs every conformance case and "
    "the seed's searches on both engines and requires the same rows.",
    "The session time zone is UTC; the store is the temp view `events` (Parquet merged by "
    "column name, core columns always present, `_time` double, `_cd` bigint, multivalue "
    "`array<string>`, else `string`).",
    "A hunt's searches and its analytics (sessions, lateral movement, PowerShell, visibility) "
    "run on the chosen engine, as does `huntbook findings`; `huntbook detect` and "
    "`huntbook serve` run on DuckDB only.",
)

AS_DUCKDB = "as DuckDB"
LOOKUP_ON_SPARK = (
    "as DuckDB: the lookup file is parsed on the machine running huntbook (DuckDB's CSV "
    "reader, the same folders and checks) and its rows registered as a Spark temp view"
)
# Per command / function / aggregate: what differs on Spark (absent: the same as DuckDB).
SPARK_SUPPORT: dict[str, str] = {
    "chart": "as DuckDB; with BY the series are read from the data first (one more Spark "
    "query), then one column each (same order and names as DuckDB's PIVOT)",
    "timechart": "as DuckDB; with BY the series are read from the data first (one more Spark "
    "query), then one column each (same order and names as DuckDB's PIVOT)",
    "lookup": LOOKUP_ON_SPARK,
    "inputlookup": LOOKUP_ON_SPARK,
    "transaction": "as DuckDB (mvlist members sorted oldest first); maxspan=/maxpause= refused "
    "(Spark 4.0 cannot plan the recursive query)",
    "rex": "as DuckDB (named groups read by number, `\\1` as `$1`); mode=sed without g only "
    "when the regex is anchored at `^`; with i refused; POSIX classes refused",
    "strftime()": "subseconds (`%3N`, `%6N`) and zones (`%z`, `%Z`) refused",
    "tostring()": '`"commas"` refused',
    "spath": "with path= as DuckDB; without path= refused (JSON auto-extraction)",
    "search": "as DuckDB; a [subsearch] as a filter refused (a correlated EXISTS)",
    "fieldsummary": "refused",
    "fromjson": "refused (DuckDB's JSON functions)",
    "outputlookup": "refused by name (the file is written by a DuckDB query of the results)",
    "iplocation": "refused (a Python function registered on DuckDB)",
    "replace": "exact values as DuckDB; wildcard patterns refused (first-match replacement)",
    "match()": "literal patterns as DuckDB; a pattern built at run time refused",
    "replace()": "POSIX classes refused",
    "perc": "Spark's exact `percentile()` (linear, as quantile_cont)",
    "median": "Spark's exact `percentile()` (linear, as quantile_cont)",
}


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def markdown_commands() -> str:
    from huntbook.query.spl.parser import COMMAND_PARSERS

    lines = [_row(["command", "status", "notes", "Spark"]), _row(["---"] * 4)]
    for name in sorted(COMMAND_PARSERS):
        status, note = COMMAND_SUPPORT[name]
        lines.append(_row([f"`{name}`", status, note, SPARK_SUPPORT.get(name, AS_DUCKDB)]))
    return "\n".join(lines) + "\n"


def markdown_splunk_only() -> str:
    return ", ".join(f"`{name}`" for name in sorted(SPLUNK_ONLY_COMMANDS)) + "\n"


def markdown_functions() -> str:
    from huntbook.query.spl.functions import FUNCTIONS

    lines = [_row(["function", "arguments", "notes", "Spark"]), _row(["---"] * 4)]
    for name in sorted(FUNCTIONS):
        spec = FUNCTIONS[name]
        spark = SPARK_SUPPORT.get(f"{name}()", AS_DUCKDB)
        lines.append(_row([f"`{name}()`", spec.arity_text(), spec.note, spark]))
    return "\n".join(lines) + "\n"


def markdown_aggregates() -> str:
    from huntbook.query.spl.compiler.aggregates import AGGREGATES

    lines = [_row(["function", "order-sensitive", "notes", "Spark"]), _row(["---"] * 4)]
    for name in sorted(AGGREGATES):
        spec = AGGREGATES[name]
        spark = SPARK_SUPPORT.get(name, AS_DUCKDB)
        lines.append(_row([f"`{name}`", "yes" if spec.ordered else "", spec.note, spark]))
    return "\n".join(lines) + "\n"


def markdown_list(items: tuple[str, ...]) -> str:
    return "".join(f"- {item}\n" for item in items)
