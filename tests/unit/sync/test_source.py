"""Cutting the COPY stream into chunks that never split a conversation."""

from __future__ import annotations

import pandas as pd
import pytest

from chatwoot_etl.sync import source


def frames(ids, size):
    frame = pd.DataFrame({"conversation_id": [str(i) for i in ids], "n": range(len(ids))})
    return [frame.iloc[i:i + size].reset_index(drop=True) for i in range(0, len(frame), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 100])
def test_whole_conversations_never_split_a_conversation_and_lose_nothing(size):
    ids = [1, 2, 2, 3, 4, 4, 4, 5, 6, 6, 7]
    chunks = list(source.whole_conversations(frames(ids, size)))
    assert pd.concat(chunks)["n"].tolist() == list(range(len(ids)))
    for chunk in chunks:
        assert len(chunk) > 0
    seen_in = {}
    for index, chunk in enumerate(chunks):
        for cid in set(chunk["conversation_id"]):
            assert seen_in.setdefault(cid, index) == index, f"conversation {cid} split across chunks"


def test_whole_conversations_of_a_single_long_group():
    chunks = list(source.whole_conversations(frames([9] * 10, 3)))
    assert len(chunks) == 1 and len(chunks[0]) == 10
