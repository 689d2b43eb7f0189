"""A therapist's (or app's) view of the persons who granted it access: the client list and a
client's sessions with their headline responses."""
