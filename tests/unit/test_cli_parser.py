"""Every number the CLI takes is checked before anything runs: one line, exit 1, never a traceback."""

from __future__ import annotations

import pytest

from chatwoot_etl.cli.parser import build_parser


@pytest.mark.parametrize(
    "argv, words",
    [
        (["sync", "--tenant", "1", "--lookback-minutes", "nan"], "'nan' is out of range"),
        (["sync", "--tenant", "1", "--lookback-minutes", "inf"], "'inf' is out of range"),
        (["sync", "--tenant", "1", "--lookback-minutes", "-1"], "'-1' is out of range"),
        (["sync", "--tenant", "1", "--lookback-minutes", "1e12"], "'1e12' is out of range: a number from 0 to 10080"),
        (["sync", "--tenant", "1", "--chunk-size", "0"], "0 is out of range: from 1 to 1000000"),
        (["sync", "--tenant", "1", "--chunk-size", "1e3"], "'1e3' is not an integer"),
        (["sync", "--tenant", "99999999999"], "99999999999 is out of range"),
        (["seed-source", "--touch-fraction", "nan"], "'nan' is out of range: a number from 0 to 1"),
        (["seed-source", "--touch-fraction", "1.5"], "'1.5' is out of range"),
        (["seed-source", "--new-conversations", "-3"], "-3 is out of range"),
        (["inboxes", "history", "--limit", "0"], "0 is out of range"),
        (["inboxes", "map", "--inbox", "99999999999", "--tenant", "1"], "an inbox id is a positive integer"),
    ],
)
def test_bad_numbers_are_refused_in_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_good_numbers_pass():
    args = build_parser().parse_args(["sync", "--tenant", "1", "--lookback-minutes", "2.5", "--chunk-size", "500"])
    assert (args.tenant, args.lookback_minutes, args.chunk_size) == (1, 2.5, 500)
