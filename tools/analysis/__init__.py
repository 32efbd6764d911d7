"""Recommendation engines: pure functions over a columnar fleet snapshot, thresholds in `settings`."""
