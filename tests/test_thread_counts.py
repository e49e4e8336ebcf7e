"""A thread count is what ran, or it is refused before any work.

Issue 19, case 5: ``--threads 3`` on 2 cores was recorded as 3 while Numba ran 2 threads (its
pool holds NUMBA_NUM_THREADS = 2) and the BLAS 3.
"""

import numba
import pytest
import threadpoolctl
from threadpoolctl import threadpool_info

from fastnn.bench import grid as G
from fastnn.bench import worker
from fastnn.cli import main

N = G.max_threads()


def _blas_threads():
    return [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]


def test_the_limit_is_at_most_numbas_pool():
    assert 1 <= N <= numba.config.NUMBA_NUM_THREADS


def test_above_the_limit_is_refused_by_the_grid():
    with pytest.raises(ValueError) as e:
        G.cells("quick", backends=["numpy"], threads=[0, N + 1])
    assert str(e.value) == (f"threads {N + 1}: this machine runs at most {N} (Numba's pool, "
                            "NUMBA_NUM_THREADS, and the BLAS); use 0 for all cores")
    cells, _ = G.cells("quick", backends=["numpy"], threads=[0, N])
    assert {c.threads for c in cells} == {0, N}


def test_above_the_limit_is_one_line_and_exit_2_before_any_work(capsys, tmp_path):
    out = tmp_path / "out"
    code = main(["bench", "--threads", str(N + 1), "--backends", "numpy", "--out", str(out),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"fastnn bench: error: threads {N + 1}: this machine runs at most {N}")
    assert not out.exists()


def test_each_count_runs_as_labelled():
    """Inside ``worker.threads(n)`` Numba and every BLAS run n threads (0: Numba's whole pool),
    and n above the limit raises instead of running fewer."""
    before = numba.get_num_threads()
    for n in range(1, N + 1):
        with worker.threads(n):
            assert numba.get_num_threads() == n
            assert all(b == n for b in _blas_threads())
    with worker.threads(0):
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS
    with pytest.raises(ValueError, match=f"threads {N + 1}: this machine runs at most {N}"):
        with worker.threads(N + 1):
            pass
    assert numba.get_num_threads() == before


def test_a_smaller_pool_or_blas_lowers_the_limit(monkeypatch):
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 1)
    assert G.max_threads() == 1
    with pytest.raises(ValueError, match="threads 2: this machine runs at most 1"):
        G.cells("quick", backends=["numpy"], threads=[2])
    monkeypatch.undo()
    monkeypatch.setattr(threadpoolctl, "threadpool_info",
                        lambda: [{"user_api": "blas", "num_threads": 1}])
    assert G.max_threads() == 1
