"""locust's fastest client (FastHttpUser, no wait) for `bench/loadgen.py` to compare with."""

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser


class Bench(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self) -> None:
        self.client.get("/")
