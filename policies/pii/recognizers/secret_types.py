"""The entity types of the credential recognizers, without importing them (see `secrets`)."""

SECRET_TYPES = frozenset({"API_KEY", "JWT", "PRIVATE_KEY", "PASSWORD"})
