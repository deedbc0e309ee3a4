"""The idempotent producer (enable.idempotence=true) against Brook: every record exactly once, also
when a Produce response is lost after the broker appended the batch and the producer retries.

Clients reach the broker through a small TCP proxy in this script that the broker advertises as its
address (advertised.listeners), so every client connection goes through it. The proxy can drop the
connection right after the broker answered the N-th Produce request, before the answer reaches the
client: the batch is in the log but the producer does not know it.

Assertions marked [InitProducerId] need the broker to serve InitProducerId and to recognise a
retried batch (same producer id, epoch and sequence) as a duplicate, answering with the original
offset instead of appending it again. The control test (no idempotence) shows the proxy really
causes a retry: there Kafka appends the retried batch a second time.
"""

import socket
import struct
import threading
import time

import brook_harness as h
import produce_consume_util as u

h.require_modules("confluent_kafka")

from confluent_kafka import KafkaError, KafkaException, Producer  # noqa: E402

PRODUCE = 0


class CuttingProxy:
    """Forwards Kafka connections from a local port to the broker, frame by frame.

    Owns its listening socket and one pair of pump threads per client connection. `cut_after(n)` makes
    it drop the connection that carries the n-th Produce response counted from then on (several n may
    be given), instead of forwarding that response; `cuts` counts the connections dropped so. Counters are guarded by
    `_lock`.
    """

    def __init__(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self.target_port = None
        self._lock = threading.Lock()
        self._cut_at = set()
        self._armed_at = 0
        self.cuts = 0
        self.produce_responses = 0
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def cut_after(self, *ns):
        with self._lock:
            self._cut_at = set(ns)
            self._armed_at = self.produce_responses
            self.cuts = 0

    def disarm(self):
        with self._lock:
            self._cut_at = set()

    def _accept_loop(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            for s in (client, server):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            api_of = {}  # correlation id -> api key, for this connection
            threading.Thread(target=self._requests, args=(client, server, api_of), daemon=True).start()
            threading.Thread(target=self._responses, args=(server, client, api_of), daemon=True).start()

    @staticmethod
    def _read_frame(sock):
        head = _recv_exact(sock, 4)
        if head is None:
            return None
        (size,) = struct.unpack(">i", head)
        body = _recv_exact(sock, size)
        return None if body is None else head + body

    def _requests(self, client, server, api_of):
        try:
            while True:
                frame = self._read_frame(client)
                if frame is None:
                    break
                api_key, _, correlation = struct.unpack(">hhi", frame[4:12])
                with self._lock:
                    api_of[correlation] = api_key
                server.sendall(frame)
        except OSError:
            pass
        _close(client, server)

    def _responses(self, server, client, api_of):
        try:
            while True:
                frame = self._read_frame(server)
                if frame is None:
                    break
                (correlation,) = struct.unpack(">i", frame[4:8])
                cut = False
                with self._lock:
                    if api_of.pop(correlation, None) == PRODUCE:
                        self.produce_responses += 1
                        if self.produce_responses - self._armed_at in self._cut_at:
                            self.cuts += 1
                            cut = True
                if cut:
                    break  # the broker has appended the batch; the client never hears of it
                client.sendall(frame)
        except OSError:
            pass
        _close(client, server)


def _recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _close(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


PROXY = CuttingProxy()


def proxy_bootstrap(srv):
    PROXY.target_port = srv.port
    return f"127.0.0.1:{PROXY.port}"


class ProxiedServer:
    """What the helpers need of a broker, pointing clients at the proxy."""

    def __init__(self, srv):
        self.bootstrap = proxy_bootstrap(srv)


def produce_sequenced(srv, topic, n, keys, flush_timeout=30, **conf):
    """Produces values "seq-<i>" under keys[i % len(keys)]; returns (delivery reports, fatal errors).

    Stops early when the producer reports a fatal error (e.g. the broker cannot give it a producer id).
    """
    fatal = []
    settings = {"bootstrap.servers": proxy_bootstrap(srv), "acks": "all", "linger.ms": 5,
                "message.timeout.ms": 20000, "error_cb": lambda e: fatal.append(e) if e.fatal() else None,
                **u.QUIET}
    settings.update({k.replace("_", "."): v for k, v in conf.items()})
    prod = Producer(settings)
    reports = [None] * n

    def on_delivery(i):
        return lambda err, msg: reports.__setitem__(i, u.Delivery(err, msg))

    try:
        for i in range(n):
            while True:
                try:
                    prod.produce(topic, key=keys[i % len(keys)], value=f"seq-{i}".encode(),
                                 headers=[("seq", str(i).encode())], on_delivery=on_delivery(i))
                    break
                except BufferError:
                    prod.poll(0.01)
            if i % 500 == 0:
                prod.poll(0)
        deadline = time.monotonic() + flush_timeout
        while len(prod) > 0 and not fatal and time.monotonic() < deadline:
            prod.poll(0.05)
    except KafkaException as e:
        # librdkafka raises its fatal errors from produce()/poll() as well as reporting them.
        err = e.args[0]
        if not (err.fatal() or err.code() == KafkaError._FATAL):
            raise
        try:
            prod.poll(0.1)  # lets error_cb report the underlying fatal error
        except KafkaException:
            pass
        fatal.append(err)
    left = len(prod)
    if fatal:
        prod.purge()
        prod.flush(2)
    del prod
    assert not fatal, f"producer fatal error (the broker must grant a producer id): {fatal}"
    assert left == 0, f"{left} of {n} records undelivered after {flush_timeout}s"
    return reports


def seqs_in(records):
    return [int(r.value.decode().split("-")[1]) for r in records]


def check_exactly_once(srv, topic, partitions, n, reports):
    consumed = u.consume_to_end(ProxiedServer(srv), topic, partitions)
    all_seqs = [s for recs in consumed.values() for s in seqs_in(recs)]
    counts = {}
    for s in all_seqs:
        counts[s] = counts.get(s, 0) + 1
    dups = sorted(s for s, c in counts.items() if c > 1)
    gaps = sorted(set(range(n)) - set(counts))
    assert not dups and not gaps, \
        f"{topic}: {len(all_seqs)} records for {n} sent; {len(dups)} duplicated (e.g. {dups[:5]}), " \
        f"{len(gaps)} missing (e.g. {gaps[:5]})"
    for p, recs in consumed.items():
        assert [r.offset for r in recs] == list(range(len(recs))), f"{topic}[{p}]: offsets not dense"
        per_key = {}
        for r in recs:
            per_key.setdefault(r.key, []).append(seqs_in([r])[0])
        for key, seqs in per_key.items():
            assert seqs == sorted(seqs), f"{topic}[{p}] key {key}: order broken {seqs[:20]}"
    where = {(r.partition, r.offset): seqs_in([r])[0] for recs in consumed.values() for r in recs}
    for i, rep in enumerate(reports):
        assert where.get((rep.partition, rep.offset)) == i, \
            f"record {i} reported at {rep.partition}@{rep.offset}, which holds {where.get((rep.partition, rep.offset))}"


# --- tests ---------------------------------------------------------------------------------------

def test_control_lost_response_without_idempotence_duplicates_batch(srv):
    """Needs no InitProducerId: proves the proxy's cut makes librdkafka resend an appended batch."""
    topic = u.create_topic(ProxiedServer(srv), h.unique_name("plain-cut"), 1)
    PROXY.cut_after(3)
    reports = produce_sequenced(srv, topic, 2000, [b"k"], enable_idempotence=False, retries=10,
                                max_in_flight=1, batch_num_messages=100, retry_backoff_ms=10)
    PROXY.disarm()
    u.assert_delivered(reports)
    assert PROXY.cuts == 1, f"the proxy cut {PROXY.cuts} connections, expected 1"
    recs = u.consume_to_end(ProxiedServer(srv), topic, [0])[0]
    seqs = seqs_in(recs)
    assert set(seqs) == set(range(2000)), "records lost"
    assert len(seqs) > 2000, "a lost Produce response without idempotence must lead to a duplicated batch " \
                             "(Kafka appends the retry again); none found, so the proxy did not cause a retry"


def test_idempotent_10000_exactly_once(srv):
    """[InitProducerId] enable.idempotence=true, acks=all: every record once, per-key order kept."""
    topic = u.create_topic(ProxiedServer(srv), h.unique_name("idem"), 4)
    keys = [f"key-{i}".encode() for i in range(50)]
    reports = produce_sequenced(srv, topic, 10_000, keys, enable_idempotence=True)
    u.assert_delivered(reports)
    check_exactly_once(srv, topic, 4, 10_000, reports)


def test_idempotent_lost_response_is_not_duplicated(srv):
    """[InitProducerId + duplicate-sequence detection] a Produce response lost after the append: the
    retried batch is recognised and answered with its original offset, not appended twice."""
    topic = u.create_topic(ProxiedServer(srv), h.unique_name("idem-cut"), 1)
    PROXY.cut_after(3)
    reports = produce_sequenced(srv, topic, 2000, [b"k"], enable_idempotence=True, batch_num_messages=100)
    PROXY.disarm()
    u.assert_delivered(reports)
    assert PROXY.cuts == 1, f"the proxy cut {PROXY.cuts} connections, expected 1"
    check_exactly_once(srv, topic, [0], 2000, reports)


def test_idempotent_two_lost_responses_with_several_in_flight(srv):
    """[InitProducerId + duplicate-sequence detection] as above, over 3 partitions with up to 5
    requests in flight and two cuts."""
    topic = u.create_topic(ProxiedServer(srv), h.unique_name("idem-cut2"), 3)
    keys = [f"key-{i}".encode() for i in range(9)]
    PROXY.cut_after(4, 12)
    reports = produce_sequenced(srv, topic, 3000, keys, enable_idempotence=True, batch_num_messages=50,
                                max_in_flight=5)
    PROXY.disarm()
    u.assert_delivered(reports)
    assert PROXY.cuts == 2, f"the proxy cut {PROXY.cuts} connections, expected 2"
    check_exactly_once(srv, topic, 3, 3000, reports)


if __name__ == "__main__":
    h.main(globals(), overrides={"advertised.listeners": f"PLAINTEXT://127.0.0.1:{PROXY.port}"},
           modules=["confluent_kafka"])
