"""Network kernels on arrays: compile a grid, energization, power flow, centrality.

Entry points: `fluxops.network.compiled.compile_grid`, `fluxops.network.energization.energize`,
`fluxops.network.powerflow.run_powerflow`, `fluxops.network.elements.resolve_element`.
"""
