"""AMI telemetry: readings and events schema, weather, synthetic meter data, validation, ingestion,
thermal model (IEEE C57.91). No storage imports: SQL over the lake lives in fluxops.storage."""
