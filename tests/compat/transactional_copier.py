"""A transactional message copier (after Kafka's tools TransactionalMessageCopier), run as its own
process by test_transactional_copier.py:

  transactional_copier.py BOOTSTRAP INPUT_TOPIC INPUT_PARTITION OUTPUT_TOPIC OUTPUT_PARTITIONS GROUP
                          TRANSACTIONAL_ID INCARNATION MAX_BATCH DEADLINE_SECONDS [PAUSE_STEP]

It reads one input partition with a read_committed consumer of GROUP (assigned, offsets never
auto-committed) from the group's committed offset, and copies each batch it reads into the output
topic in one transaction, with the consumer's position sent to the transaction
(send_offsets_to_transaction with the consumer's group metadata). It stops once its position
reaches the input partition's end offset as it was at start.

A copy's key is the input record's key; its value is "<input partition>:<input offset>:<incarnation>:
<input value>", so that duplicates and aborted copies can be told apart; it goes to output partition
input offset % OUTPUT_PARTITIONS.

Errors are handled as Kafka's copier does: a fatal error (a fenced producer, ...) ends the process
with exit code 2; an error that requires the transaction to be aborted aborts it and rewinds the
consumer to the group's committed offset; a retriable error repeats the call.

It prints one line per step on stdout, flushed, for the test to follow (and to kill it at):
  ready <position> <end>
  begin <position> <records>        before begin_transaction()
  produced <position> <records>     every copy handed to the producer
  flushed <position> <records>      every copy acknowledged (in the log, not yet committed)
  offsets <position> <records>      send_offsets_to_transaction() returned
  committing <position> <records>   just before commit_transaction()
  committed <position> <records>    commit_transaction() returned
  aborted <position> <reason>       after an abort and the rewind, at the rewound position
  done <position> <transactions committed> <aborts>
After printing PAUSE_STEP the copier waits for a line on stdin before it goes on, so that the test
can act at exactly that point (kill it, or the broker). Without stdin (EOF) it goes on.
Exit codes: 0 done; 2 fatal error; 3 deadline passed; 1 anything else (a traceback on stderr).
"""

import os
import sys
import time

import confluent_kafka
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING

TIMEOUT = 30.0


class Fatal(Exception):
    pass


pause_step = None


def say(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()
    if words[0] == pause_step:
        sys.stdin.readline()


def main(argv):
    global pause_step
    (bootstrap, input_topic, input_partition, output_topic, output_partitions, group, transactional_id,
     incarnation, max_batch) = argv[:9]
    input_partition, output_partitions, max_batch = int(input_partition), int(output_partitions), int(max_batch)
    deadline = time.monotonic() + float(argv[9])
    pause_step = argv[10] if len(argv) > 10 else None
    # A restarted broker is back within a second: reconnect at most that long after (librdkafka's
    # backoff otherwise doubles up to 10 s as the broker goes away again and again).
    common = {"log.connection.close": False, "reconnect.backoff.max.ms": 1000}
    if confluent_kafka.libversion()[1] >= 0x020a0000:
        # librdkafka 2.10 on "re-bootstraps" when every broker is down, as when the one broker
        # restarts; the group coordinator it had cached is then a broker it has dropped, and
        # send_offsets_to_transaction() waits for it forever, past its timeout (librdkafka issues
        # 5511 and 5456, against any Kafka). Without re-bootstrapping the client reconnects to the
        # same address, which is what a single broker needs.
        common["metadata.recovery.strategy"] = "none"
    if os.environ.get("BROOK_COPIER_DEBUG"):  # librdkafka's debug contexts, e.g. "eos,protocol"
        common["debug"] = os.environ["BROOK_COPIER_DEBUG"]

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                         "enable.auto.offset.store": False, "isolation.level": "read_committed",
                         "auto.offset.reset": "earliest", **common})
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                         "transaction.timeout.ms": 30000, "linger.ms": 5, **common})
    tp = TopicPartition(input_topic, input_partition)

    def call(what, fn):
        """Runs fn(), repeating it on retriable errors; raises Fatal on a fatal one."""
        while True:
            if time.monotonic() > deadline:
                say("deadline", what)
                sys.exit(3)
            try:
                return fn()
            except KafkaException as e:
                err = e.args[0]
                if err.fatal():
                    raise Fatal(f"{what}: {err}")
                if err.retriable() and not err.txn_requires_abort():
                    print(f"retrying {what}: {err}", file=sys.stderr, flush=True)
                    continue
                raise

    call("init_transactions", lambda: producer.init_transactions(TIMEOUT))
    end = call("get_watermark_offsets", lambda: consumer.get_watermark_offsets(tp, timeout=TIMEOUT))[1]

    def committed_offset():
        [c] = call("committed", lambda: consumer.committed([tp], timeout=TIMEOUT))
        if c.error is not None:
            raise KafkaException(c.error)
        return c.offset if c.offset >= 0 else 0

    position = committed_offset()
    consumer.assign([TopicPartition(input_topic, input_partition, position if position > 0 else OFFSET_BEGINNING)])
    say("ready", position, end)

    transactions = aborts = 0
    while position < end:
        if time.monotonic() > deadline:
            say("deadline", "consume")
            return 3
        batch = []
        for m in consumer.consume(max_batch, 0.2):
            err = m.error()
            if err is None:
                batch.append(m)
            elif err.fatal():
                raise Fatal(f"consumer: {err}")
            elif err.code() != KafkaError._PARTITION_EOF:
                print(f"consumer: {err}", file=sys.stderr, flush=True)  # the client recovers by itself
        if not batch:
            continue
        assert batch[0].offset() == position, f"read offset {batch[0].offset()} at position {position}"
        next_position = batch[-1].offset() + 1
        failed = []  # delivery errors of this batch's copies

        def delivered(err, _msg):
            if err is not None:
                failed.append(err)

        try:
            say("begin", position, len(batch))
            producer.begin_transaction()
            for m in batch:
                value = b"%d:%d:%s:" % (m.partition(), m.offset(), incarnation.encode()) + m.value()
                while True:
                    try:
                        producer.produce(output_topic, key=m.key(), value=value,
                                         partition=m.offset() % output_partitions, on_delivery=delivered)
                        break
                    except BufferError:
                        producer.poll(0.05)
            producer.poll(0)
            say("produced", position, len(batch))
            left = producer.flush(TIMEOUT)
            if left:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, f"{left} copies not acknowledged"))
            if failed:  # the transaction cannot commit (commit_transaction would say so too)
                raise KafkaException(failed[0])
            say("flushed", position, len(batch))
            offsets = [TopicPartition(input_topic, input_partition, next_position)]
            call("send_offsets_to_transaction", lambda: producer.send_offsets_to_transaction(
                offsets, consumer.consumer_group_metadata(), TIMEOUT))
            say("offsets", position, len(batch))
            say("committing", position, len(batch))
            call("commit_transaction", lambda: producer.commit_transaction(TIMEOUT))
            transactions += 1
            position = next_position
            say("committed", position, len(batch))
        except KafkaException as e:
            err = e.args[0]
            if err.fatal():
                raise Fatal(str(err))
            print(f"aborting: {err}", file=sys.stderr, flush=True)
            call("abort_transaction", lambda: producer.abort_transaction(TIMEOUT))
            aborts += 1
            position = committed_offset()
            consumer.seek(TopicPartition(input_topic, input_partition, position))
            say("aborted", position, err.name())
    say("done", position, transactions, aborts)
    consumer.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Fatal as e:
        print(f"fatal: {e}", file=sys.stderr, flush=True)
        say("fatal", str(e).replace("\n", " "))
        sys.exit(2)
