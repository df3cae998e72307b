"""Testing polaraug's readers against bad input: seeded file mutations (``mutate.py``), one target per reader
with a valid sample the project makes itself (``targets.py``), and a runner that sorts every outcome into ok,
clean error, traceback, partial output or bad result (``fuzz.py``). ``tests/test_fuzz.py`` and ``benchmarks/fuzz.py``
drive them; nothing here is used by the commands."""
