"""Why a cell was not measured, or what to know about one that was: a code and its numbers.

The harness writes no sentences. A record's ``why`` (for a status other than ``ok``) and each
of its ``notes`` (for an ``ok`` cell) is a dict ``{"code": Why.X.value, ...numbers}``;
:mod:`fastnn.report.reasons` words them. The numbers each code carries:

===================  ==========================================================================
code                 fields
===================  ==========================================================================
unsupported          ``what`` ("op", "dtype", "hidden", "output"), ``value``
few_examples         ``min_m``, ``m``
fixed_threads        (none: the backend fixes its thread count at start-up)
memory               ``need_bytes``, ``limit_bytes``, ``model`` (the working-set model's name)
over_budget          ``predicted_s`` (per call, per step for ``fit``), ``steps``, ``calls``,
                     ``budget_s``, ``source`` ("smaller_m" or "probe"), ``probe_m``,
                     ``probe_steps``, ``linear`` (scaled linearly in m)
diverged             ``step`` (1-based), ``steps``
error                ``error`` (the exception's type name), ``text`` (its message)
invalid_record       ``problem`` (what the store's validation found)
disagrees            ``max_diff`` (None: the shapes differ), ``onset`` (a training run: the
                     costs disagree already in its first ``onset`` steps; else None)
prefix_check         ``m_check``, ``m``, ``reference`` (checked on the first m_check examples:
                     the reference's working set at m exceeds the memory limit)
partial_fit_check    ``onset``, ``steps``, ``reference`` (only the first ``onset`` costs were
                     compared: the reference's own run is chaotic beyond)
further_worker       ``status``, ``why`` (that worker's own why, or None)
===================  ==========================================================================
"""

from __future__ import annotations

import enum


class Why(enum.Enum):
    """The codes of a record's ``why`` and ``notes``."""
    UNSUPPORTED = "unsupported"
    FEW_EXAMPLES = "few_examples"
    FIXED_THREADS = "fixed_threads"
    MEMORY = "memory"
    OVER_BUDGET = "over_budget"
    DIVERGED = "diverged"
    ERROR = "error"
    INVALID_RECORD = "invalid_record"
    DISAGREES = "disagrees"
    PREFIX_CHECK = "prefix_check"
    PARTIAL_FIT_CHECK = "partial_fit_check"
    FURTHER_WORKER = "further_worker"


def why(code, **numbers):
    """``{"code": code.value, **numbers}``: a reason as data (JSON-ready).

    Parameters
    ----------
    code : Why
        What happened.
    **numbers
        Its numbers (the table in this module's docstring).

    Raises
    ------
    TypeError
        ``code`` is not a :class:`Why`.
    """
    if not isinstance(code, Why):
        raise TypeError(f"code must be a Why, got {code!r}")
    return {"code": code.value, **numbers}


def error(exc):
    """The ``error`` why of an exception: its type's name and its own message."""
    return why(Why.ERROR, error=type(exc).__name__, text=str(exc))


__all__ = ["Why", "error", "why"]
