"""Analysis wiring: fetch a person's samples, call signal_processing, shape the results."""
