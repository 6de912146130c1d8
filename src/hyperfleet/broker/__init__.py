"""Message broker: Publisher/Subscriber ports, CloudEvents codec, in-process and RabbitMQ."""
