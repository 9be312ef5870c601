from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from inferd_tui.ui.markdown_blocks import (
    CODE_CHUNK_LINES,
    MARKDOWN_GATHER_CHARS,
    BlockSplitter,
    CodeChunk,
    MarkdownBlock,
    split_blocks,
)

PIECES = [
    "# Head\n",
    "para text ",
    "more\n",
    "\n",
    "- item\n",
    "```py\n",
    "x = 1\n",
    "```\n",
    "| a | b |\n",
    "|---|---|\n",
    "~~~\n",
    "tail",
]


def test_blocks_of_a_typical_answer() -> None:
    text = "# T\nintro\n\n- a\n- b\n\n```python\nprint(1)\n```\n| a |\n|---|\n| 1 |"
    assert split_blocks(text) == [
        MarkdownBlock("# T\nintro\n\n- a\n- b"),  # short paragraphs gather into one block
        CodeChunk("python", "print(1)", 1, first=True, last=True),
        MarkdownBlock("| a |\n|---|\n| 1 |"),
    ]


def test_thousands_of_short_paragraphs_make_few_blocks() -> None:
    text = "".join(f"# Heading {n}\n\npara {n}\n\n\n" for n in range(5000))
    blocks = split_blocks(text)
    assert len(blocks) < len(text) // MARKDOWN_GATHER_CHARS + 2
    assert all(isinstance(block, MarkdownBlock) for block in blocks)
    assert all(
        not block.text.startswith("\n") and not block.text.endswith("\n") for block in blocks
    )
    assert "\n\n".join(block.text for block in blocks) == text.strip().replace("\n\n\n", "\n\n")


def test_long_code_blocks_are_committed_in_chunks_while_streaming() -> None:
    code = "".join(f"line {n}\n" for n in range(CODE_CHUNK_LINES * 2 + 3))
    text = "```\n" + code
    splitter = BlockSplitter()
    committed = splitter.feed(text)
    assert [c.first for c in committed if isinstance(c, CodeChunk)] == [True, False]
    tail = splitter.tail(text)
    assert isinstance(tail[0], CodeChunk) and tail[0].text.count("\n") == 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30), st.data())
def test_incremental_feeding_agrees_with_splitting_at_once(
    pieces: list[str], data: st.DataObject
) -> None:
    text = "".join(pieces)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=10)))
    splitter = BlockSplitter()
    for cut in cuts:
        splitter.feed(text[:cut])
        splitter.tail(text[:cut])
    splitter.finish(text)
    assert splitter.committed == split_blocks(text)
