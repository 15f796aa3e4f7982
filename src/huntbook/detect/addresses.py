"""Sigma ``cidr`` on address text: IPv4 arithmetically (the SPL compiler's test), IPv6 through a
normalized form (32 hex digits, ``::`` expanded, zone index dropped) compared as text, so
``::1/128`` and ``fe80::/10`` match however the address is written."""

from __future__ import annotations

import ipaddress

from sqlglot import exp

from huntbook.query.spl.compiler.search import cidr_predicate as ipv4_cidr
from huntbook.query.spl.compiler.values import fn, lit

_GROUPS = 8
_SHAPE = r"[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,8}"


def _lambda(body: exp.Expr, name: str) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(name)])


def _groups(text: exp.Expr) -> exp.Expr:
    """``a:b`` -> ['a', 'b'] and '' -> []."""
    empty = exp.EQ(this=text, expression=lit(""))
    return exp.Case(
        ifs=[exp.If(this=empty, true=exp.Array(expressions=[]))],
        default=fn("string_split", text.copy(), lit(":")),
    )


def ipv6_hex(address: exp.Expr) -> exp.Expr:
    """The address as 32 lower-case hex digits; NULL unless it is IPv6 text."""
    text = exp.Lower(this=fn("regexp_replace", address, lit("%.*$"), lit("")))
    double = fn("contains", text.copy(), lit("::"))
    left = _groups(fn("split_part", text.copy(), lit("::"), lit(1)))
    right = exp.Case(
        ifs=[exp.If(this=double, true=_groups(fn("split_part", text.copy(), lit("::"), lit(2))))],
        default=exp.Array(expressions=[]),
    )
    missing = exp.Sub(
        this=lit(_GROUPS),
        expression=exp.Paren(
            this=exp.Add(this=exp.ArraySize(this=left), expression=exp.ArraySize(this=right))
        ),
    )
    zeros = fn("list_transform", fn("range", missing), _lambda(lit("0"), "__z"))
    groups = fn("list_concat", fn("list_concat", left.copy(), zeros), right.copy())
    padded = fn(
        "list_transform", groups, _lambda(fn("lpad", exp.column("__g"), lit(4), lit("0")), "__g")
    )
    valid = exp.and_(
        fn("regexp_full_match", text.copy(), lit(_SHAPE)),
        exp.Not(this=fn("contains", text.copy(), lit(":::"))),
        exp.Not(this=fn("regexp_matches", text.copy(), lit("::.*::"))),
        exp.EQ(this=exp.ArraySize(this=groups.copy()), expression=lit(_GROUPS)),
        exp.or_(double.copy(), exp.EQ(this=missing.copy(), expression=lit(0))),
        exp.or_(exp.Not(this=double.copy()), exp.GT(this=missing.copy(), expression=lit(0))),
    )
    joined = fn("array_to_string", padded, lit(""))
    return exp.Case(ifs=[exp.If(this=valid, true=joined)])


def cidr_predicate(
    address: exp.Expr, network: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> exp.Expr:
    """``address`` (text) lies in ``network``."""
    if isinstance(network, ipaddress.IPv4Network):
        return ipv4_cidr(address, network.with_prefixlen)
    return address_range(ipv6_hex(address), network)


def address_range(
    address: exp.Expr, network: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> exp.Expr:
    """``address`` (``ipv4_number``'s number or ``ipv6_hex``'s text) lies in ``network``."""
    low, high = int(network.network_address), int(network.broadcast_address)
    if isinstance(network, ipaddress.IPv4Network):
        return exp.Between(this=address, low=lit(low), high=lit(high))
    return exp.Between(this=address, low=lit(f"{low:032x}"), high=lit(f"{high:032x}"))
