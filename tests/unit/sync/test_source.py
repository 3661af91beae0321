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


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7])
def test_the_last_frame_keeps_its_last_conversation(size):
    ids = [1, 2, 2, 3, 4, 4, 4, 5, 6, 6, 7]
    parts = frames(ids, size)
    parts[-1].attrs[source.LAST_FRAME] = True
    chunks = list(source.whole_conversations(parts))
    assert pd.concat(chunks)["n"].tolist() == list(range(len(ids)))
    # every row of the last frame lands in the last chunk: its last conversation has no chunk of its own
    assert set(parts[-1]["n"]) <= set(chunks[-1]["n"])


def test_read_csv_hands_over_a_short_chunk_only_at_the_end():
    import io

    reader = pd.read_csv(io.StringIO("".join(f"{i}\n" for i in range(10))), header=None, iterator=True)
    assert [len(reader.get_chunk(4)) for _ in range(3)] == [4, 4, 2]
