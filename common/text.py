"""Wording helpers the pages share."""


def plural(n: int, word: str, words: str | None = None) -> str:
    """``n`` with the word that fits it, the number grouped: "1 learner", "1,200 learners"."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
