"""Plausible Markdown answers derived from a prompt, deterministically (pure).

The same prompt always gives the same answer (the generator is seeded from the prompt),
so screenshots are stable. Every answer has a heading that reflects the question, a short
paragraph, a list, a fenced code block with a language tag and a table.
"""

from __future__ import annotations

import hashlib
import random
import re

_STOPWORD_TEXT = """
    a about above after again all also am an and any are as at be because been before
    being best between both but by can could did do does doing done down during each else
    etc even every explain few for from get give got had has have having help her here
    hers him his how i if in into is it its just know like make me more most my need no
    nor not now of off on once only or other our out over own please quick quickly really
    same say see she should show so some such tell than that the their them then there
    these they thing things this those through to too try under until up use using very
    via want was way we well were what when where which while who whom why will with would
    write you your yours
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_LEADING_PHRASES = re.compile(
    r"^(?:(?:please|hey|hi|hello|so|ok|okay)[,!]?\s+)*"
    r"(?:(?:how|what|why|when|where|which|who)\s+(?:do|does|did|can|could|should|would|is|are|"
    r"was|were)\s+(?:i|we|you|one|it)?\s*|(?:can|could|would|will)\s+you\s+(?:please\s+)?|"
    r"tell\s+me\s+(?:about\s+)?|explain\s+|describe\s+|write\s+(?:me\s+)?|show\s+me\s+|"
    r"give\s+me\s+|how\s+to\s+|what\s+(?:is|are)\s+|i\s+(?:want|need)\s+to\s+)?",
    re.IGNORECASE,
)
_LEADING_ARTICLE = re.compile(r"^(?:a|an|the)\s+", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+#-]*")

_LANGUAGES: dict[str, str] = {
    "python": "python",
    "py": "python",
    "django": "python",
    "rust": "rust",
    "cargo": "rust",
    "javascript": "javascript",
    "js": "javascript",
    "node": "javascript",
    "typescript": "javascript",
    "go": "go",
    "golang": "go",
    "bash": "bash",
    "shell": "bash",
    "linux": "bash",
    "terminal": "bash",
    "sql": "sql",
    "database": "sql",
    "postgres": "sql",
    "sqlite": "sql",
}


def seed_for(text: str) -> int:
    """A stable seed for ``text`` (``hash()`` is salted per process, so not that)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "replace")).digest()[:8], "big")


def topic_of(prompt: str) -> str:
    """A heading-sized topic: the first sentence without its question words."""
    first = re.split(r"[.?!\n]", prompt.strip(), maxsplit=1)[0].strip()
    topic = first
    for _ in range(3):  # "can you please explain …" peels off in steps
        topic = _LEADING_PHRASES.sub("", topic, count=1).strip(" ,:;-")
    topic = _LEADING_ARTICLE.sub("", topic).strip()
    words = topic.split()
    if len(words) > 8:
        topic = " ".join(words[:8]) + "…"
    if not topic:
        return "Your question"
    return topic[0].upper() + topic[1:]


def keywords_of(prompt: str, limit: int = 5) -> list[str]:
    seen: list[str] = []
    for word in _WORD.findall(prompt):
        lowered = word.lower()
        if len(lowered) < 3 or lowered in _STOPWORDS or lowered in seen:
            continue
        seen.append(lowered)
        if len(seen) == limit:
            break
    fallbacks = ["setup", "example", "defaults", "errors", "performance"]
    for word in fallbacks:
        if len(seen) >= 4:
            break
        if word not in seen:
            seen.append(word)
    return seen


def language_of(prompt: str) -> str:
    for word in _WORD.findall(prompt.lower()):
        if word in _LANGUAGES:
            return _LANGUAGES[word]
    return "python"


def _identifier(words: list[str]) -> str:
    ident = "_".join(re.sub(r"[^a-z0-9]", "", word) for word in words[:2]).strip("_")
    return ident if ident and not ident[0].isdigit() else "handle_input"


def _camel(ident: str) -> str:
    head, *rest = ident.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _code(language: str, ident: str, words: list[str]) -> str:
    first, second = words[0], words[1]
    if language == "rust":
        return (
            "use std::collections::HashMap;\n\n"
            f"fn {ident}(items: &[&str]) -> HashMap<String, usize> {{\n"
            "    let mut counts = HashMap::new();\n"
            "    for item in items {\n"
            "        *counts.entry(item.to_string()).or_insert(0) += 1;\n"
            "    }\n"
            "    counts\n"
            "}\n\n"
            "fn main() {\n"
            f'    println!("{{:?}}", {ident}(&["{first}", "{second}", "{first}"]));\n'
            "}"
        )
    if language == "javascript":
        name = _camel(ident)
        return (
            f"function {name}(items) {{\n"
            "  const counts = new Map();\n"
            "  for (const item of items) {\n"
            "    counts.set(item, (counts.get(item) ?? 0) + 1);\n"
            "  }\n"
            "  return counts;\n"
            "}\n\n"
            f'console.log({name}(["{first}", "{second}", "{first}"]));'
        )
    if language == "go":
        name = _camel(ident)
        return (
            "package main\n\n"
            'import "fmt"\n\n'
            f"func {name}(items []string) map[string]int {{\n"
            "\tcounts := make(map[string]int)\n"
            "\tfor _, item := range items {\n"
            "\t\tcounts[item]++\n"
            "\t}\n"
            "\treturn counts\n"
            "}\n\n"
            "func main() {\n"
            f'\tfmt.Println({name}([]string{{"{first}", "{second}", "{first}"}}))\n'
            "}"
        )
    if language == "bash":
        return (
            "#!/usr/bin/env bash\n"
            "set -euo pipefail\n\n"
            f'{ident}() {{\n  sort "$1" | uniq -c | sort -rn | head -n "${{2:-10}}"\n}}\n\n'
            f"{ident} {first}.log 5"
        )
    if language == "sql":
        return (
            f"SELECT {first}, COUNT(*) AS total\n"
            f"FROM {second}\n"
            f"WHERE {first} IS NOT NULL\n"
            f"GROUP BY {first}\n"
            "ORDER BY total DESC\n"
            "LIMIT 10;"
        )
    return (
        "from collections import Counter\n\n\n"
        f"def {ident}(items: list[str]) -> Counter[str]:\n"
        '    """Count how often each item appears."""\n'
        "    return Counter(item.strip().lower() for item in items if item.strip())\n\n\n"
        f'print({ident}(["{first}", "{second}", "{first}"]).most_common(3))'
    )


_HEADINGS = ("## {topic}", "## {topic}: a quick guide", "## {topic}, step by step")
_OPENERS = (
    "Good question. In short, **{topic_lc}** comes down to a few moving parts that are easy "
    "to reason about once you see them side by side.",
    "Here is a practical overview of **{topic_lc}**. The idea is simple; most of the work is "
    "in picking sensible defaults and checking the edge cases.",
    "Let's break **{topic_lc}** into small pieces, look at an example, and compare the usual "
    "approaches.",
)
_FOLLOWUPS = (
    "The key is to keep `{kw0}` and `{kw1}` separate, so each part can be tested on its own.",
    "Start with the simplest version that works, then measure before optimising `{kw0}`.",
    "Most problems show up around `{kw1}`, so handle that case explicitly.",
)
_POINTS = (
    "**{Kw}**: decide this first; everything else depends on it.",
    "**{Kw}**: keep it small and explicit, and give it a clear name.",
    "**{Kw}**: validate inputs early and fail with a helpful message.",
    "**{Kw}**: write one test for the happy path and one for the edge case.",
    "**{Kw}**: prefer the standard library before reaching for a dependency.",
    "**{Kw}**: log what happened, not how you feel about it.",
)
_ROWS = (
    ("Straightforward", "small inputs, quick scripts", "does not scale past memory"),
    ("Streaming", "large or endless inputs", "more code to get right"),
    ("Batched", "throughput over latency", "results arrive in bursts"),
    ("Cached", "repeated lookups", "stale data if you forget to invalidate"),
)
_CLOSERS = (
    "Want me to go deeper into **{kw0}**, or adapt the example to your setup?",
    "If you share a bit more about your `{kw1}`, I can tailor the example.",
    "That should get you started; tell me where it breaks and we'll dig in.",
)


def demo_answer(prompt: str) -> str:
    """A Markdown answer to ``prompt``: heading, paragraph, list, code block, table."""
    rng = random.Random(seed_for(prompt))
    topic = topic_of(prompt)
    topic_lc = topic[0].lower() + topic[1:] if topic[1:2].islower() else topic
    words = keywords_of(prompt)
    language = language_of(prompt)
    fill = {"topic": topic, "topic_lc": topic_lc, "kw0": words[0], "kw1": words[1]}
    points = rng.sample(_POINTS, k=4)
    point_words = words[:4]
    rows = rng.sample(_ROWS, k=3)
    parts = [
        rng.choice(_HEADINGS).format(**fill),
        "",
        rng.choice(_OPENERS).format(**fill) + " " + rng.choice(_FOLLOWUPS).format(**fill),
        "",
        "### Key points",
        "",
        *(
            f"{index}. " + point.format(Kw=word.capitalize())
            for index, (point, word) in enumerate(zip(points, point_words, strict=True), 1)
        ),
        "",
        "### Example",
        "",
        f"```{language}",
        _code(language, _identifier(words), words),
        "```",
        "",
        "### Comparing approaches",
        "",
        "| Approach | Good for | Watch out for |",
        "|---|---|---|",
        *(f"| {name} | {good} | {bad} |" for name, good, bad in rows),
        "",
        rng.choice(_CLOSERS).format(**fill),
    ]
    return "\n".join(parts)


_TOKEN = re.compile(r"\s*(?:\w+|[^\w\s]+)|\s+")


def split_tokens(text: str) -> list[str]:
    """Word-sized tokens whose concatenation is exactly ``text``."""
    return _TOKEN.findall(text)


def count_prompt_tokens(contents: list[str]) -> int:
    """A plausible prompt token count: words and punctuation, plus a few per message."""
    return sum(len(_TOKEN.findall(content)) + 4 for content in contents) + 2
