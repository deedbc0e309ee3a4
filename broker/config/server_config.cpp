#include "broker/config/server_config.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "broker/security/authorizer.hpp"

namespace brook::broker {
namespace {

// Kafka's listener-prefixed keys: listener.name.<listener>.<key>.
constexpr std::string_view listener_prefix = "listener.name.";

using common::kafka_error;

constexpr const char* int_max = "2147483647";

// The broker keys AlterConfigs may change at run time, sorted: the intersection of Kafka 4.4's
// dynamic broker configs (DynamicBrokerConfig.AllDynamicConfigs) with what Brook honours. The log.*
// keys, compression.type, min.insync.replicas and unclean.leader.election.enable are topic defaults
// (each topic's effective config is resolved again when they change); message.max.bytes also bounds
// group metadata records; log.cleaner.backoff.ms paces the cleaner; group.consumer.assignment.interval.ms
// paces consumer groups' target assignments (those without their own group config for it).
constexpr std::array<std::string_view, 22> dynamic_keys{
    "compression.type",
    "group.consumer.assignment.interval.ms",
    "log.cleaner.backoff.ms",
    "log.cleaner.delete.retention.ms",
    "log.cleaner.max.compaction.lag.ms",
    "log.cleaner.min.cleanable.ratio",
    "log.cleaner.min.compaction.lag.ms",
    "log.cleanup.policy",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.index.interval.bytes",
    "log.message.timestamp.after.max.ms",
    "log.message.timestamp.before.max.ms",
    "log.message.timestamp.type",
    "log.preallocate",
    "log.retention.bytes",
    "log.retention.ms",
    "log.roll.ms",
    "log.segment.bytes",
    "message.max.bytes",
    "min.insync.replicas",
    "unclean.leader.election.enable",
};

bool dynamic_key(std::string_view name) { return std::binary_search(dynamic_keys.begin(), dynamic_keys.end(), name); }

config_definition def(std::string name, config_type type, std::optional<std::string> default_value,
                      std::string documentation, config_validator validator = {}) {
  config_definition d;
  d.name = std::move(name);
  d.type = type;
  d.default_value = std::move(default_value);
  d.documentation = std::move(documentation);
  d.validator = std::move(validator);
  d.read_only = !dynamic_key(d.name);
  d.sensitive = type == config_type::password;
  return d;
}

config_validator only_one_replica() {
  return [](const config_value& v) -> std::optional<std::string> {
    if (std::get<int64_t>(v) == 1) return std::nullopt;
    return std::string("Brook is a single-node broker: the only valid replication factor is 1");
  };
}

// The built-in server-side assignors, by their names or Kafka's class names.
config_validator consumer_assignors() {
  return [](const config_value& v) -> std::optional<std::string> {
    auto* names = std::get_if<std::vector<std::string>>(&v);
    if (!names || names->empty()) return std::string("At least one assignor is needed");
    for (const auto& name : *names)
      if (!server_config::consumer_assignor_name(name))
        return fmt::format("Unknown assignor {}; the built-in assignors are uniform and range", name);
    return std::nullopt;
  };
}

// authorizer.class.name: empty (no authorizer) or one of Kafka's ACL authorizers, which Brook implements.
config_validator authorizer_class() {
  return [](const config_value& v) -> std::optional<std::string> {
    const auto* name = std::get_if<std::string>(&v);
    if (!name || name->empty() || *name == security::standard_authorizer_class || *name == security::acl_authorizer_class)
      return std::nullopt;
    return fmt::format("Brook's authorizer is Kafka's {} (also accepted as {}); no other authorizer class can be loaded",
                       security::standard_authorizer_class, security::acl_authorizer_class);
  };
}

std::vector<config_definition> make_server_definitions() {
  using t = config_type;
  const std::vector<std::string> compression_types{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"};
  std::vector<config_definition> d{
      def("advertised.listeners", t::string, std::nullopt,
          "Listeners given to clients in metadata, when they differ from listeners.", {}),
      def("allow.everyone.if.no.acl.found", t::boolean, "false",
          "With an authorizer: allow a request on a resource that has no ACLs at all (it is denied otherwise)."),
      def("authorizer.class.name", t::string, "",
          "The ACL authorizer: org.apache.kafka.metadata.authorizer.StandardAuthorizer (or "
          "kafka.security.authorizer.AclAuthorizer, the same); empty for none (every request is allowed).",
          authorizer_class()),
      def("auto.create.topics.enable", t::boolean, "true",
          "Create a topic on first use by a metadata, produce or fetch request."),
      def("auto.leader.rebalance.enable", t::boolean, "true", "Accepted for compatibility; a single node leads every partition."),
      def("brook.log.fsync", t::boolean, "true",
          "Brook's own: false skips every fsync of the partition logs, the log dir and the metadata store "
          "(acks=all is answered once written, not once on disk). The data then survives a crash of the "
          "broker but not of the machine; for data that is thrown away (brook-server --ephemeral)."),
      def("brook.max.partitions", t::int_, "100000",
          "Most partitions the broker holds in all (Kafka has no such limit); creation past it, or past what "
          "the open-file limit leaves room for, is refused with POLICY_VIOLATION.",
          at_least(1)),
      def("background.threads", t::int_, "10", "Threads for background work.", at_least(1)),
      // Kafka's default -1 (no id); either key set stands for the other too (see from_properties).
      def("broker.id", t::int_, "-1", "Synonym of node.id kept from older Kafka versions."),
      def("broker.rack", t::string, std::nullopt, "Rack of this broker, reported in metadata."),
      def("compression.gzip.level", t::int_, "-1", "Level used when the broker compresses with gzip.", gzip_level()),
      def("compression.lz4.level", t::int_, "9", "Level used when the broker compresses with lz4.", in_range(1, 17)),
      def("compression.type", t::string, "producer",
          "Final compression of topics: a codec, 'uncompressed', or 'producer' to keep the producer's.",
          one_of(compression_types)),
      def("compression.zstd.level", t::int_, "3", "Level used when the broker compresses with zstd.",
          in_range(-131072, 22)),
      def("connections.max.idle.ms", t::long_, "600000", "Idle connections are closed after this many milliseconds."),
      def("connection.failed.authentication.delay.ms", t::int_, "100",
          "How long a failed authentication's answer is held back before its connection is closed.", at_least(0)),
      def("connections.max.reauth.ms", t::long_, "0",
          "Longest SASL session before the client must re-authenticate (KIP-368); 0: no limit.", at_least(0)),
      def("controller.listener.names", t::string, std::nullopt,
          "Listener names used by the controller; Brook does not serve them to clients."),
      def("controller.quorum.bootstrap.servers", t::list, "", "Accepted for compatibility; Brook has no quorum."),
      def("controller.quorum.voters", t::list, "", "Accepted for compatibility; Brook has no quorum."),
      def("default.replication.factor", t::int_, "1", "Replication factor of automatically created topics.",
          only_one_replica()),
      def("delete.topic.enable", t::boolean, "true", "Allow DeleteTopics requests."),
      def("fetch.max.bytes", t::int_, "57671680", "Most bytes returned by one fetch request.", at_least(1024)),
      def("group.consumer.assignment.interval.ms", t::int_, "1000",
          "The interval between assignment updates for a consumer group.", at_least(0)),
      def("group.consumer.assignors", t::list, "uniform,range",
          "Server-side assignors of consumer-protocol groups, by name (uniform, range) or Kafka class name; "
          "the first is the default.",
          consumer_assignors()),
      def("group.consumer.heartbeat.interval.ms", t::int_, "5000",
          "Heartbeat interval given to members of consumer-protocol groups.", at_least(1)),
      def("group.consumer.max.assignment.interval.ms", t::int_, "15000",
          "The maximum interval between assignment updates for a consumer group.", at_least(0)),
      def("group.consumer.max.heartbeat.interval.ms", t::int_, "15000",
          "Largest group.consumer.heartbeat.interval.ms allowed.", at_least(1)),
      def("group.consumer.max.session.timeout.ms", t::int_, "60000",
          "Largest group.consumer.session.timeout.ms allowed.", at_least(1)),
      def("group.consumer.max.size", t::int_, int_max, "Most members one consumer-protocol group may have.",
          at_least(1)),
      def("group.consumer.min.assignment.interval.ms", t::int_, "0",
          "The minimum interval between assignment updates for a consumer group.", at_least(0)),
      def("group.consumer.min.heartbeat.interval.ms", t::int_, "5000",
          "Smallest group.consumer.heartbeat.interval.ms allowed.", at_least(1)),
      def("group.consumer.min.session.timeout.ms", t::int_, "45000",
          "Smallest group.consumer.session.timeout.ms allowed.", at_least(1)),
      def("group.consumer.session.timeout.ms", t::int_, "45000",
          "Session timeout of members of consumer-protocol groups.", at_least(1)),
      def("group.initial.rebalance.delay.ms", t::int_, "3000",
          "How long a new consumer group waits for more members before its first rebalance."),
      def("group.max.session.timeout.ms", t::int_, "1800000", "Largest session timeout a group member may ask for."),
      def("group.max.size", t::int_, int_max, "Most members one consumer group may have.", at_least(1)),
      def("group.min.session.timeout.ms", t::int_, "6000", "Smallest session timeout a group member may ask for."),
      def("inter.broker.listener.name", t::string, std::nullopt, "Accepted for compatibility; there are no other brokers."),
      def("listener.security.protocol.map", t::string,
          "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT",
          "Security protocol of each listener name, as NAME:PROTOCOL pairs."),
      def("listeners", t::string, "PLAINTEXT://:9092",
          "Addresses to listen on, as NAME://host:port; an empty host means every interface, port 0 a free port."),
      def("log.cleaner.backoff.ms", t::long_, "15000", "Pause of the log cleaner when there is nothing to clean.",
          at_least(0)),
      def("log.cleaner.dedupe.buffer.size", t::long_, "134217728", "Memory the log cleaner uses to deduplicate keys."),
      def("log.cleaner.delete.retention.ms", t::long_, "86400000",
          "Default time tombstones are kept in compacted topics.", at_least(0)),
      def("log.cleaner.enable", t::boolean, "true", "Run the log cleaner for compacted topics."),
      def("log.cleaner.max.compaction.lag.ms", t::long_, long_max_text,
          "Default longest time a record may stay uncompacted.", at_least(1)),
      def("log.cleaner.min.cleanable.ratio", t::double_, "0.5",
          "Default share of dirty log that makes a compacted topic eligible for cleaning.", in_range_double(0, 1)),
      def("log.cleaner.min.compaction.lag.ms", t::long_, "0",
          "Default shortest time a record stays uncompacted.", at_least(0)),
      def("log.cleaner.threads", t::int_, "1", "Threads of the log cleaner.", at_least(0)),
      def("log.cleanup.policy", t::list, "delete", "Default cleanup policy of topics: delete, compact, or both.",
          one_of({"compact", "delete"})),
      def("log.dir", t::string, "/tmp/kafka-logs", "Directory of the log data, used when log.dirs is not set."),
      def("log.dirs", t::string, std::nullopt, "Comma-separated directories of the log data."),
      def("log.flush.interval.messages", t::long_, long_max_text,
          "Default number of messages appended to a partition before it is flushed to disk.", at_least(1)),
      def("log.flush.interval.ms", t::long_, std::nullopt,
          "Default longest time a message waits in memory before a flush; log.flush.scheduler.interval.ms when unset."),
      def("log.flush.offset.checkpoint.interval.ms", t::int_, "60000",
          "How often the recovery point of each log is saved.", at_least(0)),
      def("log.flush.scheduler.interval.ms", t::long_, long_max_text, "How often logs are checked for a due flush."),
      def("log.flush.start.offset.checkpoint.interval.ms", t::int_, "60000",
          "How often the start offset of each log is saved.", at_least(0)),
      def("log.index.interval.bytes", t::int_, "4096", "Default bytes of log between two offset index entries.",
          at_least(0)),
      def("log.index.size.max.bytes", t::int_, "10485760", "Default largest size of an offset index file.",
          at_least(4)),
      def("log.local.retention.bytes", t::long_, "-2",
          "Default local retention in bytes of tiered topics; -2 follows log.retention.bytes.", at_least(-2)),
      def("log.local.retention.ms", t::long_, "-2",
          "Default local retention in milliseconds of tiered topics; -2 follows the retention time.", at_least(-2)),
      def("log.message.timestamp.after.max.ms", t::long_, "3600000",
          "Default largest amount a record's timestamp may be ahead of the broker's clock.", at_least(0)),
      def("log.message.timestamp.before.max.ms", t::long_, long_max_text,
          "Default largest amount a record's timestamp may be behind the broker's clock.", at_least(0)),
      def("log.message.timestamp.type", t::string, "CreateTime",
          "Default timestamp of records: CreateTime (the producer's) or LogAppendTime (the broker's).",
          one_of({"CreateTime", "LogAppendTime"})),
      def("log.preallocate", t::boolean, "false", "Default for preallocating segment files."),
      def("log.remote.copy.lag.bytes", t::long_, "-1",
          "Default newer local bytes after which a segment may be copied to tiered storage; Brook has no tiered storage.",
          at_least(-1)),
      def("log.remote.copy.lag.ms", t::long_, "0",
          "Default age after which a segment may be copied to tiered storage; Brook has no tiered storage.",
          at_least(-1)),
      def("log.retention.bytes", t::long_, "-1", "Default largest size of a partition before old segments go; -1: no limit."),
      def("log.retention.check.interval.ms", t::long_, "300000", "How often logs are checked for segments to delete.",
          at_least(1)),
      def("log.retention.hours", t::int_, "168", "Default retention time in hours; log.retention.minutes and .ms win."),
      def("log.retention.minutes", t::int_, std::nullopt, "Default retention time in minutes; log.retention.ms wins."),
      def("log.retention.ms", t::long_, std::nullopt, "Default retention time in milliseconds; -1: no limit."),
      def("log.roll.hours", t::int_, "168", "Default age in hours after which a new segment is rolled.", at_least(1)),
      def("log.roll.jitter.hours", t::int_, "0", "Default random jitter in hours subtracted from the roll time.",
          at_least(0)),
      def("log.roll.jitter.ms", t::long_, std::nullopt, "Default random jitter in milliseconds; wins over hours."),
      def("log.roll.ms", t::long_, std::nullopt, "Default age in milliseconds after which a segment is rolled; wins over hours."),
      def("log.segment.bytes", t::int_, "1073741824", "Default largest size of a segment file.", at_least(14)),
      def("log.segment.delete.delay.ms", t::long_, "60000", "Default wait before a deleted segment's files go.",
          at_least(0)),
      def("max.connections", t::int_, int_max, "Most connections the broker accepts.", at_least(0)),
      def("max.connections.per.ip", t::int_, int_max, "Most connections the broker accepts from one address.",
          at_least(0)),
      def("max.request.partition.size.limit", t::int_, "2000",
          "Most partitions one DescribeTopicPartitions response describes.", at_least(1)),
      def("max.incremental.fetch.session.cache.slots", t::int_, "1000", "Most incremental fetch sessions kept.",
          at_least(0)),
      def("max.decompressed.message.bytes", t::int_, "2147483639",
          "Default largest size a single record of a compressed batch may decompress to.", in_range(1, 2147483639)),
      def("message.max.bytes", t::int_, "1048588", "Default largest record batch a topic accepts.", at_least(0)),
      def("metadata.log.dir", t::string, std::nullopt, "Accepted for compatibility; Brook keeps its metadata in log.dirs."),
      def("min.insync.replicas", t::int_, "1", "Default least number of in-sync replicas for acks=all produce.",
          at_least(1)),
      def("node.id", t::int_, std::nullopt, "Id of this broker in metadata.", at_least(0)),
      def("num.io.threads", t::int_, "8", "Threads that handle requests.", at_least(1)),
      def("num.network.threads", t::int_, "3", "Threads that read and write the network.", at_least(1)),
      def("num.partitions", t::int_, "1", "Partitions of automatically created topics and CreateTopics defaults.",
          at_least(1)),
      def("num.recovery.threads.per.data.dir", t::int_, "2", "Threads per data directory for log recovery.",
          at_least(1)),
      def("num.replica.fetchers", t::int_, "1", "Accepted for compatibility; there are no replicas to fetch."),
      def("offset.metadata.max.bytes", t::int_, "4096", "Largest metadata string stored with a committed offset."),
      def("offsets.commit.timeout.ms", t::int_, "5000", "How long an offset commit may wait to be stored.",
          at_least(1)),
      def("offsets.load.buffer.size", t::int_, "5242880", "Read size when loading committed offsets.", at_least(1)),
      def("offsets.retention.check.interval.ms", t::long_, "600000", "How often stale committed offsets are looked for.",
          at_least(1)),
      def("offsets.retention.minutes", t::int_, "10080",
          "How long committed offsets of an empty group are kept.", at_least(1)),
      def("offsets.topic.compression.codec", t::int_, "0", "Compression of the offsets topic."),
      def("offsets.topic.num.partitions", t::int_, "50", "Partitions of the offsets topic; fixed once created.",
          at_least(1)),
      def("offsets.topic.replication.factor", t::short_, "3",
          "Accepted for compatibility; the offsets topic has one replica on a single node.", at_least(1)),
      def("offsets.topic.segment.bytes", t::int_, "104857600", "Segment size of the offsets topic.", at_least(1)),
      def("process.roles", t::list, "", "Accepted for compatibility; Brook is always a combined broker.",
          one_of({"broker", "controller"})),
      def("producer.id.expiration.check.interval.ms", t::int_, "600000",
          "How often producer ids idle for producer.id.expiration.ms are forgotten.", at_least(1)),
      def("producer.id.expiration.ms", t::int_, "86400000",
          "How long a partition remembers an idempotent producer after the timestamp of its last batch.",
          at_least(1)),
      def("principal.builder.class", t::string, std::nullopt,
          "Accepted for compatibility; principals are User:<SASL name or certificate subject>."),
      def("queued.max.requests", t::int_, "500", "Most requests queued before the network threads stop reading.",
          at_least(1)),
      def("quota.window.num", t::int_, "11", "The number of samples to retain in memory for client quotas.",
          at_least(1)),
      def("quota.window.size.seconds", t::int_, "1", "The time span of each sample for client quotas.", at_least(1)),
      def("remote.log.storage.system.enable", t::boolean, "false", "Tiered storage; Brook does not support it."),
      def("replica.fetch.max.bytes", t::int_, "1048576", "Accepted for compatibility; there are no replicas.",
          at_least(0)),
      def("replica.lag.time.max.ms", t::long_, "30000", "Accepted for compatibility; there are no replicas."),
      def("request.timeout.ms", t::int_, "30000", "How long the broker waits for a response to its own requests.",
          at_least(0)),
      def("reserved.broker.max.id", t::int_, "1000", "Largest broker id that may be set by hand.", at_least(0)),
      def("sasl.enabled.mechanisms", t::list, "GSSAPI",
          "SASL mechanisms SASL listeners offer: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (no GSSAPI)."),
      def("sasl.jaas.config", t::password, std::nullopt,
          "Accepted for compatibility; a broker reads JAAS configuration from "
          "listener.name.<listener>.<mechanism>.sasl.jaas.config."),
      def("sasl.mechanism.inter.broker.protocol", t::string, "GSSAPI", "Accepted for compatibility; there are no other brokers."),
      def("sasl.server.max.receive.size", t::int_, "524288", "Largest request read before a client has authenticated.",
          at_least(1)),
      def("security.inter.broker.protocol", t::string, "PLAINTEXT", "Accepted for compatibility; there are no other brokers."),
      def("socket.listen.backlog.size", t::int_, "50", "Backlog of pending connections of each listener.",
          at_least(1)),
      // -1 where Kafka has 102400: with the kernel's auto-tuned receive buffers a produce request of 1 MB
      // arrives in a few reads instead of one per 100 KiB, which took about 1.3x the broker's CPU per
      // 16 KiB record (bench/README.md, kafka_compare.py).
      def("socket.receive.buffer.bytes", t::int_, "-1", "SO_RCVBUF of client sockets; -1: the system's (auto-tuned) default."),
      def("socket.request.max.bytes", t::int_, "104857600", "Largest request the broker reads.", at_least(1)),
      def("socket.send.buffer.bytes", t::int_, "102400", "SO_SNDBUF of client sockets; -1: the system's default."),
      def("super.users", t::string, std::nullopt,
          "With an authorizer: principals allowed everything whatever the ACLs, separated by semicolons "
          "(User:admin;User:ops)."),
      def("ssl.cipher.suites", t::list, "",
          "TLS cipher suites (OpenSSL or IANA names) offered on SSL listeners; empty: OpenSSL's defaults."),
      def("ssl.client.auth", t::string, "none",
          "Whether SSL listeners ask for client certificates: none, requested or required.",
          one_of({"none", "requested", "required"})),
      def("ssl.enabled.protocols", t::list, "TLSv1.2,TLSv1.3", "TLS versions SSL listeners accept.",
          one_of({"TLSv1.2", "TLSv1.3"})),
      def("ssl.endpoint.identification.algorithm", t::string, "https",
          "Accepted for compatibility: a client setting; the broker verifies no server host names."),
      def("ssl.key.password", t::password, std::nullopt, "Password of the private key in the key store."),
      def("ssl.keystore.certificate.chain", t::password, std::nullopt,
          "The broker's certificate chain in PEM, inline (ssl.keystore.type=PEM)."),
      def("ssl.keystore.key", t::password, std::nullopt, "The broker's private key in PEM, inline (ssl.keystore.type=PEM)."),
      def("ssl.keystore.location", t::string, std::nullopt, "Key store file: PEM (key and chain) or PKCS12."),
      def("ssl.keystore.password", t::password, std::nullopt, "Password of the key store file."),
      def("ssl.keystore.type", t::string, "JKS", "Format of the key store: PEM or PKCS12 (Brook reads no JKS)."),
      def("ssl.principal.mapping.rules", t::string, "DEFAULT",
          "Rules mapping a client certificate's subject to a principal name: RULE:pattern/replacement/[LU], DEFAULT."),
      def("ssl.protocol", t::string, "TLSv1.3", "Accepted for compatibility; ssl.enabled.protocols decides."),
      def("ssl.truststore.certificates", t::password, std::nullopt,
          "Trusted certificates in PEM, inline (ssl.truststore.type=PEM)."),
      def("ssl.truststore.location", t::string, std::nullopt, "Trust store file: PEM certificates or PKCS12."),
      def("ssl.truststore.password", t::password, std::nullopt, "Password of the trust store file."),
      def("ssl.truststore.type", t::string, "JKS", "Format of the trust store: PEM or PKCS12 (Brook reads no JKS)."),
      def("transaction.abort.timed.out.transaction.cleanup.interval.ms", t::int_, "10000",
          "How often transactions open past their timeout are aborted.", at_least(1)),
      def("transaction.max.timeout.ms", t::int_, "900000", "Largest transaction timeout a producer may ask for.",
          at_least(1)),
      def("transaction.remove.expired.transaction.cleanup.interval.ms", t::int_, "3600000",
          "How often transactional ids idle for transactional.id.expiration.ms are removed.", at_least(1)),
      def("transaction.state.log.min.isr", t::int_, "2", "Accepted for compatibility; a single node is the ISR.",
          at_least(1)),
      def("transaction.state.log.num.partitions", t::int_, "50", "Partitions of the transaction state topic.",
          at_least(1)),
      def("transaction.state.log.replication.factor", t::short_, "3",
          "Accepted for compatibility; the transaction state topic has one replica on a single node.", at_least(1)),
      def("transaction.state.log.segment.bytes", t::int_, "104857600", "Segment size of the transaction state topic.",
          at_least(1)),
      def("transactional.id.expiration.ms", t::int_, "604800000", "How long an idle transactional id is remembered.",
          at_least(1)),
      def("unclean.leader.election.enable", t::boolean, "false",
          "Default for electing an out-of-sync replica; meaningless on a single node."),
  };
  std::sort(d.begin(), d.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return d;
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  s = trim_spaces(s);
  if (s.empty()) return out;
  while (true) {
    size_t comma = s.find(',');
    out.push_back(trim_spaces(s.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

const config_value null_value{};

}  // namespace

// ---------------------------------------------------------------------------------------------
// listeners

common::result<std::vector<listener_endpoint>> parse_listeners(std::string_view config_name, std::string_view text,
                                                               std::string_view security_protocol_map) {
  // NAME:PROTOCOL pairs, names upper-cased as Kafka normalises listener names.
  std::map<std::string, std::string> protocols;
  for (auto pair : split_commas(security_protocol_map)) {
    size_t colon = pair.find(':');
    if (colon == std::string_view::npos || trim_spaces(pair.substr(0, colon)).empty() || trim_spaces(pair.substr(colon + 1)).empty()) {
      return {kafka_error::invalid_config,
              invalid_value_message("listener.security.protocol.map", security_protocol_map,
                                    fmt::format("'{}' is not NAME:PROTOCOL", pair))};
    }
    protocols[upper(trim_spaces(pair.substr(0, colon)))] = upper(trim_spaces(pair.substr(colon + 1)));
  }

  std::vector<listener_endpoint> out;
  for (auto item : split_commas(text)) {
    auto refuse = [&](std::string_view reason) -> common::result<std::vector<listener_endpoint>> {
      return {kafka_error::invalid_config, invalid_value_message(config_name, text, reason)};
    };
    auto unparsable = [&] { return refuse(fmt::format("Unable to parse {} to a broker endpoint", item)); };
    size_t scheme_end = item.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) return unparsable();
    listener_endpoint ep;
    ep.name = upper(item.substr(0, scheme_end));
    std::string_view rest = item.substr(scheme_end + 3);
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
      size_t close = rest.find(']');
      if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') return unparsable();
      ep.host = std::string(rest.substr(1, close - 1));
      port_text = rest.substr(close + 2);
    } else {
      size_t colon = rest.rfind(':');
      if (colon == std::string_view::npos) return unparsable();
      ep.host = std::string(rest.substr(0, colon));
      port_text = rest.substr(colon + 1);
    }
    for (char c : ep.host) {
      bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '%' ||
                c == '.' || c == '_' || c == ':';
      if (!ok) return unparsable();
    }
    if (port_text.empty() || port_text.size() > 5 ||
        !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return unparsable();
    }
    int port = std::stoi(std::string(port_text));
    if (port > 65535) return refuse(fmt::format("port {} of listener {} is not in 0..65535", port, ep.name));
    ep.port = static_cast<uint16_t>(port);

    auto protocol = protocols.find(ep.name);
    if (protocol == protocols.end()) {
      return refuse(fmt::format("No security protocol defined for listener {} in listener.security.protocol.map", ep.name));
    }
    ep.security_protocol = protocol->second;
    if (ep.security_protocol != "PLAINTEXT" && ep.security_protocol != "SSL" && ep.security_protocol != "SASL_PLAINTEXT" &&
        ep.security_protocol != "SASL_SSL") {
      return refuse(fmt::format("listener {} uses the unknown security protocol {} (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)",
                                ep.name, ep.security_protocol));
    }
    for (const auto& other : out) {
      if (other.name == ep.name) return refuse(fmt::format("Each listener must have a different name; {} repeats", ep.name));
    }
    out.push_back(std::move(ep));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// command line

common::result<command_line> parse_command_line(std::span<const std::string> args) {
  command_line out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      out.help = true;
    } else if (arg == "--version") {
      out.version = true;
    } else if (arg == "--ephemeral") {
      out.ephemeral = true;
    } else if (arg == "--exit-on-stdin-eof") {
      out.exit_on_stdin_eof = true;
    } else if (arg == "--override") {
      if (i + 1 >= args.size()) return {kafka_error::invalid_config, "--override needs a key=value argument"};
      const std::string& pair = args[++i];
      size_t eq = pair.find('=');
      if (eq == std::string::npos || eq == 0) {
        return {kafka_error::invalid_config,
                fmt::format("Invalid --override '{}': expected key=value", pair)};
      }
      out.overrides.emplace_back(pair.substr(0, eq), pair.substr(eq + 1));
    } else if (arg.size() > 1 && arg[0] == '-') {
      return {kafka_error::invalid_config, fmt::format("Unknown option {}", arg)};
    } else if (out.properties_path) {
      return {kafka_error::invalid_config,
              fmt::format("Only one properties file may be given; found {} and {}", *out.properties_path, arg)};
    } else {
      out.properties_path = arg;
    }
  }
  return out;
}

std::string command_line_usage(std::string_view program) {
  return fmt::format(
      "Usage: {0} [server.properties] [--override property=value]*\n"
      "       {0} --ephemeral [--override property=value]* [--exit-on-stdin-eof]\n"
      "  server.properties     Kafka-style broker configuration (defaults apply when omitted)\n"
      "  --override key=value  set one property, winning over the file and --ephemeral; may repeat\n"
      "  --ephemeral           a throwaway broker for tests: listens on 127.0.0.1 on a free port, keeps its\n"
      "                        data in a new temporary directory (under /dev/shm when there is one) that is\n"
      "                        removed at exit; as the data is thrown away, fsync is skipped\n"
      "                        (brook.log.fsync=false); group.initial.rebalance.delay.ms=0. Logs go to\n"
      "                        stderr; stdout gets 'bootstrap.servers=127.0.0.1:PORT' once it accepts\n"
      "                        connections, then 'control=http://127.0.0.1:PORT' (the control API)\n"
      "  --exit-on-stdin-eof   stop cleanly once stdin is closed (so a test's broker ends with the test)\n"
      "  -h, --help            show this help\n"
      "  --version             show the version\n"
      "SIGTERM and SIGINT stop the broker cleanly (exit 0).\n",
      program);
}

property_list ephemeral_properties(const std::string& log_dir) {
  return {{"listeners", "PLAINTEXT://127.0.0.1:0"},
          {"log.dirs", log_dir},
          {"brook.log.fsync", "false"},
          {"group.initial.rebalance.delay.ms", "0"}};
}

// ---------------------------------------------------------------------------------------------
// server_config

const std::vector<config_definition>& server_config::definitions() {
  static const std::vector<config_definition> table = make_server_definitions();
  return table;
}

const config_definition* server_config::find_definition(std::string_view name) {
  const auto& table = definitions();
  auto it = std::lower_bound(table.begin(), table.end(), name,
                             [](const config_definition& d, std::string_view n) { return d.name < n; });
  return it != table.end() && it->name == name ? &*it : nullptr;
}

server_config server_config::defaults() {
  auto config = from_properties({});
  return std::move(config).value();  // the defaults always pass their own checks
}

common::result<server_config> server_config::from_properties(const property_list& properties) {
  server_config config;
  for (const auto& d : definitions()) {
    setting s;
    if (d.default_value) {
      auto parsed = parse_config_value(d, *d.default_value);
      if (!parsed) return parsed.err();
      s.value = std::move(*parsed);
    }
    config.settings_.emplace(d.name, std::move(s));
  }

  // The last occurrence of a key wins; report problems in the order the keys first appear.
  std::map<std::string, std::string, std::less<>> last;
  std::vector<std::string> order;
  for (const auto& [key, value] : properties) {
    if (last.insert_or_assign(key, value).second) order.push_back(key);
  }
  for (const auto& key : order) {
    const std::string& text = last[key];
    const config_definition* d = find_definition(key);
    if (!d && key.starts_with(listener_prefix) && key.find('.', listener_prefix.size()) != std::string::npos) {
      config.listener_settings_[key] = text;
      continue;
    }
    if (!d) {
      config.warnings_.push_back(fmt::format("The configuration '{}' was supplied but isn't a known config.", key));
      continue;
    }
    auto parsed = parse_config_value(*d, text);
    if (!parsed) return parsed.err();
    auto& s = config.settings_[key];
    s.value = std::move(*parsed);
    s.source = config_source::static_broker_config;
    s.original = text;
  }
  if (auto ids = config.set_node_id_and_broker_id(); !ids) return ids.err();
  config.static_settings_ = config.settings_;
  if (auto checked = config.check_and_derive(); !checked) return checked.err();
  return config;
}

std::optional<std::string> server_config::listener_setting(std::string_view listener, std::string_view key) const {
  std::string prefixed = fmt::format("{}{}.{}", listener_prefix, listener, key);
  std::transform(prefixed.begin(), prefixed.begin() + static_cast<std::ptrdiff_t>(listener_prefix.size() + listener.size()),
                 prefixed.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (auto it = listener_settings_.find(prefixed); it != listener_settings_.end()) return it->second;
  if (const setting* s = find(key); s && s->source != config_source::default_config && s->original)
    return *s->original;
  return std::nullopt;
}

bool server_config::is_dynamic(std::string_view name) { return dynamic_key(name); }

std::vector<std::string> server_config::dynamic_names() { return {dynamic_keys.begin(), dynamic_keys.end()}; }

common::result<void> server_config::validate_dynamic(const dynamic_configs& configs) {
  std::vector<std::string> fixed;
  for (const auto& [name, text] : configs)
    if (find_definition(name) && !dynamic_key(name)) fixed.push_back(name);
  if (!fixed.empty()) {
    std::string list;
    for (const auto& n : fixed) list += (list.empty() ? "" : ", ") + n;
    return {kafka_error::invalid_request, fmt::format("Cannot update these configs dynamically: [{}]", list)};
  }
  for (const auto& [name, text] : configs) {
    const config_definition* d = find_definition(name);
    if (!d) continue;
    auto parsed = parse_config_value(*d, text);
    if (!parsed) return {kafka_error::invalid_request, parsed.err().message};
    // DynamicLogConfig's requirements (Scala's require: "requirement failed: ...").
    if (name == "log.retention.ms" && std::get<int64_t>(*parsed) == 0)
      return {kafka_error::invalid_request,
              "requirement failed: log.retention.ms must be unlimited (-1) or, greater than or equal to 1"};
    if (name == "log.roll.ms" && std::get<int64_t>(*parsed) < 1)
      return {kafka_error::invalid_request, "requirement failed: log.roll.ms must be greater than or equal to 1"};
  }
  return {};
}

dynamic_configs server_config::initial_dynamic_defaults() const {
  // Integer.toString of the parsed static value, as Kafka writes it (" 2 " in the file is stored as "2").
  const auto& s = static_settings_.at("min.insync.replicas");
  return {{"min.insync.replicas", std::to_string(std::get<int64_t>(s.value))}};
}

common::result<void> server_config::check_min_insync_replicas_change(bool cluster_default,
                                                                     const std::set<std::string>& named,
                                                                     const dynamic_configs& after) {
  constexpr std::string_view key = "min.insync.replicas";
  if (!named.count(std::string(key))) return {};
  if (!cluster_default)
    return {kafka_error::invalid_config, "Broker-level min.insync.replicas cannot be altered while ELR is enabled."};
  if (!after.count(key))
    return {kafka_error::invalid_config, "Cluster-level min.insync.replicas cannot be removed while ELR is enabled."};
  return {};
}

common::result<server_config> server_config::with_dynamic(const dynamic_configs& per_broker,
                                                          const dynamic_configs& defaults) const {
  for (const auto* layer : {&defaults, &per_broker})
    if (auto ok = validate_dynamic(*layer); !ok) return ok.err();
  server_config config = *this;
  config.settings_ = static_settings_;
  config.dynamic_per_broker_ = per_broker;
  config.dynamic_defaults_ = defaults;
  auto apply = [&](const dynamic_configs& layer, config_source source) {
    for (const auto& [name, text] : layer) {
      const config_definition* d = find_definition(name);
      if (!d) continue;
      auto& s = config.settings_[name];
      s.value = std::move(parse_config_value(*d, text)).value();  // validate_dynamic parsed it
      s.source = source;
      s.original = text;
    }
  };
  apply(defaults, config_source::dynamic_default_broker_config);
  apply(per_broker, config_source::dynamic_broker_config);
  if (auto checked = config.check_and_derive(); !checked) return checked.err();
  return config;
}

common::result<server_config> server_config::load(const command_line& command, const property_list& defaults) {
  property_list properties;
  if (command.properties_path) {
    auto file = load_properties_file(*command.properties_path);
    if (!file) return file.err();
    properties = std::move(*file);
  }
  properties.insert(properties.end(), defaults.begin(), defaults.end());
  properties.insert(properties.end(), command.overrides.begin(), command.overrides.end());
  return from_properties(properties);
}

common::result<void> server_config::set_node_id_and_broker_id() {
  setting& node = settings_["node.id"];
  setting& broker = settings_["broker.id"];
  const bool node_set = node.source == config_source::static_broker_config;
  const bool broker_set = broker.source == config_source::static_broker_config;
  if (node_set && broker_set && std::get<int64_t>(node.value) != std::get<int64_t>(broker.value)) {
    return {kafka_error::invalid_config,
            fmt::format("The values for broker.id ({}) and node.id ({}) must be the same if both are specified",
                        std::get<int64_t>(broker.value), std::get<int64_t>(node.value))};
  }
  // Kafka copies whichever of the two is set to the other, as if both had been (KafkaConfig's
  // populateSynonyms): DescribeConfigs then reports both as STATIC_BROKER_CONFIG.
  if (!node_set && !broker_set) {
    node.value = broker.value = int64_t{1};
    node.source = broker.source = config_source::static_broker_config;
    node.original = broker.original = "1";
  } else if (!node_set) {
    node = broker;
  } else if (!broker_set) {
    broker = node;
  }
  if (std::get<int64_t>(node.value) < 0) {  // only a broker.id can get here: node.id's validator refuses it
    return {kafka_error::invalid_config, invalid_value_message("broker.id", node.original.value_or(""), "Value must be at least 0")};
  }
  return {};
}

common::result<void> server_config::check_and_derive() {
  // Retention: the most precise key that is set wins; 0 would delete everything at once, so Kafka
  // refuses it, and any negative value means "no limit".
  for (const char* key : {"log.retention.ms", "log.retention.minutes", "log.retention.hours"}) {
    const setting* s = find(key);
    if (std::holds_alternative<std::monostate>(s->value)) continue;
    if (std::get<int64_t>(s->value) == 0) {
      return {kafka_error::invalid_config,
              invalid_value_message(key, "0", "log.retention.ms must be unlimited (-1) or, equal or greater than 1")};
    }
    break;
  }

  // Consumer-protocol group timing: each setting within its bounds, heartbeats within sessions
  // (Kafka's GroupCoordinatorConfig requirements).
  auto require = [this](bool ok, std::string_view a, std::string_view relation,
                        std::string_view b) -> common::result<void> {
    if (ok) return {};
    return {kafka_error::invalid_config, fmt::format("{} must be {} {}", a, relation, b)};
  };
  const int64_t hb = get_int("group.consumer.heartbeat.interval.ms");
  const int64_t session = get_int("group.consumer.session.timeout.ms");
  for (auto check : {
           require(get_int("group.consumer.max.heartbeat.interval.ms") >= get_int("group.consumer.min.heartbeat.interval.ms"),
                   "group.consumer.max.heartbeat.interval.ms", "greater than or equal to",
                   "group.consumer.min.heartbeat.interval.ms"),
           require(hb >= get_int("group.consumer.min.heartbeat.interval.ms"), "group.consumer.heartbeat.interval.ms",
                   "greater than or equal to", "group.consumer.min.heartbeat.interval.ms"),
           require(hb <= get_int("group.consumer.max.heartbeat.interval.ms"), "group.consumer.heartbeat.interval.ms",
                   "less than or equal to", "group.consumer.max.heartbeat.interval.ms"),
           require(get_int("group.consumer.max.session.timeout.ms") >= get_int("group.consumer.min.session.timeout.ms"),
                   "group.consumer.max.session.timeout.ms", "greater than or equal to",
                   "group.consumer.min.session.timeout.ms"),
           require(session >= get_int("group.consumer.min.session.timeout.ms"), "group.consumer.session.timeout.ms",
                   "greater than or equal to", "group.consumer.min.session.timeout.ms"),
           require(session <= get_int("group.consumer.max.session.timeout.ms"), "group.consumer.session.timeout.ms",
                   "less than or equal to", "group.consumer.max.session.timeout.ms"),
           require(hb < session, "group.consumer.heartbeat.interval.ms", "less than",
                   "group.consumer.session.timeout.ms"),
           require(get_int("group.consumer.max.assignment.interval.ms") >=
                       get_int("group.consumer.min.assignment.interval.ms"),
                   "group.consumer.max.assignment.interval.ms", "greater than or equal to",
                   "group.consumer.min.assignment.interval.ms"),
           require(get_int("group.consumer.assignment.interval.ms") >= get_int("group.consumer.min.assignment.interval.ms"),
                   "group.consumer.assignment.interval.ms", "greater than or equal to",
                   "group.consumer.min.assignment.interval.ms"),
           require(get_int("group.consumer.assignment.interval.ms") <= get_int("group.consumer.max.assignment.interval.ms"),
                   "group.consumer.assignment.interval.ms", "less than or equal to",
                   "group.consumer.max.assignment.interval.ms"),
       })
    if (!check) return check.err();

  node_id_ = static_cast<int32_t>(get_int("node.id"));  // set_node_id_and_broker_id() set both

  // Listeners.
  std::string protocol_map = get_string("listener.security.protocol.map");
  auto parsed = parse_listeners("listeners", get_string("listeners"), protocol_map);
  if (!parsed) return parsed.err();
  listeners_ = std::move(*parsed);
  if (listeners_.empty()) {
    return {kafka_error::invalid_config, invalid_value_message("listeners", get_string("listeners"),
                                                               "at least one listener is needed")};
  }
  std::set<uint16_t> ports;
  for (const auto& l : listeners_) {
    if (l.port != 0 && !ports.insert(l.port).second) {
      return {kafka_error::invalid_config,
              invalid_value_message("listeners", get_string("listeners"),
                                    fmt::format("Each listener must have a different port; {} repeats", l.port))};
    }
  }
  if (std::holds_alternative<std::monostate>(value("advertised.listeners"))) {
    advertised_listeners_ = client_listeners();
  } else {
    std::string text = get_string("advertised.listeners");
    auto advertised = parse_listeners("advertised.listeners", text, protocol_map);
    if (!advertised) return advertised.err();
    for (const auto& a : *advertised) {
      if (a.host == "0.0.0.0" || a.host == "::") {
        return {kafka_error::invalid_config,
                invalid_value_message("advertised.listeners", text,
                                      "advertised.listeners cannot use the nonroutable meta-address " + a.host +
                                          ". Use a routable IP address.")};
      }
      bool known = std::any_of(listeners_.begin(), listeners_.end(), [&](const auto& l) { return l.name == a.name; });
      if (!known) {
        return {kafka_error::invalid_config,
                invalid_value_message("advertised.listeners", text,
                                      fmt::format("listener {} is not one of the listeners", a.name))};
      }
    }
    advertised_listeners_ = std::move(*advertised);
  }

  if (log_dirs().empty()) {
    return {kafka_error::invalid_config, "At least one log directory must be defined via log.dirs or log.dir."};
  }
  return {};
}

const server_config::setting* server_config::find(std::string_view name) const {
  auto it = settings_.find(name);
  return it == settings_.end() ? nullptr : &it->second;
}

const config_value& server_config::value(std::string_view name) const {
  const setting* s = find(name);
  return s ? s->value : null_value;
}

config_source server_config::source(std::string_view name) const {
  const setting* s = find(name);
  return s ? s->source : config_source::unknown;
}

std::optional<std::string> server_config::original(std::string_view name) const {
  const setting* s = find(name);
  return s ? s->original : std::nullopt;
}

bool server_config::get_bool(std::string_view name) const {
  auto* b = std::get_if<bool>(&value(name));
  return b && *b;
}

int64_t server_config::get_int(std::string_view name) const {
  auto* n = std::get_if<int64_t>(&value(name));
  return n ? *n : 0;
}

double server_config::get_double(std::string_view name) const {
  auto* d = std::get_if<double>(&value(name));
  return d ? *d : 0.0;
}

std::string server_config::get_string(std::string_view name) const {
  auto* s = std::get_if<std::string>(&value(name));
  return s ? *s : std::string();
}

std::vector<std::string> server_config::get_list(std::string_view name) const {
  auto* l = std::get_if<std::vector<std::string>>(&value(name));
  return l ? *l : std::vector<std::string>{};
}

std::vector<listener_endpoint> server_config::client_listeners() const {
  std::set<std::string> controller_names;
  const std::string names = get_string("controller.listener.names");  // outlives the views split from it
  for (auto name : split_commas(names)) controller_names.insert(upper(name));
  std::vector<listener_endpoint> out;
  for (const auto& l : listeners_)
    if (!controller_names.count(l.name)) out.push_back(l);
  return out;
}

std::vector<std::string> server_config::log_dirs() const {
  std::string text = std::holds_alternative<std::monostate>(value("log.dirs")) ? get_string("log.dir")
                                                                              : get_string("log.dirs");
  std::vector<std::string> out;
  for (auto dir : split_commas(text))
    if (!dir.empty()) out.emplace_back(dir);
  return out;
}

int64_t server_config::log_roll_ms() const {
  if (!std::holds_alternative<std::monostate>(value("log.roll.ms"))) return get_int("log.roll.ms");
  return get_int("log.roll.hours") * 60 * 60 * 1000;
}

int64_t server_config::log_roll_jitter_ms() const {
  if (!std::holds_alternative<std::monostate>(value("log.roll.jitter.ms"))) return get_int("log.roll.jitter.ms");
  return get_int("log.roll.jitter.hours") * 60 * 60 * 1000;
}

int64_t server_config::log_retention_ms() const {
  int64_t ms;
  if (!std::holds_alternative<std::monostate>(value("log.retention.ms"))) {
    ms = get_int("log.retention.ms");
  } else if (!std::holds_alternative<std::monostate>(value("log.retention.minutes"))) {
    ms = get_int("log.retention.minutes") * 60 * 1000;
  } else {
    ms = get_int("log.retention.hours") * 60 * 60 * 1000;
  }
  return ms < 0 ? -1 : ms;
}

int64_t server_config::log_flush_interval_ms() const {
  if (!std::holds_alternative<std::monostate>(value("log.flush.interval.ms"))) return get_int("log.flush.interval.ms");
  return get_int("log.flush.scheduler.interval.ms");
}

std::vector<std::string> server_config::synonym_group(std::string_view name) {
  if (name == "log.roll.ms" || name == "log.roll.hours") return {"log.roll.ms", "log.roll.hours"};
  if (name == "log.roll.jitter.ms" || name == "log.roll.jitter.hours") return {"log.roll.jitter.ms", "log.roll.jitter.hours"};
  if (name == "log.flush.interval.ms") return {"log.flush.interval.ms", "log.flush.scheduler.interval.ms"};
  if (name == "log.retention.ms" || name == "log.retention.minutes" || name == "log.retention.hours")
    return {"log.retention.ms", "log.retention.minutes", "log.retention.hours"};
  return {std::string(name)};
}

std::vector<config_synonym> server_config::synonyms_of(std::string_view name, bool per_broker) const {
  std::vector<config_synonym> all;
  const auto group = synonym_group(name);
  auto add_layer = [&](const dynamic_configs& layer, config_source source) {
    for (const auto& s : group) {
      auto it = layer.find(s);
      const config_definition* d = find_definition(s);
      if (it != layer.end() && d) all.push_back({s, d->sensitive ? std::nullopt : std::optional(it->second), source});
    }
  };
  if (per_broker) add_layer(dynamic_per_broker_, config_source::dynamic_broker_config);
  add_layer(dynamic_defaults_, config_source::dynamic_default_broker_config);
  for (const auto& s : group) {
    auto it = static_settings_.find(s);
    const config_definition* d = find_definition(s);
    if (it != static_settings_.end() && d && it->second.source == config_source::static_broker_config) {
      all.push_back({s, d->sensitive ? std::nullopt : it->second.original, config_source::static_broker_config});
    }
  }
  for (const auto& s : group) {
    const config_definition* d = find_definition(s);
    if (d && d->default_value) {
      all.push_back({s, d->sensitive ? std::nullopt : d->default_value, config_source::default_config});
    }
  }
  auto first = std::find_if(all.begin(), all.end(), [&](const config_synonym& s) { return s.name == name; });
  return {first, all.end()};
}

std::vector<config_entry> server_config::describe() const {
  std::vector<config_entry> out;
  out.reserve(definitions().size());
  for (const auto& d : definitions()) {
    config_entry e;
    e.name = d.name;
    e.type = d.type;
    e.sensitive = d.sensitive;
    e.read_only = d.read_only;
    e.documentation = d.documentation;
    e.value = d.sensitive ? std::nullopt : format_config_value(value(d.name));
    e.synonyms = synonyms_of(d.name);
    e.source = e.synonyms.empty() ? config_source::default_config : e.synonyms.front().source;
    e.is_default = e.source == config_source::default_config;
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<config_entry> server_config::describe_dynamic_defaults() const {
  std::vector<config_entry> out;
  for (const auto& [name, text] : dynamic_defaults_) {
    config_entry e;
    e.name = name;
    e.source = config_source::dynamic_default_broker_config;
    e.is_default = false;
    const config_definition* d = find_definition(name);
    if (!d) {  // Kafka cannot type a custom key, so treats it as sensitive
      e.value = std::nullopt;
      e.sensitive = true;
      e.read_only = true;
      e.type = config_type::unknown;
      e.synonyms.push_back({name, std::nullopt, config_source::dynamic_default_broker_config});
    } else {
      e.sensitive = d->sensitive;
      e.value = d->sensitive ? std::nullopt : std::optional(text);
      e.read_only = d->read_only;
      e.type = d->type;
      e.documentation = d->documentation;
      // Kafka 4.4 reports only the synonyms of this resource itself, the dynamic defaults.
      for (auto& synonym : synonyms_of(name, false))
        if (synonym.source == config_source::dynamic_default_broker_config) e.synonyms.push_back(std::move(synonym));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<std::string> server_config::consumer_assignor_name(std::string_view configured) {
  if (configured == "uniform" || configured == "org.apache.kafka.coordinator.group.assignor.UniformAssignor")
    return std::string("uniform");
  if (configured == "range" || configured == "org.apache.kafka.coordinator.group.assignor.RangeAssignor")
    return std::string("range");
  return std::nullopt;
}

std::vector<std::string> server_config::group_consumer_assignors() const {
  std::vector<std::string> out;
  for (const auto& name : get_list("group.consumer.assignors"))
    if (auto n = consumer_assignor_name(name)) out.push_back(*n);
  return out;
}

}  // namespace brook::broker
