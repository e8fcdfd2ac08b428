"""Load generation: the HTTP and gRPC generators and the progress of long tasks."""
