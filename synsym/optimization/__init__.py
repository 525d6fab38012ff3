"""`synsym optimize`: fit the program's prompts to an LM against a gold set with DSPy optimisers.

Layout: `recipe` (the declarative settings) -> `gold`, `jobs`, `metric`, `optimizers`
(the parts) -> `run` (the pipeline that `synsym.cli.optimize` calls).
"""

from synsym.optimization.metric import GenerationMetric, MetricCache
from synsym.optimization.recipe import Recipe, RecipeError, load_recipe, parse_recipe
from synsym.optimization.run import OptimizationResult, run_optimization

__all__ = [
    "GenerationMetric",
    "MetricCache",
    "OptimizationResult",
    "Recipe",
    "RecipeError",
    "load_recipe",
    "parse_recipe",
    "run_optimization",
]
