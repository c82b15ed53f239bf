"""Measures as data: definitions, the computation engine, trajectories, inequalities, disclosure control."""
