"""The A/B knob shared by the bundled workloads.

TACHYGATE_DEMO_SLOW names functions that should do more work, to make a real, known
regression for testing the gate: a comma-separated list of `name` or `name=factor`
(factor defaults to 2, meaning "twice the work"). Example:

    TACHYGATE_DEMO_SLOW=tokenize            # tokenize does twice its work
    TACHYGATE_DEMO_SLOW=encode_documents=3  # three times
"""

import os


def _parse(spec):
    factors = {}
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, factor = part.partition("=")
        try:
            factors[name.strip()] = max(1, int(factor)) if factor else 2
        except ValueError:
            raise SystemExit(f"TACHYGATE_DEMO_SLOW: bad factor in {part!r} (want name=INTEGER)")
    return factors


_FACTORS = _parse(os.environ.get("TACHYGATE_DEMO_SLOW", ""))


def factor(name):
    """How many times `name` should repeat its work (1 unless TACHYGATE_DEMO_SLOW names it)."""
    return _FACTORS.get(name, 1)


def scale():
    """TACHYGATE_DEMO_SCALE multiplies the amount of work (default 1.0) for slower/faster machines."""
    try:
        return max(0.05, float(os.environ.get("TACHYGATE_DEMO_SCALE", "1")))
    except ValueError:
        raise SystemExit("TACHYGATE_DEMO_SCALE must be a number")
