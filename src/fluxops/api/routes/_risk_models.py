"""Request and response models of the risk routes (`fluxops.api.routes.risk`): the fields and their units
documented once, in the OpenAPI schema. Rows allow extra fields, so a field added later never breaks a
client. The leading underscore keeps the app's route discovery from loading this module as a router."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from fluxops.api.params import one_of
from fluxops.cascade.scenarios import PRESETS

Scenario = one_of(tuple(PRESETS))


class ConsequenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    scenario: Scenario = Field("summer_peak", description="Scenario simulated")  # type: ignore[valid-type]
    force: bool = Field(
        False, description="Simulate again even when this configuration and scenario are cached"
    )


class RiskAssetRow(BaseModel):
    """One asset. Likelihood from the served model; consequence and risk null until simulated."""

    model_config = ConfigDict(extra="allow")
    asset_id: str
    asset_type: str
    feeder_id: str | None = None
    substation_id: str | None = None
    probability: float = Field(description="P(at least one failure in the 12 months after the history)")
    rank: int = Field(description="1 = highest probability")
    customers_affected: int | None = Field(None, description="customers behind the device that operates")
    past_failures: int | None = Field(None, description="failures on record in the history")
    age_y: float | None = Field(None, description="years in service at the cut-off (null: unknown)")
    expected_failures_per_y: float | None = Field(None, description="λ = −ln(1 − probability), failures/yr")
    customers_interrupted: float | None = Field(
        None, description="simulated: customers with a sustained interruption per failure (FLISR pick-ups in)"
    )
    customer_minutes: float | None = Field(None, description="simulated: customer-minutes per failure")
    ice_usd: float | None = Field(None, description="simulated: DOE/LBNL ICE customer cost per failure, $")
    restoration_usd: float | None = Field(None, description="simulated: crew and material per failure, $")
    mwh_unserved: float | None = Field(None, description="simulated: energy not served per failure, MWh")
    simulated_element: str | None = Field(
        None, description="the element whose cascade stands for this asset (its line section's segment)"
    )
    risk_customers_per_y: float | None = Field(None, description="λ × customers_interrupted, customers/yr")
    risk_customer_minutes_per_y: float | None = Field(None, description="λ × customer_minutes, min/yr")
    risk_usd_per_y: float | None = Field(None, description="λ × ice_usd, $/yr")
    lon: float | None = Field(None, description="WGS84 longitude (a segment's midpoint)")
    lat: float | None = Field(None, description="WGS84 latitude")


class AssetsPage(BaseModel):
    model_config = ConfigDict(extra="allow")
    model_id: str
    total: int
    offset: int
    limit: int
    horizon: str
    consequence: dict[str, Any] = Field(
        description="status computed|none, scenario, method, computed_utc, config_hash; or what to do"
    )
    assets: list[RiskAssetRow]


class RollupRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(description="feeder or substation id")
    assets: int
    assets_without_consequence: int = Field(description="assets left out of the consequence sums (unknown)")
    expected_failures_per_y: float | None = None
    risk_customers_per_y: float | None = None
    risk_customer_minutes_per_y: float | None = Field(None, description="expected customer-minutes a year")
    risk_usd_per_y: float | None = Field(None, description="expected ICE cost a year, $")


class RollupPage(BaseModel):
    model_config = ConfigDict(extra="allow")
    model_id: str
    level: str
    total: int
    offset: int
    limit: int
    consequence: dict[str, Any]
    rows: list[RollupRow]
