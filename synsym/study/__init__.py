"""Research studies: a grid of generation variants over seeds, each scored on gold sets, in one report.

Example:
    >>> from synsym.study import load_recipe, run_study                    # doctest: +SKIP
    >>> recipe = load_recipe("eval/studies/ablation.toml")                 # doctest: +SKIP
    >>> records = run_study(recipe)                                        # doctest: +SKIP
"""

from synsym.study.engine import report_study, run_study
from synsym.study.recipe import Cell, StudyError, StudyRecipe, load_recipe, parse_recipe, plan_cells
from synsym.study.report import build_report, write_study_report

__all__ = ["Cell", "StudyError", "StudyRecipe", "build_report", "load_recipe", "parse_recipe", "plan_cells", "report_study", "run_study", "write_study_report"]
