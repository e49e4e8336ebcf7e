"""Imported by the fork server before it forks any worker (:data:`.spawn.PRELOAD`): Numba's
typing and lowering registries, which Numba otherwise loads at a process's first compile or
cache load (~0.4 s each time, measured in a fresh worker), loaded once here. Nothing is compiled
and no thread pool is started, so the forks stay clean."""

from numba.core.registry import cpu_target

cpu_target.typing_context.refresh()
cpu_target.target_context.refresh()
