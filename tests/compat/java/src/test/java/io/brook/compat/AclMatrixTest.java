package io.brook.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kafka's ACL authorizer on both brokers (tests/compat/security_certs.py: StandardAuthorizer, super users
 * User:ANONYMOUS and User:admin, allow.everyone.if.no.acl.found=true): what a principal that is no super
 * user gets from each API a client uses, without and with the ACLs it needs.
 *
 * The principal is PRINCIPAL, an OAUTHBEARER subject of this run's own over SASL_PLAINTEXT, so that its
 * ACLs (those on the cluster included) concern no other test class; the classes run at the same time.
 * User:bob (PLAIN) is seen on one topic of this run. This run's topics, groups and transactional ids
 * all start with PREFIX, and a PREFIXED ACL for User:alice on each of these resource types makes them
 * restricted: allow.everyone.if.no.acl.found does not apply to them. The cluster resource is kept open
 * to everyone by an ALLOW ACL for User:*, and PRINCIPAL gets DENY ACLs on it for the cluster operations
 * that would otherwise stand in for the topic ones (CREATE for CreateTopics, DELETE for DeleteTopics,
 * IDEMPOTENT_WRITE for the idempotent producer, whose InitProducerId then needs WRITE on some topic,
 * which Kafka's check by resource type finds granted by allow.everyone.if.no.acl.found); DescribeAcls,
 * CreateAcls and the broker's configs are seen with and without DENY ACLs of its own on the cluster.
 * ACLs are granted and revoked by the PLAINTEXT admin client (User:ANONYMOUS), and each change is
 * awaited through DescribeAcls (Kafka applies ACLs after answering). Every ACL of this run is removed
 * after the class.
 */
class AclMatrixTest {
  static final String PREFIX = Side.name("acl");
  static final String PRINCIPAL_NAME = PREFIX + "-user";
  static final String PRINCIPAL = "User:" + PRINCIPAL_NAME;
  static final ResourcePattern CLUSTER = new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL);
  static final AclBinding CLUSTER_OPEN =
      new AclBinding(CLUSTER, new AccessControlEntry("User:*", "*", AclOperation.ALL, AclPermissionType.ALLOW));
  static final String ACLS = "org.apache.kafka.tools.AclCommand";
  /**
   * kafka-acls prints a resource's ACLs in the order of a HashSet, which keeps the order the broker
   * described them in when their hashes share a bucket; Kafka describes ACLs in no set order (its
   * authorizer keeps them by random id). Each run here shows one resource: its lines compare sorted.
   */
  static final UnaryOperator<String> SORTED = text -> text.lines().sorted().map(l -> l + "\n").reduce("", String::concat);

  /** The restrictions and the cluster's DENY ACLs every test starts from. */
  static List<AclBinding> baseline() {
    List<AclBinding> acls = new ArrayList<>();
    for (ResourceType type : List.of(ResourceType.TOPIC, ResourceType.GROUP, ResourceType.TRANSACTIONAL_ID)) {
      acls.add(new AclBinding(new ResourcePattern(type, PREFIX, PatternType.PREFIXED),
          new AccessControlEntry("User:alice", "*", AclOperation.ALL, AclPermissionType.ALLOW)));
    }
    acls.add(CLUSTER_OPEN);
    acls.add(deny(CLUSTER, AclOperation.CREATE));
    acls.add(deny(CLUSTER, AclOperation.IDEMPOTENT_WRITE));
    acls.add(deny(CLUSTER, AclOperation.DELETE));
    return acls;
  }

  static AclBinding allow(ResourceType type, String name, AclOperation operation) {
    return new AclBinding(new ResourcePattern(type, name, PatternType.LITERAL),
        new AccessControlEntry(PRINCIPAL, "*", operation, AclPermissionType.ALLOW));
  }

  static AclBinding deny(ResourcePattern pattern, AclOperation operation) {
    return new AclBinding(pattern, new AccessControlEntry(PRINCIPAL, "*", operation, AclPermissionType.DENY));
  }

  /** Adds the ACLs as the super user and waits until DescribeAcls shows each. */
  static void grant(Side side, AclBinding... acls) throws Exception {
    try (Admin admin = side.admin()) {
      Results.get(admin.createAcls(List.of(acls)).all());
      for (AclBinding acl : acls) {
        Results.await(acl + " on " + side, () -> described(admin, acl.toFilter()).contains(acl));
      }
    }
  }

  /** Removes the ACLs as the super user and waits until DescribeAcls shows none of them. */
  static void revoke(Side side, Collection<AclBinding> acls) throws Exception {
    if (acls.isEmpty()) return;
    try (Admin admin = side.admin()) {
      Results.get(admin.deleteAcls(acls.stream().map(AclBinding::toFilter).toList()).all());
      for (AclBinding acl : acls) {
        Results.await("no " + acl + " on " + side, () -> described(admin, acl.toFilter()).isEmpty());
      }
    }
  }

  static void revoke(Side side, AclBinding... acls) throws Exception {
    revoke(side, List.of(acls));
  }

  static Collection<AclBinding> described(Admin admin, AclBindingFilter filter) {
    try {
      return Results.get(admin.describeAcls(filter).values());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** This run's ACLs: the principal's, those on this run's resources, the cluster's open one. */
  static boolean ours(AclBinding acl) {
    return acl.entry().principal().equals(PRINCIPAL) || acl.pattern().name().startsWith(PREFIX) || acl.equals(CLUSTER_OPEN);
  }

  @BeforeAll
  static void restrict() throws Exception {
    for (Side side : Side.both()) grant(side, baseline().toArray(AclBinding[]::new));
  }

  @AfterAll
  static void removeAcls() throws Exception {
    for (Side side : Side.both()) {
      try (Admin admin = side.admin()) {
        revoke(side, described(admin, AclBindingFilter.ANY).stream().filter(AclMatrixTest::ours).toList());
      }
    }
  }

  /** The principal's client settings (SASL_PLAINTEXT, OAUTHBEARER) and its side's SASL listener. */
  static Map<String, Object> principal() {
    return SecurityTest.oauthbearer("SASL_PLAINTEXT", PRINCIPAL_NAME);
  }

  static Admin admin(Side side) {
    return side.on("SASL_PLAINTEXT").admin(SecurityTest.impatient(principal()));
  }

  static KafkaProducer<String, String> producer(Side side, Map<String, Object> extra) {
    Map<String, Object> c = new HashMap<>(principal());
    c.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10000);
    c.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
    c.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10000);
    c.putAll(extra);
    return side.on("SASL_PLAINTEXT").producer(c);
  }

  /** What a call returned, or its exception chain: class and message of each. */
  static Object outcome(Results.Call<?> call) {
    try {
      Object value = call.call();
      return value == null ? "ok" : value;
    } catch (Exception e) {
      return SecurityTest.failure(() -> {
        throw e;
      }).stream().map(AclMatrixTest::withoutRequest).toList();
    }
  }

  /**
   * Kafka's ClusterAuthorizationException for a cluster action names the request by its toString, with
   * connection ids and buffers that differ from one request to the next; Brook names the API.
   */
  static String withoutRequest(String message) {
    return message.replaceAll("Request .* needs (\\w+) permission\\.$", "Request <request> needs $1 permission.");
  }

  static Object produce(Side side, String topic, boolean idempotent) {
    return outcome(() -> {
      Map<String, Object> c = new HashMap<>();
      c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, idempotent);
      c.put(ProducerConfig.ACKS_CONFIG, idempotent ? "all" : "1");
      try (KafkaProducer<String, String> p = producer(side, c)) {
        return "offset " + p.send(new ProducerRecord<>(topic, "k", "v")).get().offset();
      }
    });
  }

  @Test
  void topics() {
    SideBySide.compare("ACLs on topics", side -> {
      String topic = PREFIX + "-topic";
      String created = PREFIX + "-created";
      Topics.create(side, topic, 1);
      TopicPartition partition = new TopicPartition(topic, 0);
      ConfigResource config = new ConfigResource(ConfigResource.Type.TOPIC, topic);
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = admin(side)) {
        Results.Call<?> describe = () -> {
          TopicDescription d = Results.get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic);
          return d.name() + " partitions " + d.partitions().size();
        };
        Results.Call<?> listOffsets = () ->
            Results.get(admin.listOffsets(Map.of(partition, OffsetSpec.latest())).all()).get(partition).offset();
        Results.Call<?> describeConfigs = () ->
            Results.get(admin.describeConfigs(List.of(config)).all()).get(config).get("cleanup.policy").value();
        Results.Call<?> alterConfigs = () -> Results.get(admin.incrementalAlterConfigs(Map.of(config,
            List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET)))).all());
        Results.Call<?> list = () -> Results.get(admin.listTopics().names()).stream().filter(n -> n.equals(topic) || n.equals(created)).sorted().toList();
        Results.Call<?> create = () -> Results.get(admin.createTopics(List.of(new NewTopic(created, 1, (short) 1))).all());
        Results.Call<?> delete = () -> Results.get(admin.deleteTopics(List.of(created)).all());

        o.put("without ACLs: listTopics", outcome(list));
        o.put("without ACLs: describeTopics", outcome(describe));
        o.put("without ACLs: listOffsets", outcome(listOffsets));
        o.put("without ACLs: describeConfigs", outcome(describeConfigs));
        o.put("without ACLs: incrementalAlterConfigs", outcome(alterConfigs));
        o.put("without ACLs: produce", produce(side, topic, false));
        o.put("without ACLs: idempotent produce", produce(side, topic, true));
        o.put("without ACLs: createTopics", outcome(create));

        grant(side, allow(ResourceType.TOPIC, topic, AclOperation.DESCRIBE));
        o.put("DESCRIBE: listTopics", outcome(list));
        o.put("DESCRIBE: describeTopics", outcome(describe));
        o.put("DESCRIBE: listOffsets", outcome(listOffsets));
        o.put("DESCRIBE: describeConfigs", outcome(describeConfigs));
        o.put("DESCRIBE: produce", produce(side, topic, false));
        o.put("DESCRIBE: idempotent produce", produce(side, topic, true));

        grant(side, allow(ResourceType.TOPIC, topic, AclOperation.WRITE));
        o.put("WRITE: produce", produce(side, topic, false));
        o.put("WRITE: idempotent produce", produce(side, topic, true));
        o.put("WRITE: listOffsets", outcome(listOffsets));

        grant(side, allow(ResourceType.TOPIC, topic, AclOperation.DESCRIBE_CONFIGS));
        o.put("DESCRIBE_CONFIGS: describeConfigs", outcome(describeConfigs));
        o.put("DESCRIBE_CONFIGS: incrementalAlterConfigs", outcome(alterConfigs));
        grant(side, allow(ResourceType.TOPIC, topic, AclOperation.ALTER_CONFIGS));
        o.put("ALTER_CONFIGS: incrementalAlterConfigs", outcome(alterConfigs));

        grant(side, allow(ResourceType.TOPIC, created, AclOperation.CREATE));
        o.put("CREATE: createTopics", outcome(create));
        try (Admin superUser = side.admin()) {
          Topics.awaitPartitions(superUser, created, 1);
        }
        o.put("CREATE: deleteTopics", outcome(delete));
        grant(side, allow(ResourceType.TOPIC, created, AclOperation.DELETE));
        o.put("DELETE: deleteTopics", outcome(delete));
      }
      return o;
    });
  }

  /** User:bob (PLAIN over SASL_PLAINTEXT), with and without an ACL of its own on a restricted topic. */
  @Test
  void plainUser() {
    SideBySide.compare("ACLs of a PLAIN user", side -> {
      String topic = PREFIX + "-bob-topic";
      Topics.create(side, topic, 1);
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.on("SASL_PLAINTEXT").admin(SecurityTest.impatient(SecurityTest.plain("SASL_PLAINTEXT", "bob", "bob-secret")))) {
        Results.Call<?> describe = () -> Results.get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).name();
        o.put("without ACLs: describeTopics", outcome(describe));
        AclBinding bob = new AclBinding(new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL),
            new AccessControlEntry("User:bob", "*", AclOperation.DESCRIBE, AclPermissionType.ALLOW));
        grant(side, bob);
        o.put("DESCRIBE: describeTopics", outcome(describe));
        revoke(side, bob);
        o.put("revoked: describeTopics", outcome(describe));
      }
      return o;
    });
  }

  /** Consumes with `group` until a record arrives; commits what it consumed. */
  static Object consume(Side side, String group, String topic) {
    return outcome(() -> {
      Map<String, Object> c = new HashMap<>(principal());
      c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
      try (KafkaConsumer<String, String> consumer = side.on("SASL_PLAINTEXT").consumer(c)) {
        consumer.subscribe(List.of(topic));
        List<String> values = new ArrayList<>();
        long deadline = System.nanoTime() + Side.WAIT.toNanos();
        while (values.isEmpty()) {
          if (System.nanoTime() > deadline) throw new AssertionError("no record within " + Side.WAIT);
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) values.add(r.value());
        }
        consumer.commitSync();
        return values;
      }
    });
  }

  /** Fetches the topic's partition 0 from the start without a group (assign) until a record arrives. */
  static Object fetch(Side side, String topic) {
    return outcome(() -> {
      try (KafkaConsumer<String, String> consumer = side.on("SASL_PLAINTEXT").consumer(principal())) {
        TopicPartition partition = new TopicPartition(topic, 0);
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        long deadline = System.nanoTime() + Side.WAIT.toNanos();
        while (true) {
          if (System.nanoTime() > deadline) throw new AssertionError("no record within " + Side.WAIT);
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) return r.value();
        }
      }
    });
  }

  /** Commits offset 1 of the topic's partition 0 for `group` (OffsetCommit of a member-less group). */
  static Object commit(Side side, String group, String topic) {
    return outcome(() -> {
      Map<String, Object> c = new HashMap<>(principal());
      c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
      try (KafkaConsumer<String, String> consumer = side.on("SASL_PLAINTEXT").consumer(c)) {
        consumer.commitSync(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(1)));
        return "committed";
      }
    });
  }

  @Test
  void groups() {
    SideBySide.compare("ACLs on groups", side -> {
      String topic = PREFIX + "-group-topic";
      String group = PREFIX + "-group";
      Topics.create(side, topic, 1);
      try (KafkaProducer<String, String> p = side.producer(Map.of())) {
        p.send(new ProducerRecord<>(topic, "k", "v")).get();
      }
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = admin(side)) {
        Results.Call<?> offsets = () -> {
          Map<String, Long> out = new TreeMap<>();
          Map<TopicPartition, OffsetAndMetadata> committed =
              Results.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata());
          committed.forEach((tp, offset) -> out.put(tp.toString(), offset.offset()));
          return out;
        };
        Results.Call<?> describe = () -> {
          ConsumerGroupDescription d = Results.get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
          return d.groupId() + " " + d.groupState() + " members " + d.members().size();
        };
        Results.Call<?> delete = () -> Results.get(admin.deleteConsumerGroups(List.of(group)).all());

        o.put("without ACLs: consume", consume(side, group, topic));
        o.put("without ACLs: listConsumerGroupOffsets", outcome(offsets));
        o.put("without ACLs: describeConsumerGroups", outcome(describe));
        o.put("without ACLs: deleteConsumerGroups", outcome(delete));

        grant(side, allow(ResourceType.GROUP, group, AclOperation.READ));
        o.put("group READ: consume", consume(side, group, topic));
        grant(side, allow(ResourceType.TOPIC, topic, AclOperation.DESCRIBE));
        o.put("group READ, topic DESCRIBE: consume", consume(side, group, topic));
        o.put("group READ, topic DESCRIBE: fetch", fetch(side, topic));
        o.put("group READ, topic DESCRIBE: commitSync", commit(side, group, topic));
        grant(side, allow(ResourceType.TOPIC, topic, AclOperation.READ));
        o.put("group and topic READ: fetch", fetch(side, topic));
        o.put("group and topic READ: consume", consume(side, group, topic));
        o.put("group and topic READ: listConsumerGroupOffsets", outcome(offsets));
        o.put("group and topic READ: describeConsumerGroups", outcome(describe));
        o.put("group and topic READ: deleteConsumerGroups", outcome(delete));
        revoke(side, allow(ResourceType.TOPIC, topic, AclOperation.READ), allow(ResourceType.TOPIC, topic, AclOperation.DESCRIBE));
        o.put("group READ: listConsumerGroupOffsets", outcome(offsets));
        grant(side, allow(ResourceType.GROUP, group, AclOperation.DELETE));
        o.put("group DELETE: deleteConsumerGroups", outcome(delete));
      }
      return o;
    });
  }

  /**
   * A transaction of one record: InitProducerId, AddPartitionsToTxn (with the send), with a `group` the
   * offset of the topic's partition 0 (AddOffsetsToTxn, TxnOffsetCommit), EndTxn (commit).
   */
  @SuppressWarnings("deprecation")
  static Object transaction(Side side, String transactionalId, String topic, String group) {
    return outcome(() -> {
      try (KafkaProducer<String, String> p = producer(side, Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId))) {
        p.initTransactions();
        p.beginTransaction();
        p.send(new ProducerRecord<>(topic, "k", "v")).get();
        if (group != null) {
          p.sendOffsetsToTransaction(Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(1)),
              new ConsumerGroupMetadata(group));
        }
        p.commitTransaction();
        return "committed";
      }
    });
  }

  @Test
  void transactions() {
    SideBySide.compare("ACLs on transactions", side -> {
      String topic = PREFIX + "-txn-topic";
      String transactionalId = PREFIX + "-txn";
      Topics.create(side, topic, 1);
      Map<String, Object> o = SideBySide.observation();
      String group = PREFIX + "-txn-group";
      o.put("without ACLs", transaction(side, transactionalId, topic, null));
      grant(side, allow(ResourceType.TRANSACTIONAL_ID, transactionalId, AclOperation.WRITE),
          allow(ResourceType.TOPIC, topic, AclOperation.DESCRIBE));
      o.put("transactional id WRITE, topic DESCRIBE", transaction(side, transactionalId, topic, null));
      grant(side, allow(ResourceType.TOPIC, topic, AclOperation.WRITE));
      o.put("transactional id and topic WRITE", transaction(side, transactionalId, topic, null));
      o.put("transactional id and topic WRITE: offsets", transaction(side, transactionalId, topic, group));
      grant(side, allow(ResourceType.GROUP, group, AclOperation.READ));
      o.put("group READ: offsets", transaction(side, transactionalId, topic, group));
      grant(side, allow(ResourceType.TOPIC, topic, AclOperation.READ));
      o.put("group and topic READ: offsets", transaction(side, transactionalId, topic, group));
      return o;
    });
  }

  @Test
  void acls() {
    SideBySide.compare("ACLs on ACLs", side -> {
      AclBinding made = new AclBinding(new ResourcePattern(ResourceType.TOPIC, PREFIX + "-made", PatternType.LITERAL),
          new AccessControlEntry("User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW));
      AclBindingFilter ofMade = new AclBindingFilter(
          new ResourcePatternFilter(ResourceType.TOPIC, PREFIX + "-made", PatternType.ANY), made.entry().toFilter());
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = admin(side)) {
        Results.Call<?> describe = () -> Results.get(admin.describeAcls(ofMade).values()).stream().map(AclBinding::toString).toList();
        Results.Call<?> create = () -> Results.get(admin.createAcls(List.of(made)).all());
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
        Results.Call<?> describeConfigs = () ->
            Results.get(admin.describeConfigs(List.of(broker)).all()).get(broker).get("num.partitions").value();
        Results.Call<?> alterConfigs = () -> Results.get(admin.incrementalAlterConfigs(Map.of(broker,
            List.of(new AlterConfigOp(new ConfigEntry("log.cleaner.backoff.ms", "15000"), AlterConfigOp.OpType.SET)))).all());
        List<AclBinding> denials = List.of(deny(CLUSTER, AclOperation.DESCRIBE), deny(CLUSTER, AclOperation.ALTER),
            deny(CLUSTER, AclOperation.DESCRIBE_CONFIGS), deny(CLUSTER, AclOperation.ALTER_CONFIGS));
        grant(side, denials.toArray(AclBinding[]::new));
        o.put("cluster DENY: describeAcls", outcome(describe));
        o.put("cluster DENY: createAcls", outcome(create));
        o.put("cluster DENY: describeConfigs of the broker", outcome(describeConfigs));
        // Allowed, this would change the broker other test classes use: only the refusal is seen.
        o.put("cluster DENY: incrementalAlterConfigs of the broker", outcome(alterConfigs));
        revoke(side, denials);
        o.put("cluster ALLOW User:*: describeConfigs of the broker", outcome(describeConfigs));
        o.put("cluster ALLOW User:*: describeAcls", outcome(describe));
        o.put("cluster ALLOW User:*: createAcls", outcome(create));
        try (Admin superUser = side.admin()) {
          Results.await(made + " on " + side, () -> described(superUser, made.toFilter()).contains(made));
        }
        o.put("cluster ALLOW User:*: describeAcls after createAcls", outcome(describe));
      }
      return o;
    });
  }

  @Test
  void aclTool() {
    SideBySide.compare("kafka-acls", side -> {
      ToolsTest.Session s = new ToolsTest.Session(side);
      String topic = PREFIX + "-tool-topic";
      String group = PREFIX + "-tool-group";
      s.run(ACLS, "", SORTED, "--add", "--allow-principal", PRINCIPAL, "--operation", "Read", "--operation", "Describe", "--topic", topic);
      s.run(ACLS, "", SORTED, "--add", "--deny-principal", PRINCIPAL, "--deny-host", "10.0.0.1", "--operation", "Read", "--group", group);
      s.run(ACLS, "", SORTED, "--add", "--allow-principal", PRINCIPAL, "--producer", "--topic", topic + "-p", "--resource-pattern-type", "prefixed");
      try (Admin admin = side.admin()) {
        AclBindingFilter mine = new AclBindingFilter(ResourcePatternFilter.ANY,
            new AccessControlEntry(PRINCIPAL, "10.0.0.1", AclOperation.READ, AclPermissionType.DENY).toFilter());
        Results.await("the tool's ACLs on " + side, () -> !described(admin, mine).isEmpty());
      }
      s.run(ACLS, "", SORTED, "--list", "--topic", topic);
      s.run(ACLS, "", SORTED, "--list", "--group", group);
      s.run(ACLS, "", SORTED, "--list", "--topic", topic + "-p", "--resource-pattern-type", "prefixed");
      s.run(ACLS, "", SORTED, "--remove", "--force", "--allow-principal", PRINCIPAL, "--operation", "Read", "--topic", topic);
      s.run(ACLS, "", SORTED, "--remove", "--force", "--group", group);
      try (Admin admin = side.admin()) {
        Results.await("the removals on " + side, () -> described(admin, new AclBindingFilter(
            new ResourcePatternFilter(ResourceType.GROUP, group, PatternType.ANY),
            AccessControlEntryFilter.ANY)).isEmpty()
            && described(admin, allow(ResourceType.TOPIC, topic, AclOperation.READ).toFilter()).isEmpty());
      }
      s.run(ACLS, "", SORTED, "--list", "--topic", topic);
      s.run(ACLS, "", SORTED, "--list", "--group", group);
      return s.runs;
    });
  }

  /**
   * A consumer-protocol member (KIP-848) polls until it has an assignment, then a little longer; the
   * topic-partitions it was assigned, sorted.
   */
  static List<String> assignedAfterPolls(KafkaConsumer<String, String> consumer) {
    long deadline = System.nanoTime() + Side.WAIT.toNanos();
    while (consumer.assignment().isEmpty()) {
      if (System.nanoTime() > deadline) throw new AssertionError("no assignment within " + Side.WAIT);
      consumer.poll(Duration.ofMillis(100));
    }
    long settle = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (System.nanoTime() < settle) consumer.poll(Duration.ofMillis(100));
    return new TreeSet<>(consumer.assignment().stream().map(TopicPartition::toString).toList()).stream().toList();
  }

  /**
   * KAFKA-18813: a regex subscription matches only the topics its member may describe, and
   * describeConsumerGroups (ConsumerGroupDescribe) of a group assigned a topic the caller may not
   * describe fails with TOPIC_AUTHORIZATION_FAILED, without the group's members.
   */
  @Test
  void regexSubscriptionsAndGroupDescriptions() {
    String seen = PREFIX + "-rx-seen";
    String hidden = PREFIX + "-rx-hidden";
    String group = PREFIX + "-rx-group";
    String wide = PREFIX + "-rx-wide";
    SideBySide.Observed observed = SideBySide.compare("ACLs on regex subscriptions and consumer group descriptions", side -> {
      Topics.create(side, seen, 1);
      Topics.create(side, hidden, 1);
      grant(side, allow(ResourceType.GROUP, group, AclOperation.READ), allow(ResourceType.GROUP, wide, AclOperation.DESCRIBE),
          allow(ResourceType.TOPIC, seen, AclOperation.READ));
      Map<String, Object> o = SideBySide.observation();
      Map<String, Object> c = new HashMap<>(principal());
      c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
      c.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
      c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000);
      try (KafkaConsumer<String, String> consumer = side.on("SASL_PLAINTEXT").consumer(c)) {
        consumer.subscribe(new SubscriptionPattern(PREFIX + "-rx-.*"));
        o.put("regex member's assignment", assignedAfterPolls(consumer));
        try (Admin admin = admin(side)) {
          o.put("describe the regex group", outcome(() -> {
            ConsumerGroupDescription d = Results.get(admin.describeConsumerGroups(List.of(group)).all()).get(group);
            return d.groupState() + " members " + d.members().size() + " assigned "
                + new TreeSet<>(d.members().iterator().next().assignment().topicPartitions().stream().map(TopicPartition::toString).toList());
          }));
        }
      }
      // A group of the super user assigned both topics: the principal may describe the group, not both topics.
      Map<String, Object> superUser = new HashMap<>();
      superUser.put(ConsumerConfig.GROUP_ID_CONFIG, wide);
      superUser.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
      try (KafkaConsumer<String, String> consumer = side.consumer(superUser)) {
        consumer.subscribe(List.of(seen, hidden));
        o.put("super user's assignment", assignedAfterPolls(consumer));
        try (Admin admin = admin(side)) {
          o.put("describe the wide group", outcome(() -> {
            ConsumerGroupDescription d = Results.get(admin.describeConsumerGroups(List.of(wide)).all()).get(wide);
            return d.groupState() + " members " + d.members().size();
          }));
        }
      }
      return o;
    });
    // Kafka's own answers, which Brook's equal: the hidden topic is not matched, and the wide group is
    // not described to the principal.
    Map<?, ?> kafka = (Map<?, ?>) observed.kafka();
    assertEquals(List.of(seen + "-0"), kafka.get("regex member's assignment"));
    assertEquals(List.of(hidden + "-0", seen + "-0"), kafka.get("super user's assignment"));
    assertTrue(String.valueOf(kafka.get("describe the wide group")).contains("TopicAuthorizationException"),
        String.valueOf(kafka.get("describe the wide group")));
  }
}
