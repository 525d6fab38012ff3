"""synsym: labelled synthetic data for psychiatric symptom identification, as a DSPy program."""

from synsym.taxonomy import Taxonomy, load_taxonomy

__version__ = "0.1.0"

__all__ = ["Taxonomy", "__version__", "load_taxonomy"]
