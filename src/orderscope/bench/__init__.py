"""``orderscope bench``: replay throughput per venue capture, beside cryptofeed 2.4.0, and the
L2 book alone on a synthetic stream. See docs/PERFORMANCE.md for the method and the figures.

- ``ours``: orderscope's replay path over a capture held in memory;
- ``cryptofeed_peer``: the same frames through cryptofeed's own handlers (the ``bench`` extra);
- ``synthetic``: a seeded, realistic stream of deltas for ``L2Book``;
- ``timing``: samples, passes and medians; ``runner``: plans and runs all of it;
- ``report``: the results as plain data and JSON; ``render``: the Rich table.
"""

from orderscope.bench.report import BenchReport
from orderscope.bench.runner import BenchOptions, plan, run
from orderscope.bench.synthetic import SyntheticConfig

__all__ = ["BenchOptions", "BenchReport", "SyntheticConfig", "plan", "run"]
