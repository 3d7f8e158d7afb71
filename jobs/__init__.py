"""Background work: the queue, the hourly schedule, the tasks and the source connectors."""
