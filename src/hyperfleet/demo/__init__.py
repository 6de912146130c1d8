"""`hyperfleet demo`: the whole loop in one process (composition root of the loop).

API (with embedded PostgreSQL unless a database URL is given), one Sentinel per kind, the broker
(in-process unless a RabbitMQ URL is given) and the simulated adapters the entity configuration
requires. This package may import the API's composition root; the loop's parts never import it.
"""
