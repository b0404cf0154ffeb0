"""``python -m benchmarks.eval``."""

from benchmarks.eval.run import main

raise SystemExit(main())
