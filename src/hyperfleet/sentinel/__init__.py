"""Sentinel: polls one kind through the API client, decides with CEL, publishes reconcile events."""
