"""Instants as text, a column at a time: the same text as numpy's and strftime's own."""

from __future__ import annotations

import numpy as np

from chatwoot_etl.sync import timetext


def test_timestamp_text_is_numpys_own_over_the_whole_range_of_four_digit_years():
    first = np.datetime64("1000-01-01T00:00:00", "us").astype(np.int64)
    last = np.datetime64("9999-12-31T23:59:59.999999", "us").astype(np.int64)
    leap_days = np.array(["1600-02-29", "1900-03-01", "2000-02-29", "2024-02-29", "1969-12-31"],
                         dtype="datetime64[us]").astype(np.int64)
    micros = np.concatenate([np.random.default_rng(7).integers(first, last, 100_000), [first, last, 0, -1],
                             leap_days, leap_days - 1, leap_days + 86_399_999_999])
    expected = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us")
    assert timetext.iso_texts(micros).astype(str).tolist() == np.char.replace(expected, "T", " ").tolist()


def test_fields_join_with_literal_separators_and_digits_are_zero_padded():
    chars = timetext.chars(np.array([0, 951_825_600_000_000]))   # 1970-01-01, 2000-02-29 12:00
    assert timetext.joined(chars[:, 8:10], "/", chars[:, 5:7]).tolist() == [b"01/01", b"29/02"]
    assert timetext.digits(np.array([7, 2026, 0]), 4).view("S4").ravel().tolist() == [b"0007", b"2026", b"0000"]
