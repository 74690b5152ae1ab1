"""Cascade analysis: scenarios, the wave-by-wave engine, Monte Carlo, screening and decision support."""
