"""``fastnn report``: a Markdown report with figures, generated only from results files
(:func:`build`). Layers: :mod:`.select` picks each figure's data (pure, unit-tested),
:mod:`.figures` draws it, :mod:`.text` writes the sentences and small tables, :mod:`.build`
assembles ``index.md``."""

from .build import build, crossover, fit_scaling, load_results

__all__ = ["build", "crossover", "fit_scaling", "load_results"]
