package io.brook.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.DescribeProducersResult.PartitionProducerState;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

/** The admin client: topics, configs, records, the cluster, log dirs, producers and features. */
class AdminTest {
  static final long BASE_TIMESTAMP = ProducerTest.BASE_TIMESTAMP;
  /** Features Brook deliberately leaves at level 0 (README.md, "Deliberate differences"). */
  static final Set<String> FEATURES_BROOK_LACKS = Set.of("share.version", "streams.version", "kraft.version");

  @Test
  void topics() {
    String compacted = Side.name("topics-compacted");
    String assigned = Side.name("topics-assigned");
    String validated = Side.name("topics-validated");
    SideBySide.Observed observed = SideBySide.compare("admin topics", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        CreateTopicsResult created = admin.createTopics(List.of(
            new NewTopic(compacted, 3, (short) 1).configs(Map.of("cleanup.policy", "compact", "retention.ms", "3600000")),
            new NewTopic(assigned, Map.of(0, List.of(1), 1, List.of(1)))));
        o.put("create", Results.outcome(() -> Results.get(created.all())));
        o.put("createdPartitions", Results.get(created.numPartitions(compacted)));
        o.put("createdReplicationFactor", Results.get(created.replicationFactor(compacted)));
        o.put("createdTopicIdSet", !Results.get(created.topicId(compacted)).equals(Uuid.ZERO_UUID));
        o.put("createdConfigs", configEntries(Results.get(created.config(compacted)), false));
        o.put("createdAssignedPartitions", Results.get(created.numPartitions(assigned)));
        Topics.awaitPartitions(admin, compacted, 3);
        Topics.awaitPartitions(admin, assigned, 2);

        o.put("validateOnly", Results.outcome(() -> Results.get(admin.createTopics(
            List.of(new NewTopic(validated, 2, (short) 1)), new CreateTopicsOptions().validateOnly(true)).all())));
        o.put("createAgain", createOutcome(admin, new NewTopic(compacted, 3, (short) 1)));
        o.put("createReplicationFactor3", createOutcome(admin, new NewTopic(Side.name("topics-rf3"), 1, (short) 3)));
        o.put("createZeroPartitions", createOutcome(admin, new NewTopic(Side.name("topics-zero"), 0, (short) 1)));
        o.put("createInvalidName", createOutcome(admin, new NewTopic("java bad name " + Side.RUN, 1, (short) 1)));
        o.put("createTooLongName", createOutcome(admin, new NewTopic("java-" + "x".repeat(250), 1, (short) 1)));
        o.put("createBadConfigValue", createOutcome(admin,
            new NewTopic(Side.name("topics-badvalue"), 1, (short) 1).configs(Map.of("retention.ms", "soon"))));
        o.put("createUnknownConfig", createOutcome(admin,
            new NewTopic(Side.name("topics-unknown"), 1, (short) 1).configs(Map.of("java.no.such.config", "1"))));
        o.put("createAssignmentToUnknownBroker", createOutcome(admin,
            new NewTopic(Side.name("topics-broker7"), Map.of(0, List.of(7)))));

        o.put("listed", ours(Results.get(admin.listTopics().names())));
        o.put("listedWithInternal", ours(Results.get(admin.listTopics(new ListTopicsOptions().listInternal(true)).names())));

        Map<String, TopicDescription> described = Results.get(admin.describeTopics(List.of(compacted, assigned),
            new DescribeTopicsOptions().includeAuthorizedOperations(true)).allTopicNames());
        o.put("described", describeTopics(described));
        Uuid id = described.get(assigned).topicId();
        o.put("describedById", Results.get(admin.describeTopics(TopicCollection.ofTopicIds(List.of(id))).allTopicIds())
            .values().stream().map(TopicDescription::name).toList());
        o.put("describeUnknown", Results.outcome(() ->
            Results.get(admin.describeTopics(List.of(Side.name("topics-none"))).allTopicNames())));
        o.put("describeUnknownId", Results.outcome(() ->
            Results.get(admin.describeTopics(TopicCollection.ofTopicIds(List.of(Uuid.randomUuid()))).allTopicIds())));

        String grown = Results.outcome(() -> Results.get(admin.createPartitions(Map.of(assigned, NewPartitions.increaseTo(4))).all()));
        o.put("createPartitions", grown);
        if (grown.equals("ok")) Topics.awaitPartitions(admin, assigned, 4);
        o.put("afterCreatePartitions", describeTopics(Results.get(admin.describeTopics(List.of(assigned)).allTopicNames())));
        o.put("createPartitionsFewer", Results.outcome(() ->
            Results.get(admin.createPartitions(Map.of(assigned, NewPartitions.increaseTo(2))).all())));
        o.put("createPartitionsSame", Results.outcome(() ->
            Results.get(admin.createPartitions(Map.of(assigned, NewPartitions.increaseTo(4))).all())));
        o.put("createPartitionsUnknownTopic", Results.outcome(() ->
            Results.get(admin.createPartitions(Map.of(Side.name("topics-none"), NewPartitions.increaseTo(4))).all())));

        o.put("deleteByName", Results.outcome(() -> Results.get(admin.deleteTopics(List.of(compacted)).all())));
        o.put("deleteById", Results.outcome(() -> Results.get(admin.deleteTopics(TopicCollection.ofTopicIds(List.of(id))).all())));
        o.put("deleteUnknown", Results.outcome(() -> Results.get(admin.deleteTopics(List.of(Side.name("topics-none"))).all())));
        o.put("deleteUnknownId", Results.outcome(() ->
            Results.get(admin.deleteTopics(TopicCollection.ofTopicIds(List.of(Uuid.randomUuid()))).all())));
        Results.await("the deleted topics to disappear from listTopics", () -> {
          try {
            return ours(Results.get(admin.listTopics().names())).isEmpty();
          } catch (Exception e) {
            return false;
          }
        });
        o.put("describeDeleted", Results.outcome(() -> Results.get(admin.describeTopics(List.of(compacted)).allTopicNames())));
      }
      return o;
    });
    @SuppressWarnings("unchecked")
    Map<String, Object> kafka = (Map<String, Object>) observed.kafka();
    assertEquals("TopicExistsException", kafka.get("createAgain"));
    assertEquals(List.of(assigned, compacted), kafka.get("listed"));
  }

  static String createOutcome(Admin admin, NewTopic topic) {
    return Results.outcome(() -> Results.get(admin.createTopics(List.of(topic)).all()));
  }

  /** The names of this run's "topics" scenario among `names`, sorted. */
  static List<String> ours(Collection<String> names) {
    return names.stream().filter(n -> n.startsWith("java-topics-") && n.endsWith(Side.RUN)).sorted().toList();
  }

  static Map<String, Object> describeTopics(Map<String, TopicDescription> described) {
    Map<String, Object> o = new TreeMap<>();
    described.forEach((name, d) -> {
      Map<String, Object> t = SideBySide.observation();
      t.put("isInternal", d.isInternal());
      t.put("topicIdSet", d.topicId() != null && !d.topicId().equals(Uuid.ZERO_UUID));
      t.put("authorizedOperations", d.authorizedOperations() == null ? null : new TreeMap<>(Map.of("ops", d.authorizedOperations().stream().map(Object::toString).sorted().toList())));
      List<String> partitions = new ArrayList<>();
      for (TopicPartitionInfo p : d.partitions()) {
        partitions.add(p.partition() + ": leader=" + id(p.leader()) + " replicas=" + ids(p.replicas()) + " isr=" + ids(p.isr())
            + " elr=" + ids(p.elr()) + " lastKnownElr=" + ids(p.lastKnownElr()));
      }
      t.put("partitions", partitions);
      o.put(name, t);
    });
    return o;
  }

  static String id(Node node) {
    return node == null ? "none" : String.valueOf(node.id());
  }

  static String ids(List<Node> nodes) {
    return nodes == null ? "null" : nodes.stream().map(AdminTest::id).toList().toString();
  }

  /** Every entry of a config: value, source, flags, type and synonyms (documentation left out). */
  static Map<String, Object> configEntries(Config config, boolean withSynonyms) {
    Map<String, Object> o = new TreeMap<>();
    for (ConfigEntry e : config.entries()) o.put(e.name(), entry(e, withSynonyms));
    return o;
  }

  static String entry(ConfigEntry e, boolean withSynonyms) {
    StringBuilder s = new StringBuilder();
    s.append(e.value()).append(" source=").append(e.source()).append(" default=").append(e.isDefault())
        .append(" readOnly=").append(e.isReadOnly()).append(" sensitive=").append(e.isSensitive()).append(" type=").append(e.type());
    if (withSynonyms) {
      s.append(" synonyms=").append(e.synonyms().stream().map(y -> y.name() + "=" + y.value() + "(" + y.source() + ")").toList());
    }
    return s.toString();
  }

  @Test
  void topicConfigs() {
    String topic = Side.name("configs");
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    SideBySide.Observed observed = SideBySide.compare("admin topic configs", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("retention.ms", "3600000"))));
        Topics.awaitConfig(admin, topic, "retention.ms", "3600000");
        o.put("described", describe(admin, resource, true));
        String set = alter(admin, resource, false,
            new AlterConfigOp(new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET),
            new AlterConfigOp(new ConfigEntry("max.message.bytes", "200000"), AlterConfigOp.OpType.SET),
            new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND),
            new AlterConfigOp(new ConfigEntry("segment.ms", ""), AlterConfigOp.OpType.DELETE));
        o.put("set", set);
        if (set.equals("ok")) Topics.awaitConfig(admin, topic, "cleanup.policy", "delete,compact");
        o.put("afterSet", changed(admin, resource));
        String subtract = alter(admin, resource, false,
            new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.SUBTRACT));
        o.put("subtract", subtract);
        if (subtract.equals("ok")) Topics.awaitConfig(admin, topic, "cleanup.policy", "compact");
        o.put("afterSubtract", changed(admin, resource));
        o.put("validateOnly", alter(admin, resource, true,
            new AlterConfigOp(new ConfigEntry("retention.ms", "1000"), AlterConfigOp.OpType.SET)));
        o.put("afterValidateOnly", changed(admin, resource));
        String deleted = alter(admin, resource, false, new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE));
        o.put("delete", deleted);
        if (deleted.equals("ok")) Topics.awaitConfig(admin, topic, "retention.ms", null);
        o.put("afterDelete", changed(admin, resource));
        o.put("unknownConfig", alter(admin, resource, false,
            new AlterConfigOp(new ConfigEntry("java.no.such.config", "1"), AlterConfigOp.OpType.SET)));
        o.put("badValue", alter(admin, resource, false,
            new AlterConfigOp(new ConfigEntry("retention.ms", "soon"), AlterConfigOp.OpType.SET)));
        o.put("appendToNonList", alter(admin, resource, false,
            new AlterConfigOp(new ConfigEntry("retention.ms", "5"), AlterConfigOp.OpType.APPEND)));
        o.put("readOnlyBrokerOnlyConfig", alter(admin, resource, false,
            new AlterConfigOp(new ConfigEntry("log.dirs", "/tmp"), AlterConfigOp.OpType.SET)));
        o.put("afterErrors", changed(admin, resource));
        ConfigResource unknown = new ConfigResource(ConfigResource.Type.TOPIC, Side.name("configs-none"));
        o.put("describeUnknownTopic", Results.outcome(() -> Results.get(admin.describeConfigs(List.of(unknown)).all())));
        o.put("alterUnknownTopic", alter(admin, unknown, false,
            new AlterConfigOp(new ConfigEntry("retention.ms", "1000"), AlterConfigOp.OpType.SET)));
      }
      return o;
    });
    @SuppressWarnings("unchecked")
    Map<String, Object> kafka = (Map<String, Object>) observed.kafka();
    assertTrue(kafka.get("afterSet").toString().contains("retention.ms=7200000 source=DYNAMIC_TOPIC_CONFIG"), kafka.toString());
  }

  static Object describe(Admin admin, ConfigResource resource, boolean synonyms) throws Exception {
    Map<ConfigResource, Config> all = Results.get(admin.describeConfigs(List.of(resource),
        new DescribeConfigsOptions().includeSynonyms(synonyms)).all());
    return configEntries(all.get(resource), synonyms);
  }

  /** The entries that are not the default (what a change shows), with synonyms. */
  static Object changed(Admin admin, ConfigResource resource) throws Exception {
    Map<ConfigResource, Config> all = Results.get(admin.describeConfigs(List.of(resource),
        new DescribeConfigsOptions().includeSynonyms(true)).all());
    Map<String, Object> o = new TreeMap<>();
    for (ConfigEntry e : all.get(resource).entries()) {
      if (e.source() != ConfigEntry.ConfigSource.DEFAULT_CONFIG) o.put(e.name(), entry(e, true));
    }
    return o;
  }

  static String alter(Admin admin, ConfigResource resource, boolean validateOnly, AlterConfigOp... ops) {
    return Results.outcome(() -> Results.get(admin.incrementalAlterConfigs(Map.of(resource, List.of(ops)),
        new AlterConfigsOptions().validateOnly(validateOnly)).all()));
  }

  @Test
  void brokerConfigs() {
    SideBySide.compare("admin broker configs", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "1");
        Map<ConfigResource, Config> all = Results.get(admin.describeConfigs(List.of(broker),
            new DescribeConfigsOptions().includeSynonyms(true)).all());
        Map<String, ConfigEntry> entries = new HashMap<>();
        for (ConfigEntry e : all.get(broker).entries()) entries.put(e.name(), e);
        // The settings both brokers are started with (kafka_broker.py's server.properties, run_java_compat.py's
        // overrides for Brook) and defaults clients depend on.
        for (String name : List.of("num.partitions", "default.replication.factor", "auto.create.topics.enable",
            "offsets.topic.replication.factor", "group.initial.rebalance.delay.ms", "message.max.bytes",
            "log.retention.hours", "log.retention.ms", "log.segment.bytes", "log.cleanup.policy",
            "compression.type", "min.insync.replicas", "unclean.leader.election.enable",
            "group.consumer.heartbeat.interval.ms", "group.consumer.session.timeout.ms", "group.max.session.timeout.ms",
            "transaction.state.log.replication.factor", "node.id", "broker.id")) {
          ConfigEntry e = entries.get(name);
          o.put(name, e == null ? "absent" : entry(e, true));
        }
      }
      return o;
    });
  }

  @Test
  void deleteRecordsAndListOffsets() {
    String topic = Side.name("records");
    SideBySide.compare("admin deleteRecords and listOffsets", side -> {
      Map<String, Object> o = SideBySide.observation();
      TopicPartition p0 = new TopicPartition(topic, 0);
      TopicPartition p1 = new TopicPartition(topic, 1);
      try (Admin admin = side.admin()) {
        Topics.create(admin, List.of(new NewTopic(topic, 2, (short) 1)));
        try (var producer = side.producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
          for (int i = 0; i < 10; i++) {
            producer.send(new ProducerRecord<>(topic, 0, BASE_TIMESTAMP + 100 * i, "k" + i, "v" + i)).get();
            producer.send(new ProducerRecord<>(topic, 1, BASE_TIMESTAMP + 1000 - 10 * i, "k" + i, "v" + i)).get();
          }
        }
        o.put("before", listOffsets(admin, List.of(p0, p1)));
        Map<TopicPartition, RecordsToDelete> deletions = Map.of(p0, RecordsToDelete.beforeOffset(4), p1, RecordsToDelete.beforeOffset(10));
        var deleted = admin.deleteRecords(deletions);
        o.put("lowWatermarkP0", Results.get(deleted.lowWatermarks().get(p0)).lowWatermark());
        o.put("lowWatermarkP1", Results.get(deleted.lowWatermarks().get(p1)).lowWatermark());
        o.put("after", listOffsets(admin, List.of(p0, p1)));
        o.put("deleteBackwards", Results.outcome(() -> Results.get(admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(2))).all())));
        o.put("deleteBeyondEnd", Results.outcome(() -> Results.get(admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(11))).all())));
        o.put("deleteToEnd", Results.outcome(() -> Results.get(admin.deleteRecords(Map.of(p0, RecordsToDelete.beforeOffset(-1))).all())));
        o.put("afterAll", listOffsets(admin, List.of(p0, p1)));
      }
      o.put("readBack", ProducerTest.readAll(side, topic, 2, 0));
      return o;
    });
  }

  static Map<String, Object> listOffsets(Admin admin, List<TopicPartition> tps) throws Exception {
    Map<String, OffsetSpec> specs = new java.util.LinkedHashMap<>();
    specs.put("earliest", OffsetSpec.earliest());
    specs.put("latest", OffsetSpec.latest());
    specs.put("maxTimestamp", OffsetSpec.maxTimestamp());
    specs.put("earliestLocal", OffsetSpec.earliestLocal());
    specs.put("latestTiered", OffsetSpec.latestTiered());
    specs.put("forTimestamp+250", OffsetSpec.forTimestamp(BASE_TIMESTAMP + 250));
    specs.put("forTimestamp+5000", OffsetSpec.forTimestamp(BASE_TIMESTAMP + 5000));
    Map<String, Object> o = SideBySide.observation();
    for (var spec : specs.entrySet()) {
      Map<TopicPartition, OffsetSpec> query = new HashMap<>();
      for (TopicPartition tp : tps) query.put(tp, spec.getValue());
      Map<String, Object> byPartition = new TreeMap<>();
      try {
        Map<TopicPartition, ListOffsetsResultInfo> result = Results.get(admin.listOffsets(query).all());
        result.forEach((tp, info) -> byPartition.put(tp.toString(), info.offset() + " timestamp="
            + (info.timestamp() < 0 ? String.valueOf(info.timestamp()) : "+" + (info.timestamp() - BASE_TIMESTAMP))
            + " leaderEpoch=" + info.leaderEpoch().map(String::valueOf).orElse("absent")));
        o.put(spec.getKey(), byPartition);
      } catch (Exception e) {
        o.put(spec.getKey(), "error " + Results.errorName(e));
      }
    }
    return o;
  }

  @Test
  void clusterLogDirsProducersAndFeatures() {
    String topic = Side.name("cluster");
    SideBySide.compare("admin describeCluster, describeLogDirs, describeProducers, describeFeatures", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        var cluster = admin.describeCluster(new DescribeClusterOptions().includeAuthorizedOperations(true));
        o.put("nodes", Results.get(cluster.nodes()).stream().map(n -> n.id() + " host=" + n.host() + " rack=" + n.rack()).toList());
        o.put("controller", id(Results.get(cluster.controller())));
        String clusterId = Results.get(cluster.clusterId());
        o.put("clusterIdIsAUuid", clusterId != null && Uuid.fromString(clusterId) != null);
        o.put("authorizedOperations", Results.get(cluster.authorizedOperations()));

        Topics.create(admin, List.of(new NewTopic(topic, 2, (short) 1)));
        try (var producer = side.producer(Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.LINGER_MS_CONFIG, 0))) {
          for (int i = 0; i < 5; i++) producer.send(new ProducerRecord<>(topic, 0, BASE_TIMESTAMP + i, "k" + i, "value " + i)).get();
        }

        o.put("logDirs", Results.outcome(() -> {
          Map<Integer, Map<String, LogDirDescription>> dirs = Results.get(admin.describeLogDirs(List.of(1)).allDescriptions());
          List<Object> described = new ArrayList<>();
          for (LogDirDescription d : dirs.get(1).values()) {
            Map<String, Object> dir = SideBySide.observation();
            dir.put("error", d.error() == null ? null : d.error().getClass().getSimpleName());
            dir.put("totalBytesPresent", d.totalBytes().isPresent());
            dir.put("usableBytesPresent", d.usableBytes().isPresent());
            dir.put("isCordoned", d.isCordoned());
            Map<String, Object> replicas = new TreeMap<>();
            d.replicaInfos().forEach((tp, r) -> {
              if (tp.topic().equals(topic)) replicas.put(tp.toString(), "size=" + r.size() + " offsetLag=" + r.offsetLag() + " isFuture=" + r.isFuture());
            });
            dir.put("replicasOfTheTopic", replicas);
            described.add(dir);
          }
          o.put("logDirsDescribed", described);
          return null;
        }));

        o.put("producers", Results.outcome(() -> {
          TopicPartition p0 = new TopicPartition(topic, 0);
          TopicPartition p1 = new TopicPartition(topic, 1);
          Map<TopicPartition, PartitionProducerState> states = Results.get(admin.describeProducers(List.of(p0, p1)).all());
          Map<String, Object> byPartition = new TreeMap<>();
          states.forEach((tp, state) -> byPartition.put(tp.toString(), state.activeProducers().stream().map(p ->
              "producerIdSet=" + (p.producerId() >= 0) + " epoch=" + p.producerEpoch() + " lastSequence=" + p.lastSequence()
                  + " lastTimestamp=+" + (p.lastTimestamp() - BASE_TIMESTAMP) + " coordinatorEpoch=" + p.coordinatorEpoch()
                  + " txnStartOffset=" + p.currentTransactionStartOffset()).toList()));
          o.put("producersDescribed", byPartition);
          return null;
        }));

        o.put("features", Results.outcome(() -> {
          FeatureMetadata features = Results.get(admin.describeFeatures().featureMetadata());
          // Deliberate difference (README.md): Brook leaves the features it does not have at level 0
          // (no transactions yet, which clients choose the transaction protocol from; no share or streams
          // groups or KRaft quorum), where Kafka 4.4 finalizes them higher. Of
          // those only the lowest supported level is compared.
          Map<String, Object> finalized = new TreeMap<>();
          features.finalizedFeatures().forEach((name, range) -> {
            if (!FEATURES_BROOK_LACKS.contains(name)) finalized.put(name, range.minVersionLevel() + ".." + range.maxVersionLevel());
          });
          Map<String, Object> supported = new TreeMap<>();
          features.supportedFeatures().forEach((name, range) -> supported.put(name,
              FEATURES_BROOK_LACKS.contains(name) ? range.minVersion() + "..(not compared)" : range.minVersion() + ".." + range.maxVersion()));
          o.put("featuresFinalized", finalized);
          o.put("featuresSupported", supported);
          o.put("featuresEpochPresent", features.finalizedFeaturesEpoch().isPresent());
          return null;
        }));
      }
      return o;
    });
  }
}
