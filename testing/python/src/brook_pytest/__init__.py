"""Brook in pytest: a throwaway Kafka-compatible broker per test session, reset between tests.

    def test_produce(brook):
        producer = confluent_kafka.Producer({"bootstrap.servers": brook.bootstrap_servers})

The plugin (registered through the `pytest11` entry point) provides the fixtures `brook` and
`brook_session`; `Brook` and `start()` run a broker outside pytest.
"""

from brook_pytest.server import Brook, BrookControlError, BrookError, find_server, start

__all__ = ["Brook", "BrookControlError", "BrookError", "find_server", "start"]
