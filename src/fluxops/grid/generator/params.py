"""Generator parameters (frozen, stored with the grid) and the named presets.

Why parameters instead of constants: a grid must be reproducible from (params, seed), and tests
need small grids with the same realism rules as the `houston` preset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fluxops.core.errors import InvalidInputError


@dataclass(frozen=True)
class GeneratorParams:
    """Everything that shapes a synthetic utility besides the seed. Figures: docs/grid-generator.md."""

    n_substations: int = 70
    target_meters: int = 150_000
    # Geography: a lon/lat box; the urban core (densest neighbourhoods) defaults to downtown Houston.
    center_lon: float = -95.2
    center_lat: float = 29.7
    extent_lon_deg: float = 1.6
    extent_lat_deg: float = 1.6
    core_lon: float = -95.37
    core_lat: float = 29.76
    core_share: float = 0.6  # share of neighbourhood clusters around the core (rest: suburban towns)
    # Feeders: customers per feeder and feeders per substation (domain-facts 6.4).
    customers_per_feeder: tuple[int, int] = (1000, 1900)
    feeders_per_substation: tuple[int, int] = (1, 10)
    max_feeder_kva: float = 10_000.0  # planning cap per 12.47 kV feeder at normal peak
    trunk_planning_loading: float = 0.67  # trunk peak current <= this x ampacity (room for transfers)
    max_voltage_drop_pct: float = 5.0  # primary drop at peak, substation bus to farthest bus
    # Neighbourhood layout: lateral length in transformer sites, homes per transformer.
    lateral_sites: tuple[int, int] = (5, 7)
    homes_per_transformer: tuple[int, int] = (5, 8)
    commercial_per_transformer: tuple[int, int] = (2, 8)
    commercial_share: float = 0.11  # of customers (EIA-861 Texas: ~11-12 % commercial accounts)
    industrial_per_feeder: float = 0.12  # probability a feeder carries one industrial site
    critical_per_feeder: float = 0.6  # mean critical facilities per feeder (Poisson)
    underground_share: float = 0.86  # mean share of URD laterals (calibrated to the seed's poles/xfmrs)
    pv_share: float = 0.05  # residential rooftop PV adoption
    pole_span_m: float = 55.0  # maximum overhead span between poles
    max_tie_m: float = 700.0  # longest tie run to a neighbouring feeder
    max_tie_line_m: float = (
        3000.0  # a feeder with no neighbour that close gets one tie line this long at most
    )
    ties_per_feeder: int = 3
    # Phases (generator/phasing.py): spread of each feeder's phase preference for single-phase laterals
    # (median phase-load unbalance ~11 %, IEEE 13/34/123: 11-20 %), the share of single-phase laterals off
    # the planner's A-B-C rotation, and the share of the larger laterals
    # that are two-phase.
    phase_unbalance_sigma: float = 0.5
    phase_reassign_share: float = 0.3
    two_phase_lateral_share: float = 0.3

    def validated(self) -> GeneratorParams:
        """Return self if every field is in range, else raise InvalidInputError naming the field."""
        checks: list[tuple[str, bool]] = [
            ("n_substations", self.n_substations >= 1),
            ("target_meters", self.target_meters >= 1),
            ("extent_lon_deg", 0.0 < self.extent_lon_deg <= 20.0),
            ("extent_lat_deg", 0.0 < self.extent_lat_deg <= 20.0),
            ("center_lat", -80.0 <= self.center_lat <= 80.0),
            ("center_lon", -180.0 <= self.center_lon <= 180.0),
            ("core_share", 0.0 <= self.core_share <= 1.0),
            ("customers_per_feeder", 10 <= self.customers_per_feeder[0] <= self.customers_per_feeder[1]),
            ("feeders_per_substation", 1 <= self.feeders_per_substation[0] <= self.feeders_per_substation[1]),
            ("max_feeder_kva", self.max_feeder_kva > 0),
            ("trunk_planning_loading", 0.0 < self.trunk_planning_loading <= 1.0),
            ("max_voltage_drop_pct", self.max_voltage_drop_pct > 0),
            ("lateral_sites", 1 <= self.lateral_sites[0] <= self.lateral_sites[1]),
            ("homes_per_transformer", 1 <= self.homes_per_transformer[0] <= self.homes_per_transformer[1]),
            (
                "commercial_per_transformer",
                1 <= self.commercial_per_transformer[0] <= self.commercial_per_transformer[1],
            ),
            ("commercial_share", 0.0 <= self.commercial_share < 0.9),
            ("industrial_per_feeder", 0.0 <= self.industrial_per_feeder <= 1.0),
            ("critical_per_feeder", self.critical_per_feeder >= 0.0),
            ("underground_share", 0.0 <= self.underground_share <= 1.0),
            ("pv_share", 0.0 <= self.pv_share <= 1.0),
            ("pole_span_m", 10.0 <= self.pole_span_m <= 200.0),
            ("max_tie_m", self.max_tie_m >= 0.0),
            ("max_tie_line_m", self.max_tie_line_m >= 0.0),
            ("ties_per_feeder", self.ties_per_feeder >= 0),
            ("phase_unbalance_sigma", 0.0 <= self.phase_unbalance_sigma <= 3.0),
            ("phase_reassign_share", 0.0 <= self.phase_reassign_share <= 1.0),
            ("two_phase_lateral_share", 0.0 <= self.two_phase_lateral_share <= 1.0),
        ]
        for name, ok in checks:
            if not ok:
                raise InvalidInputError(
                    f"generator parameter {name} out of range: {getattr(self, name)!r}", field=name
                )
        return self


_DEFAULT = GeneratorParams()

PRESETS: dict[str, GeneratorParams] = {
    # Tests: 2 substations x 2 small feeders in a ~6 km box, so ties join both substations.
    "tiny": replace(
        _DEFAULT,
        n_substations=2,
        target_meters=600,
        extent_lon_deg=0.06,
        extent_lat_deg=0.06,
        center_lon=-95.37,
        center_lat=29.76,
        customers_per_feeder=(120, 180),
        lateral_sites=(3, 4),
        industrial_per_feeder=0.5,
        critical_per_feeder=1.5,
        max_tie_m=2500.0,  # the two stations are a few km apart: tie them, so tests see both kinds
    ),
    # The default: >= 66,000 map assets (the seed's "66K+ assets"), plus their meters.
    "demo": replace(_DEFAULT, n_substations=70, target_meters=165_000),
    # The seed's full hierarchy: ~275 substations, ~91,500 transformers, ~62,000 poles, ~597,000 meters.
    "houston": replace(_DEFAULT, n_substations=275, target_meters=615_000),
    # CenterPoint scale (>2.5 M smart meters), for benchmarks.
    "stress": replace(_DEFAULT, n_substations=1150, target_meters=2_580_000),
}
