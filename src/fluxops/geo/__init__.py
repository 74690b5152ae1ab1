"""Geospatial operations (issue 13): vector-tile layers and tile math, spatial-query inputs and their
validation, H3 aggregation. Pure NumPy / shapely / h3: the stores run the SQL (`fluxops.storage.tiles_*`,
`fluxops.storage.spatial_queries`), the API serves it (`fluxops.api.routes.tiles`, `.spatial`)."""
