"""Offline multitrack renderer: procedural bands and corpus pieces -> MedleyDB-layout stems."""
