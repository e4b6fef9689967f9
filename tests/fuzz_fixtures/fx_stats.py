"""Fuzz fixtures for mlphys.stats."""
from mlphys import stats

INSTANCES = {stats.SeedSpread: lambda rng: stats.SeedSpread(rng.normal(1.0, 0.2, int(rng.integers(2, 6))))}
# independent samples: long enough for blocking's test to pass at a level with >= 32 blocks (no warning)
CALLS = {"stats.blocking": lambda rng: {"samples": rng.standard_normal(1024)}}
