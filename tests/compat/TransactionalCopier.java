// transactional_copier.py with Kafka's Java client (kafka-clients, which runs transaction version 2,
// KIP-890, against a broker that finalizes it): the same arguments, steps printed and exit codes, for
// test_transactional_copier_java.py. Errors are handled as Kafka's TransactionalMessageCopier does: a
// fenced producer or an out-of-order sequence ends the process (exit code 2); any other KafkaException
// aborts the transaction and rewinds the consumer to the group's committed offset. A timed-out
// sendOffsetsToTransaction, commitTransaction or abortTransaction is called again, as the producer
// asks.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class TransactionalCopier {
  private static String pauseStep;
  private static long deadline;
  private static final BufferedReader STDIN = new BufferedReader(new InputStreamReader(System.in));

  private static void say(Object... words) throws Exception {
    StringBuilder line = new StringBuilder();
    for (Object w : words) line.append(line.length() > 0 ? " " : "").append(w);
    System.out.println(line);
    System.out.flush();
    if (words[0].equals(pauseStep)) STDIN.readLine();
  }

  private static void checkDeadline(String what) throws Exception {
    if (System.nanoTime() > deadline) {
      say("deadline", what);
      System.exit(3);
    }
  }

  private interface Call {
    void run();
  }

  // Runs `call` again while it times out.
  private static void retrying(String what, Call call) throws Exception {
    while (true) {
      checkDeadline(what);
      try {
        call.run();
        return;
      } catch (TimeoutException e) {
        System.err.println("retrying " + what + ": " + e);
      }
    }
  }

  private static long committed(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp) {
    OffsetAndMetadata m = consumer.committed(Set.of(tp)).get(tp);
    return m == null ? 0 : m.offset();
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0], input = args[1], output = args[3], group = args[5], transactionalId = args[6];
    String incarnation = args[7];
    int inputPartition = Integer.parseInt(args[2]), outputPartitions = Integer.parseInt(args[4]);
    int maxBatch = Integer.parseInt(args[8]);
    deadline = System.nanoTime() + (long) (Double.parseDouble(args[9]) * 1e9);
    pauseStep = args.length > 10 ? args[10] : null;

    Properties common = new Properties();
    common.put("bootstrap.servers", bootstrap);
    common.put("reconnect.backoff.max.ms", "1000");  // the restarted broker is back within a second
    Properties c = new Properties();
    c.putAll(common);
    c.put("group.id", group);
    c.put("enable.auto.commit", "false");
    c.put("isolation.level", "read_committed");
    c.put("auto.offset.reset", "earliest");
    c.put("max.poll.records", String.valueOf(maxBatch));
    c.put("key.deserializer", ByteArrayDeserializer.class.getName());
    c.put("value.deserializer", ByteArrayDeserializer.class.getName());
    Properties p = new Properties();
    p.putAll(common);
    p.put("transactional.id", transactionalId);
    p.put("transaction.timeout.ms", "30000");
    p.put("linger.ms", "5");
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());

    TopicPartition tp = new TopicPartition(input, inputPartition);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c);
         KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      producer.initTransactions();
      consumer.assign(List.of(tp));
      long end = consumer.endOffsets(List.of(tp)).get(tp);
      long position = committed(consumer, tp);
      consumer.seek(tp, position);
      say("ready", position, end);
      int transactions = 0, aborts = 0;
      while (position < end) {
        checkDeadline("consume");
        ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(200));
        List<ConsumerRecord<byte[], byte[]>> batch = polled.records(tp);
        if (batch.isEmpty()) continue;
        if (batch.get(0).offset() != position)
          throw new IllegalStateException("read offset " + batch.get(0).offset() + " at position " + position);
        long next = batch.get(batch.size() - 1).offset() + 1;
        try {
          say("begin", position, batch.size());
          producer.beginTransaction();
          List<Future<RecordMetadata>> sent = new ArrayList<>();
          for (ConsumerRecord<byte[], byte[]> r : batch) {
            byte[] head = (r.partition() + ":" + r.offset() + ":" + incarnation + ":").getBytes();
            byte[] value = new byte[head.length + r.value().length];
            System.arraycopy(head, 0, value, 0, head.length);
            System.arraycopy(r.value(), 0, value, head.length, r.value().length);
            sent.add(producer.send(new ProducerRecord<>(output, (int) (r.offset() % outputPartitions), r.key(), value)));
          }
          say("produced", position, batch.size());
          producer.flush();
          for (Future<RecordMetadata> f : sent) {
            try {
              f.get();
            } catch (ExecutionException e) {
              throw e.getCause() instanceof KafkaException ? (KafkaException) e.getCause() : new KafkaException(e.getCause());
            }
          }
          say("flushed", position, batch.size());
          Map<TopicPartition, OffsetAndMetadata> offsets = Map.of(tp, new OffsetAndMetadata(next));
          retrying("sendOffsetsToTransaction", () -> producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata()));
          say("offsets", position, batch.size());
          say("committing", position, batch.size());
          retrying("commitTransaction", producer::commitTransaction);
          transactions++;
          position = next;
          say("committed", position, batch.size());
        } catch (ProducerFencedException | OutOfOrderSequenceException e) {
          System.err.println("fatal: " + e);
          say("fatal", e.toString().replace('\n', ' '));
          System.exit(2);
        } catch (KafkaException e) {
          System.err.println("aborting: " + e);
          retrying("abortTransaction", producer::abortTransaction);
          aborts++;
          position = committed(consumer, tp);
          consumer.seek(tp, position);
          say("aborted", position, e.getClass().getSimpleName());
        }
      }
      say("done", position, transactions, aborts);
    }
    System.exit(0);
  }
}
