"""Study reports: macro-F1 per variant and gold set over seeds, data-set profiles, and a chart.

`build_report` summarises the cell records of `results.jsonl`; `write_study_report` writes
`report.json`, `report.md` and `macro_f1.png` into the study folder.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from synsym import __version__
from synsym.evaluation.reports import CONTENT_NOTE
from synsym.study.recipe import Cell, StudyRecipe

logger = logging.getLogger(__name__)

REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"
REPORT_CHART = "macro_f1.png"

# matplotlib's colour-blind-friendly "tab10" order, one colour per gold set.
GOLD_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def _mean(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None and not (isinstance(value, float) and math.isnan(value))]
    return float(np.mean(present)) if present else None


def _spread(values: np.ndarray) -> float | None:
    if len(values) == 0:
        return None
    if len(values) == 1:
        return 0.0
    return float(values.std(ddof=1))


def summarize_scores(records: Sequence[Mapping[str, Any]], gold: str) -> dict[str, Any]:
    """Summarise one variant's macro-F1 on one gold set over its generation seeds.

    `spread` is the sample standard deviation over seeds (0 for one seed). `ci95` averages
    the per-seed bootstrap intervals, so it reflects only the sampling of gold posts, not
    the variation between generation seeds.
    """
    per_seed = []
    errors = []
    for record in records:
        score = record["scores"].get(gold, {})
        if "macro_f1" in score:
            per_seed.append({"seed": record["seed"], "macro_f1": score["macro_f1"], "ci95": score.get("macro_f1_ci95")})
        else:
            errors.append({"seed": record["seed"], "error": score.get("error", "not scored")})
    values = np.array([entry["macro_f1"] for entry in per_seed], dtype=float)
    intervals = [entry["ci95"] for entry in per_seed if entry["ci95"]]
    return {
        "mean": float(values.mean()) if len(values) else None,
        "spread": _spread(values),
        "min": float(values.min()) if len(values) else None,
        "max": float(values.max()) if len(values) else None,
        "n_seeds": len(per_seed),
        "ci95": [_mean([low for low, _ in intervals]), _mean([high for _, high in intervals])] if intervals else None,
        "per_seed": per_seed,
        "errors": errors,
    }


def summarize_profiles(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Average one variant's generation counts and profile figures over its seeds."""
    profiles = [record["profile"] for record in records if record.get("profile")]
    styles = sorted({style for profile in profiles for style in profile["posts_per_style"]})
    kinds = sorted({kind for profile in profiles for kind in profile["posts_per_kind"]})

    def near_duplicate_rate(profile: Mapping[str, Any]) -> float | None:
        embedding = profile.get("embedding")
        return embedding["near_duplicate_rate"] if embedding else None

    return {
        "posts_kept": _mean([record["generation"]["posts_kept"] for record in records]),
        "posts_rejected": _mean([record["generation"]["posts_rejected"] for record in records]),
        "lm_calls": int(sum(record["generation"]["lm_calls"] for record in records)),
        "shared_generation_from": sorted({record["shared_generation_from"] for record in records if record.get("shared_generation_from")}),
        "posts_per_style": {style: _mean([profile["posts_per_style"].get(style, 0) for profile in profiles]) for style in styles},
        "posts_per_kind": {kind: _mean([profile["posts_per_kind"].get(kind, 0) for profile in profiles]) for kind in kinds},
        "labels_per_post": _mean([profile["labels_per_post"]["mean"] for profile in profiles]),
        "distinct_2": _mean([profile["distinct_2"] for profile in profiles]),
        "near_duplicate_rate": _mean([near_duplicate_rate(profile) for profile in profiles]),
        "embeddings": any(profile.get("embedding") for profile in profiles),
    }


def build_report(recipe: StudyRecipe, cells: Sequence[Cell], records: Sequence[Mapping[str, Any]], folder: str | Path) -> dict[str, Any]:
    """Return the study report as a JSON-ready dict: one entry per variant, in recipe order."""
    by_cell = {record["cell"]: record for record in records}
    variants: dict[str, dict[str, Any]] = {}
    for cell in cells:
        entry = variants.setdefault(cell.variant, {"overrides": cell.overrides, "cells": [], "missing": []})
        if cell.name in by_cell:
            entry["cells"].append(by_cell[cell.name])
        else:
            entry["missing"].append(cell.name)

    gold_names = [gold.label for gold in recipe.gold]
    summary = {}
    for name, entry in variants.items():
        summary[name] = {
            "overrides": entry["overrides"],
            "seeds_done": [record["seed"] for record in entry["cells"]],
            "missing_cells": entry["missing"],
            "macro_f1": {gold: summarize_scores(entry["cells"], gold) for gold in gold_names},
            "data": summarize_profiles(entry["cells"]),
        }
    return {
        "synsym_version": __version__,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "name": recipe.name,
        "folder": str(folder),
        "recipe": recipe.model_dump(mode="json"),
        "gold_sets": gold_names,
        "variants": summary,
        "cells": [dict(by_cell[cell.name]) for cell in cells if cell.name in by_cell],
    }


def write_study_report(report: Mapping[str, Any], folder: str | Path) -> dict[str, Path]:
    """Write `report.json`, `report.md` and `macro_f1.png` into `folder`; return the three paths."""
    folder = Path(folder)
    paths = {"json": folder / REPORT_JSON, "markdown": folder / REPORT_MARKDOWN, "chart": folder / REPORT_CHART}
    paths["json"].write_text(json.dumps(report, indent=2, allow_nan=True) + "\n", encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report, REPORT_CHART), encoding="utf-8")
    plot_macro_f1(report, paths["chart"])
    logger.info("wrote study report to %s", folder)
    return paths


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _interval(interval: Sequence[float | None] | None) -> str:
    if not interval or interval[0] is None:
        return "n/a"
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def _count(value: float | None) -> str:
    if value is None:
        return "n/a"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def render_markdown(report: Mapping[str, Any], chart_name: str | None = REPORT_CHART) -> str:
    """Return the Markdown text of a study report."""
    recipe = report["recipe"]
    variants: Mapping[str, Mapping[str, Any]] = report["variants"]
    evaluation = recipe["evaluation"]
    lines = [
        f"# Study: {report['name']}",
        "",
        f"Created {report['created_utc']} with synsym {report['synsym_version']} from the cells in "
        f"`{report['folder']}/results.jsonl`. Generation seeds {recipe['seeds']}; classifier `{evaluation['classifier']}` "
        f"trained with seeds {evaluation['seeds']}, decision threshold {evaluation['threshold']}, "
        f"{evaluation['bootstrap']} bootstrap resamples.",
        "",
        "Each cell is one variant generated with one seed; its macro-F1 is the mean over the classifier seeds. "
        "The table gives, per variant, the mean and the sample standard deviation of that macro-F1 over "
        "generation seeds, its range, and the mean of the per-seed 95% bootstrap intervals. The interval "
        "resamples gold posts only; the spread over seeds shows how much the generated data itself varies.",
        "",
    ]
    if chart_name:
        lines += [f"![macro-F1 per variant]({chart_name})", ""]

    for gold in report["gold_sets"]:
        lines += [f"## Macro-F1 on {gold}", "",
                  "| variant | macro-F1 (mean ± std over seeds) | min-max | mean 95% bootstrap interval | seeds | posts kept (mean) |",
                  "|---|---|---|---|---|---|"]
        for name, summary in variants.items():
            score = summary["macro_f1"][gold]
            lines.append(
                f"| {name} | {_score(score['mean'])} ± {_score(score['spread'])} | {_score(score['min'])}-{_score(score['max'])} "
                f"| {_interval(score['ci95'])} | {score['n_seeds']} | {_count(summary['data']['posts_kept'])} |"
            )
        errors = [(name, error) for name, summary in variants.items() for error in summary["macro_f1"][gold]["errors"]]
        if errors:
            lines += ["", "Not scored:", ""]
            lines += [f"- {name}, seed {error['seed']}: {error['error']}" for name, error in errors]
        lines.append("")

    styles = sorted({style for summary in variants.values() for style in summary["data"]["posts_per_style"]})
    lines += [
        "## Data per variant",
        "",
        "Means over seeds. LM calls are the calls that reached the LM, summed over seeds: cache hits and "
        "re-filtered generations cost none. The near-duplicate rate is the share of sampled posts whose "
        "nearest other post has embedding cosine >= 0.95 (n/a when the profile ran without embeddings).",
        "",
        "| variant | posts kept | rejected | " + " | ".join(f"style: {style}" for style in styles)
        + " | multi-symptom | labels per post | distinct-2 | near-duplicate rate | LM calls | generation shared with |",
        "|---|---|---|" + "---|" * len(styles) + "---|---|---|---|---|---|",
    ]
    for name, summary in variants.items():
        data = summary["data"]
        near = data["near_duplicate_rate"]
        lines.append(
            f"| {name} | {_count(data['posts_kept'])} | {_count(data['posts_rejected'])} | "
            + " | ".join(_count(data["posts_per_style"].get(style, 0)) for style in styles)
            + f" | {_count(data['posts_per_kind'].get('multi', 0))} | {_score(data['labels_per_post'])} | {_score(data['distinct_2'])} "
            f"| {'n/a' if near is None else f'{near:.1%}'} | {data['lm_calls']} | {', '.join(data['shared_generation_from']) or '-'} |"
        )

    lines += ["", "## Cells", "", "| cell | run folder | posts kept | LM calls | " + " | ".join(f"macro-F1 {gold} [95% interval]" for gold in report["gold_sets"]) + " |",
              "|---|---|---|---|" + "---|" * len(report["gold_sets"])]
    for record in report["cells"]:
        cells = []
        for gold in report["gold_sets"]:
            score = record["scores"].get(gold, {})
            cells.append(f"{_score(score.get('macro_f1'))} {_interval(score.get('macro_f1_ci95'))}" if "macro_f1" in score else "n/a")
        lines.append(f"| {record['cell']} | `{record['run']}` | {record['generation']['posts_kept']} | {record['generation']['lm_calls']} | " + " | ".join(cells) + " |")
    missing = [cell for summary in variants.values() for cell in summary["missing_cells"]]
    if missing:
        lines += ["", f"Cells not finished yet (rerun the study to resume): {', '.join(missing)}."]

    lines += ["", "## Variants", "", "Settings each variant changes from the base settings:", ""]
    lines += [f"- `{name}`: `{json.dumps(summary['overrides'], sort_keys=True)}`" for name, summary in variants.items()]
    lines += ["", "Base settings:", "", "```json", json.dumps(recipe["base"], indent=2, sort_keys=True), "```", "", CONTENT_NOTE, ""]
    return "\n".join(lines)


def plot_macro_f1(report: Mapping[str, Any], path: Path) -> None:
    """Draw macro-F1 per variant: one bar per gold set, bootstrap interval bars, one dot per seed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    variants = list(report["variants"])
    golds = list(report["gold_sets"])
    bar_height = 0.8 / max(len(golds), 1)
    figure = Figure(figsize=(9, max(3.0, 0.55 * len(variants) * max(1.0, len(golds) / 1.5) + 1.6)), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()

    highest = 0.0
    for index, gold in enumerate(golds):
        colour = GOLD_COLOURS[index % len(GOLD_COLOURS)]
        for position, name in enumerate(variants):
            score = report["variants"][name]["macro_f1"][gold]
            if score["mean"] is None:
                continue
            y = position - 0.4 + bar_height * (index + 0.5)
            axes.barh(y, score["mean"], height=bar_height * 0.9, color=colour, alpha=0.75,
                      label=gold)
            interval = score["ci95"]
            if interval and interval[0] is not None:
                axes.errorbar(score["mean"], y, xerr=[[score["mean"] - interval[0]], [interval[1] - score["mean"]]],
                              fmt="none", ecolor="black", elinewidth=1.2, capsize=4)
                highest = max(highest, interval[1])
            seeds = [entry["macro_f1"] for entry in score["per_seed"]]
            axes.plot(seeds, [y] * len(seeds), "o", color="black", markersize=3.5, alpha=0.8)
            highest = max([highest, score["mean"], *seeds])
            axes.annotate(f"{score['mean']:.3f}", (0.005, y), xytext=(4, 0), textcoords="offset points",
                          va="center", ha="left", fontsize=8, color="white", fontweight="bold")

    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    axes.set_yticks(range(len(variants)))
    axes.set_yticklabels(variants)
    axes.invert_yaxis()
    # A little room past the highest value, so dots and whiskers at 1.0 stay visible.
    axes.set_xlim(0, min(1.04, max(0.1, highest * 1.15)))
    seeds = report["recipe"]["seeds"]
    axes.set_xlabel(f"macro-F1 (bar: mean over {len(seeds)} generation seed{'s' if len(seeds) != 1 else ''}; "
                    "dots: seeds; whiskers: mean 95% bootstrap interval)")
    axes.set_title(f"Macro-F1 per variant: {report['name']}")
    axes.grid(axis="x", alpha=0.3)
    if unique:
        figure.legend(unique.values(), [f"gold set: {label}" for label in unique], loc="outside lower center",
                      ncol=min(len(unique), 4), fontsize=9, frameon=False)
    figure.savefig(path)
