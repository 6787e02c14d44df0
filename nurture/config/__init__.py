"""Load and validate a funnel directory (nurture.yaml, sequences/, templates/).

Every problem is reported at once, each with file:line:column, the key path, what was found
and what is expected, so a marketer fixes a whole batch per run of ``nurture validate``.
"""

from __future__ import annotations

from nurture.config.load import load_funnel, validate_funnel
from nurture.config.problems import ConfigProblem
from nurture.config.version import funnel_version

__all__ = ["ConfigProblem", "funnel_version", "load_funnel", "validate_funnel"]
