"""Executable Lean statements: read the theorems of ``lean/`` and evaluate them on random models.

* :mod:`pyspec.formal.syntax` — lexer and recursive-descent parser of the Lean term fragment;
* :mod:`pyspec.formal.extract` — declarations (binders, hypotheses, conclusion up to ``:=``), fingerprints;
* :mod:`pyspec.formal.values`, :mod:`~pyspec.formal.algebra`, :mod:`~pyspec.formal.terms`, :mod:`~pyspec.formal.builtins`,
  :mod:`~pyspec.formal.evaluate` — evaluation on ``E = ℝⁿ``, ``F = ℝᵐ``, ``G = ℝᵏ`` (float64 or mpmath);
* :mod:`pyspec.formal.instances`, :mod:`~pyspec.formal.registry`, :mod:`~pyspec.formal.check` — drawn
  models under Lean names, the statements of each claim, the ``pyspec claims`` columns;
* :mod:`pyspec.formal.mutations` — the mutation gate; :mod:`pyspec.formal.lock` — the statement lock
  (``python -m pyspec.formal lock``).
"""

from __future__ import annotations

from pyspec.formal.evaluate import Binding, StatementResult, evaluate_statement
from pyspec.formal.extract import Declaration, declaration, fingerprint
from pyspec.formal.syntax import FRAGMENT, LeanSyntaxError, parse_term

__all__ = ["Binding", "StatementResult", "evaluate_statement", "Declaration", "declaration", "fingerprint",
           "FRAGMENT", "LeanSyntaxError", "parse_term"]
