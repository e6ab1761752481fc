"""Schemathesis hooks for scripts/api-check: NDJSON bodies are sent as the text the schema
generates (one JSON value per line is what the server expects; anything else is a case it must
refuse with a documented answer)."""

import schemathesis

schemathesis.serializer.alias("application/x-ndjson", "text/plain")
schemathesis.serializer.alias("application/ndjson", "text/plain")
schemathesis.serializer.alias("application/jsonl", "text/plain")
