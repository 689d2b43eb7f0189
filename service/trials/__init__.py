"""n-of-1 trials: randomised, balanced schedules of massage and rest-control sessions."""
