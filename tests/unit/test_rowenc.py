"""Generated row encoders (pypgz/codecs/rowenc.py) must give exactly the bytes, and the
errors, of the per-value encoders they stand in for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pypgz.codecs import oids
from pypgz.codecs.encode import encoder_for
from pypgz.codecs.rowenc import row_encoder
from pypgz.errors import EncodeError

FAST_TYPES = [oids.BOOL, oids.INT2, oids.INT4, oids.INT8, oids.OID, oids.FLOAT4, oids.FLOAT8, oids.TEXT, oids.VARCHAR,
              oids.TIMESTAMP, oids.TIMESTAMPTZ]  # fmt: skip

zones = st.sampled_from([None, dt.timezone.utc, dt.timezone(dt.timedelta(hours=5, minutes=30)),
                         dt.timezone(dt.timedelta(hours=-11))])  # fmt: skip
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False),
    st.text(),
    st.datetimes(timezones=zones),
    st.sampled_from([dt.datetime.max, dt.datetime.min, dt.datetime.max.replace(tzinfo=dt.timezone.utc), "\ud800"]),
)


def per_value(types: tuple[int, ...], args: tuple[Any, ...]) -> bytes | type[BaseException]:
    try:
        return b"".join(encoder_for(t)(a) for t, a in zip(types, args))
    except EncodeError:
        return EncodeError


def generated(types: tuple[int, ...], args: tuple[Any, ...]) -> bytes | type[BaseException]:
    enc = row_encoder(types)
    assert enc is not None
    try:
        return enc(args)
    except EncodeError:
        return EncodeError


@settings(max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(FAST_TYPES), values), min_size=1, max_size=6))
def test_generated_encoder_matches_per_value_encoders(pairs: list[tuple[int, Any]]) -> None:
    types = tuple(t for t, _ in pairs)
    args = tuple(a for _, a in pairs)
    assert generated(types, args) == per_value(types, args)


def test_typical_rows_take_the_fast_path_and_match() -> None:
    types = (oids.INT4, oids.TEXT, oids.FLOAT8, oids.TIMESTAMPTZ)
    now = dt.datetime(2024, 2, 29, 12, 0, 0, 1, tzinfo=dt.timezone.utc)
    enc = row_encoder(types)
    assert enc is not None
    fallback = enc.__globals__["_slow"]

    def no_fallback(args: Any) -> bytes:
        raise AssertionError(f"{args!r} took the per-value encoders")

    enc.__globals__["_slow"] = no_fallback  # the generated function's own namespace
    try:
        for args in [(1, "grüße", 1.5, now), (-(2**31), "", -0.0, now.astimezone(dt.timezone(dt.timedelta(hours=3))))]:
            assert enc(args) == per_value(types, args)
    finally:
        enc.__globals__["_slow"] = fallback


def test_types_without_a_fast_form_get_no_generated_encoder() -> None:
    assert row_encoder((oids.INT4, oids.NUMERIC)) is None
    assert row_encoder((oids.UNKNOWN,)) is None
    assert row_encoder(()) is None
