"""The benchmark harness: ``fastnn bench`` sweeps backend × op × m × n_h × n_x × dtype × threads
and records honest timings (see :mod:`fastnn.bench.run`)."""
