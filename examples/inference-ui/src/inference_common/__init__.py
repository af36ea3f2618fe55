"""Pieces both Inference UI workers share: tiers and their limits, clocks, ids."""
