"""Evaluation reports: JSON for programs, Markdown for people, a PNG of per-symptom F1.

`write_report(report, folder)` takes the dict that `synsym.evaluation.runner.run_evaluation`
returns and writes `report.json`, `report.md` and `per_label_f1.png` into `folder`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

logger = logging.getLogger(__name__)

REPORT_JSON = "report.json"
REPORT_MARKDOWN = "report.md"
REPORT_CHART = "per_label_f1.png"

# One colour per regime, from matplotlib's colour-blind-friendly "tab10" order.
REGIME_COLOURS = {"synthetic": "#1f77b4", "real": "#ff7f0e", "synthetic_then_real": "#2ca02c"}

CONTENT_NOTE = (
    "Scores measure a classifier on labelled posts. They are not a clinical instrument, and "
    "nothing in this report is medical advice. The posts describe distressing experiences, "
    "suicidal ideation among them."
)


def write_report(report: Mapping[str, object], folder: str | Path) -> dict[str, Path]:
    """Write the report as JSON, Markdown and a per-symptom F1 chart; return the three paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / REPORT_JSON, "markdown": folder / REPORT_MARKDOWN, "chart": folder / REPORT_CHART}

    paths["json"].write_text(json.dumps(report, indent=2, allow_nan=True) + "\n", encoding="utf-8")
    paths["markdown"].write_text(render_markdown(report, chart_name=REPORT_CHART), encoding="utf-8")
    plot_per_label_f1(report["regimes"], report["label_names"], paths["chart"])
    logger.info("wrote report to %s", folder)
    return paths


def _format_score(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f}"


def _format_interval(interval: Sequence[float] | None) -> str:
    if not interval:
        return "n/a"
    return f"[{interval[0]:.3f}, {interval[1]:.3f}]"


def render_markdown(report: Mapping[str, object], chart_name: str | None = REPORT_CHART) -> str:
    """Return the Markdown text of a report: headline table, per-symptom F1, data and settings."""
    config = report["config"]
    regimes: Mapping[str, Mapping[str, object]] = report["regimes"]
    label_names: list[str] = report["label_names"]
    lines = [
        "# synsym evaluation report",
        "",
        f"Created {report['created_utc']} with synsym {report['synsym_version']}; classifier `{config['classifier']}`, "
        f"threshold {config['threshold']}, seeds {config['seeds']}, "
        + (f"{config['folds']}-fold cross-validation on the test set." if config["folds"] > 1 else "no cross-validation."),
        "",
        "## Macro-F1 by regime",
        "",
        "| regime | macro-F1 (mean ± std over runs) | runs | pooled macro-F1 | 95% bootstrap interval | micro-F1 |",
        "|---|---|---|---|---|---|",
    ]
    for name, result in regimes.items():
        macro, micro = result["macro_f1"], result["micro_f1"]
        lines.append(
            f"| {name} | {_format_score(macro['mean'])} ± {_format_score(macro['std'])} | {macro['n']} "
            f"| {_format_score(result['macro_f1_pooled'])} | {_format_interval(result['macro_f1_ci95'])} "
            f"| {_format_score(micro['mean'])} |"
        )
    lines += [
        "",
        f"Macro-F1 averages per-label F1 over {len(next(iter(regimes.values()))['labels_averaged'])} labels "
        f"(policy `{config['labels']}`: "
        + ("labels with at least one positive test post" if config["labels"] == "support" else "every label")
        + "); an undefined F1 counts as 0. The interval resamples test posts "
        f"({config['bootstrap']} resamples) and covers the pooled, seed-averaged macro-F1.",
        "",
        "## F1 per symptom",
        "",
    ]
    if chart_name:
        lines += [f"![F1 per symptom and regime]({chart_name})", ""]
    lines += ["| symptom | support | " + " | ".join(regimes) + " |", "|---|---|" + "---|" * len(regimes)]
    for label in label_names:
        support = next(iter(regimes.values()))["per_label"][label]["support"]
        cells = [_format_score(result["per_label"][label]["f1"]) for result in regimes.values()]
        lines.append(f"| {label} | {support} | " + " | ".join(cells) + " |")

    lines += ["", "## Data", "", "| role | posts | source |", "|---|---|---|"]
    for role, description in report["data"].items():
        if description is not None:
            lines.append(f"| {role} | {description['n_posts']} | `{description['source']}` |")
    lines += [
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(config, indent=2),
        "```",
        "",
        CONTENT_NOTE,
        "",
    ]
    return "\n".join(lines)


def plot_per_label_f1(regimes: Mapping[str, Mapping[str, object]], label_names: Sequence[str], path: Path) -> None:
    """Draw a horizontal grouped bar chart: one group per symptom, one bar colour per regime."""
    # The Agg canvas is used directly, so the caller's pyplot backend is left untouched.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(regimes)
    bar_height = 0.8 / max(len(names), 1)
    figure_height = max(3.0, 0.45 * len(label_names) * max(1.0, len(names) / 2) + 1.5)
    figure = Figure(figsize=(10, figure_height), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()

    positions = range(len(label_names))
    for index, name in enumerate(names):
        scores = [regimes[name]["per_label"][label]["f1"] for label in label_names]
        offsets = [position - 0.4 + bar_height * (index + 0.5) for position in positions]
        macro = regimes[name]["macro_f1"]["mean"]
        axes.barh(
            offsets,
            scores,
            height=bar_height,
            color=REGIME_COLOURS.get(name),
            label=f"{name} (macro-F1 {_format_score(macro)})",
        )

    supports = [next(iter(regimes.values()))["per_label"][label]["support"] for label in label_names]
    axes.set_yticks(list(positions))
    axes.set_yticklabels([f"{label.replace('_', ' ')} (n={support})" for label, support in zip(label_names, supports)])
    axes.invert_yaxis()
    axes.set_xlim(0, 1)
    axes.set_xlabel("F1 on the test posts")
    axes.set_title("F1 per symptom and training regime")
    axes.grid(axis="x", alpha=0.3)
    figure.legend(loc="outside lower center", ncol=1, frameon=False)
    figure.savefig(path)
