package io.brook.compat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialAlteration;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;
import org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredJws;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The security listeners both brokers have (tests/compat/security_certs.py, the same settings and
 * certificates on each): the producer, consumer and admin client over each of them, the refusals
 * (wrong password, unknown user, missing or foreign client certificate, expired token, a client that
 * skips authentication) with the exception each client sees, and re-authentication (KIP-368). SCRAM's
 * users are credentials each broker stores (AlterUserScramCredentials, sent by the admin client over the
 * PLAINTEXT listener): the same users are made on both before the tests, and the tests describe, add
 * and delete credentials and see logins follow.
 */
class SecurityTest {
  static final int RECORDS = 12;

  static String certificate(String file) {
    return Path.of(Side.certificates(), file).toString();
  }

  /** TLS that trusts the brokers' authority (the certificates' ca.pem, a PEM truststore). */
  static Map<String, Object> tls(String protocol) {
    Map<String, Object> c = new HashMap<>();
    c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
    c.put(SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG, "PEM");
    c.put(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, certificate("ca.pem"));
    return c;
  }

  static Map<String, Object> plain(String protocol, String user, String password) {
    Map<String, Object> c = protocol.equals("SASL_SSL") ? tls(protocol) : new HashMap<>();
    c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
    c.put(SaslConfigs.SASL_MECHANISM, "PLAIN");
    c.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.plain.PlainLoginModule required "
        + "username=\"" + user + "\" password=\"" + password + "\";");
    return c;
  }

  /** SCRAM-SHA-256 or SCRAM-SHA-512 as `user` with `password` (ScramLoginModule, as Kafka's clients log in). */
  static Map<String, Object> scram(String protocol, String mechanism, String user, String password) {
    Map<String, Object> c = protocol.equals("SASL_SSL") ? tls(protocol) : new HashMap<>();
    c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
    c.put(SaslConfigs.SASL_MECHANISM, mechanism);
    c.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule required "
        + "username=\"" + user + "\" password=\"" + password + "\";");
    return c;
  }

  /** A user with credentials for both SCRAM mechanisms, each with its own password. */
  static final String SCRAM_USER = Side.name("scram-carol");
  static final Map<String, String> SCRAM_PASSWORDS =
      Map.of("SCRAM-SHA-256", "carol-secret-256", "SCRAM-SHA-512", "carol-secret-512");
  /** A user whose SCRAM-SHA-256 credential scramCredentialDeletedRefusesLogin deletes. */
  static final String SCRAM_DELETED_USER = Side.name("scram-dave");
  /** A user with no SCRAM credential on either broker. */
  static final String SCRAM_UNKNOWN_USER = Side.name("scram-mallory");

  static Map<String, Object> scram(String protocol, String mechanism) {
    return scram(protocol, mechanism, SCRAM_USER, SCRAM_PASSWORDS.get(mechanism));
  }

  static ScramMechanism scramMechanism(String name) {
    return ScramMechanism.fromMechanismName(name);
  }

  /** Each alteration in a request of its own: the outcome of each, "ok" or its exception. */
  static List<Object> alter(Admin admin, List<UserScramCredentialAlteration> alterations) {
    List<Object> outcomes = new ArrayList<>();
    for (UserScramCredentialAlteration alteration : alterations) {
      outcomes.add(failure(() -> Results.get(admin.alterUserScramCredentials(List.of(alteration)).all())));
    }
    return outcomes;
  }

  /** Whether a client with `config` gets metadata through `side` (an admin client's describeCluster). */
  static boolean logsIn(Side side, Map<String, Object> config) {
    try (Admin admin = side.admin(impatient(config))) {
      return failure(() -> Results.get(admin.describeCluster().nodes())).equals(List.of("ok"));
    }
  }

  /**
   * The SCRAM users on both brokers: SCRAM_USER with both mechanisms, SCRAM_DELETED_USER with both (one
   * password). A broker may apply a stored credential a little after answering (Kafka's credential cache
   * follows its metadata log), so each login is awaited.
   */
  @BeforeAll
  static void scramUsers() {
    SideBySide.compare("SCRAM users", side -> {
      List<UserScramCredentialAlteration> alterations = List.of(
          new UserScramCredentialUpsertion(SCRAM_USER, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192),
              SCRAM_PASSWORDS.get("SCRAM-SHA-256")),
          new UserScramCredentialUpsertion(SCRAM_USER, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
              SCRAM_PASSWORDS.get("SCRAM-SHA-512")),
          new UserScramCredentialUpsertion(SCRAM_DELETED_USER, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096),
              "dave-secret"),
          new UserScramCredentialUpsertion(SCRAM_DELETED_USER, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
              "dave-secret"));
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        o.put("altered", alter(admin, alterations));
      }
      for (String mechanism : List.of("SCRAM-SHA-256", "SCRAM-SHA-512")) {
        Results.await(SCRAM_USER + " to log in with " + mechanism,
            () -> logsIn(side.on("SASL_PLAINTEXT"), scram("SASL_PLAINTEXT", mechanism)));
        Results.await(SCRAM_DELETED_USER + " to log in with " + mechanism,
            () -> logsIn(side.on("SASL_PLAINTEXT"), scram("SASL_PLAINTEXT", mechanism, SCRAM_DELETED_USER, "dave-secret")));
      }
      return o;
    });
  }

  /** OAUTHBEARER with the stock unsecured login (an unsigned JWT for `subject`, made by the client). */
  static Map<String, Object> oauthbearer(String protocol, String subject) {
    Map<String, Object> c = protocol.equals("SASL_SSL") ? tls(protocol) : new HashMap<>();
    c.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, protocol);
    c.put(SaslConfigs.SASL_MECHANISM, "OAUTHBEARER");
    c.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
        + "unsecuredLoginStringClaim_sub=\"" + subject + "\";");
    return c;
  }

  /** SSL with a client certificate and key (a PEM keystore: key and certificate in one file). */
  static Map<String, Object> mtls(String keystore) {
    Map<String, Object> c = tls("SSL");
    c.put(SslConfigs.SSL_KEYSTORE_TYPE_CONFIG, "PEM");
    c.put(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, certificate(keystore));
    return c;
  }

  /** A listener and the client settings that authenticate on it, by the name the tests give it. */
  record Client(String listener, Map<String, Object> config) {}

  static Client client(String name) {
    return switch (name) {
      case "SASL_PLAINTEXT PLAIN" -> new Client("SASL_PLAINTEXT", plain("SASL_PLAINTEXT", "alice", "alice-secret"));
      case "SASL_PLAINTEXT OAUTHBEARER" -> new Client("SASL_PLAINTEXT", oauthbearer("SASL_PLAINTEXT", "alice"));
      case "SASL_SSL PLAIN" -> new Client("SASL_SSL", plain("SASL_SSL", "bob", "bob-secret"));
      case "SASL_SSL OAUTHBEARER" -> new Client("SASL_SSL", oauthbearer("SASL_SSL", "bob"));
      case "SASL_PLAINTEXT SCRAM-SHA-256" -> new Client("SASL_PLAINTEXT", scram("SASL_PLAINTEXT", "SCRAM-SHA-256"));
      case "SASL_PLAINTEXT SCRAM-SHA-512" -> new Client("SASL_PLAINTEXT", scram("SASL_PLAINTEXT", "SCRAM-SHA-512"));
      case "SASL_SSL SCRAM-SHA-256" -> new Client("SASL_SSL", scram("SASL_SSL", "SCRAM-SHA-256"));
      case "SASL_SSL SCRAM-SHA-512" -> new Client("SASL_SSL", scram("SASL_SSL", "SCRAM-SHA-512"));
      case "SSL" -> new Client("SSL", tls("SSL"));
      case "MTLS" -> new Client("MTLS", mtls("client.pem"));
      default -> throw new IllegalArgumentException(name);
    };
  }

  static String word(String name) {
    return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
  }

  /**
   * Through each listener: the admin client describes the cluster (this listener's address) and creates a
   * topic, the producer sends keyed records, a consumer of a group reads them and commits, and the admin
   * client reads the group's offsets.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"SASL_PLAINTEXT PLAIN", "SASL_PLAINTEXT OAUTHBEARER", "SASL_SSL PLAIN",
      "SASL_SSL OAUTHBEARER", "SASL_PLAINTEXT SCRAM-SHA-256", "SASL_PLAINTEXT SCRAM-SHA-512", "SASL_SSL SCRAM-SHA-256",
      "SASL_SSL SCRAM-SHA-512", "SSL", "MTLS"})
  void produceConsumeAndAdminister(String name) {
    String topic = Side.name("sec-" + word(name));
    String group = Side.name("sec-group-" + word(name));
    Client client = client(name);
    SideBySide.compare("security " + name, plaintext -> {
      Side side = plaintext.on(client.listener());
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin(client.config())) {
        DescribeClusterResult cluster = admin.describeCluster();
        List<String> nodes = new ArrayList<>();
        for (Node n : Results.get(cluster.nodes())) {
          nodes.add("node " + n.id() + (side.bootstrap().equals(n.host() + ":" + n.port()) ? " at this listener" : " elsewhere"));
        }
        o.put("nodes", nodes);
        o.put("controller", Results.get(cluster.controller()).id());
        Topics.create(admin, List.of(new NewTopic(topic, 2, (short) 1)));
      }
      List<String> sent = new ArrayList<>();
      try (var producer = side.producer(with(client.config(), ProducerConfig.ACKS_CONFIG, "all"))) {
        List<java.util.concurrent.Future<RecordMetadata>> futures = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) futures.add(producer.send(new ProducerRecord<>(topic, "key-" + (i % 4), "value-" + i)));
        for (var f : futures) {
          RecordMetadata m = f.get(Side.WAIT.toMillis(), TimeUnit.MILLISECONDS);
          sent.add(m.partition() + "@" + m.offset());
        }
      }
      o.put("sent", sent);
      try (var consumer = side.consumer(with(client.config(), ConsumerConfig.GROUP_ID_CONFIG, group))) {
        consumer.subscribe(List.of(topic));
        o.put("read", readRecords(consumer, RECORDS));
        consumer.commitSync();
      }
      try (Admin admin = side.admin(client.config())) {
        Map<Integer, Long> committed = new TreeMap<>();
        Results.get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata())
            .forEach((tp, offset) -> committed.put(tp.partition(), offset.offset()));
        o.put("committed", committed);
      }
      return o;
    });
  }

  static Map<String, Object> with(Map<String, Object> config, String key, Object value) {
    Map<String, Object> c = new HashMap<>(config);
    c.put(key, value);
    return c;
  }

  /** "partition@offset key=value" of `expected` records, by partition and offset. */
  static List<String> readRecords(KafkaConsumer<String, String> consumer, int expected) {
    List<String> read = new ArrayList<>();
    long deadline = System.nanoTime() + Side.WAIT.toNanos();
    while (read.size() < expected && System.nanoTime() < deadline) {
      for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
        read.add(r.partition() + "@" + r.offset() + " " + r.key() + "=" + r.value());
      }
    }
    read.sort(null);
    return read;
  }

  /** What a call ended with: "ok", or the exception's class and message, then those of its causes. */
  static List<String> failure(Results.Call<?> call) {
    try {
      call.call();
      return List.of("ok");
    } catch (Exception e) {
      Throwable t = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      List<String> chain = new ArrayList<>();
      for (; t != null; t = t.getCause()) chain.add(t.getClass().getName() + ": " + t.getMessage());
      return chain;
    }
  }

  /** An admin client that gives up after a few seconds, so that a refusal shows as what ended the call. */
  static Map<String, Object> impatient(Map<String, Object> config) {
    Map<String, Object> c = new HashMap<>(config);
    c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 4000);
    c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 3000);
    return c;
  }

  /**
   * A refused client: what the admin client's describeCluster and the producer's first send end with.
   * A refused client certificate may be answered with a different TLS alert by each broker's TLS stack,
   * so the alert's name is left out there (the rest of what the client reports is compared in full):
   * for a missing certificate Kafka's Java TLS has sent bad_certificate, OpenSSL (Brook) TLS 1.3's
   * certificate_required (RFC 8446, 4.4.2.4), which it sends before any callback could change it; for a
   * certificate of another authority Kafka has answered either alert from one run to the next.
   */
  static Map<String, Object> refusal(Side side, Map<String, Object> config, boolean certificateRefused) {
    Map<String, Object> o = SideBySide.observation();
    try (Admin admin = side.admin(impatient(config))) {
      o.put("admin", failure(() -> Results.get(admin.describeCluster().nodes())));
    }
    Map<String, Object> producerConfig = with(config, ProducerConfig.MAX_BLOCK_MS_CONFIG, 4000);
    try (var producer = side.producer(producerConfig)) {
      o.put("producer", failure(() -> producer.send(new ProducerRecord<>(Side.name("sec-refused"), "k", "v"))
          .get(Side.WAIT.toMillis(), TimeUnit.MILLISECONDS)));
    }
    if (certificateRefused) {
      o.replaceAll((client, chain) -> ((List<?>) chain).stream()
          .map(line -> String.valueOf(line).replaceAll("Received fatal alert: (bad_certificate|certificate_required)",
              "Received fatal alert: (the TLS stack's alert for a refused certificate)"))
          .toList());
    }
    return o;
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"wrong password", "unknown user", "wrong password over SASL_SSL", "MTLS without a certificate",
      "MTLS with a certificate of another authority", "expired OAUTHBEARER token", "broker not trusted",
      "mechanism the listener does not serve", "SCRAM-SHA-256 wrong password", "SCRAM-SHA-512 wrong password over SASL_SSL",
      "SCRAM-SHA-512 with the SCRAM-SHA-256 password", "SCRAM-SHA-256 unknown user", "SCRAM-SHA-512 unknown user over SASL_SSL"})
  void refused(String name) {
    SideBySide.Observed observed = SideBySide.compare("refused: " + name, plaintext -> {
      Client client = switch (name) {
        case "wrong password" -> new Client("SASL_PLAINTEXT", plain("SASL_PLAINTEXT", "alice", "wrong-password"));
        case "unknown user" -> new Client("SASL_PLAINTEXT", plain("SASL_PLAINTEXT", "mallory", "alice-secret"));
        case "wrong password over SASL_SSL" -> new Client("SASL_SSL", plain("SASL_SSL", "bob", "alice-secret"));
        case "MTLS without a certificate" -> new Client("MTLS", tls("SSL"));
        case "MTLS with a certificate of another authority" -> new Client("MTLS", mtls("rogue.pem"));
        case "expired OAUTHBEARER token" -> new Client("SASL_PLAINTEXT",
            with(oauthbearer("SASL_PLAINTEXT", "alice"), SaslConfigs.SASL_LOGIN_CALLBACK_HANDLER_CLASS, ExpiredToken.class));
        case "broker not trusted" -> new Client("SSL",
            with(tls("SSL"), SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, certificate("rogue-ca.pem")));
        case "mechanism the listener does not serve" -> new Client("REAUTH", oauthbearer("SASL_PLAINTEXT", "alice"));
        case "SCRAM-SHA-256 wrong password" -> new Client("SASL_PLAINTEXT",
            scram("SASL_PLAINTEXT", "SCRAM-SHA-256", SCRAM_USER, "wrong-password"));
        case "SCRAM-SHA-512 wrong password over SASL_SSL" -> new Client("SASL_SSL",
            scram("SASL_SSL", "SCRAM-SHA-512", SCRAM_USER, "wrong-password"));
        case "SCRAM-SHA-512 with the SCRAM-SHA-256 password" -> new Client("SASL_PLAINTEXT",
            scram("SASL_PLAINTEXT", "SCRAM-SHA-512", SCRAM_USER, SCRAM_PASSWORDS.get("SCRAM-SHA-256")));
        case "SCRAM-SHA-256 unknown user" -> new Client("SASL_PLAINTEXT",
            scram("SASL_PLAINTEXT", "SCRAM-SHA-256", SCRAM_UNKNOWN_USER, "carol-secret-256"));
        case "SCRAM-SHA-512 unknown user over SASL_SSL" -> new Client("SASL_SSL",
            scram("SASL_SSL", "SCRAM-SHA-512", SCRAM_UNKNOWN_USER, "carol-secret-512"));
        default -> throw new IllegalArgumentException(name);
      };
      return refusal(plaintext.on(client.listener()), client.config(), name.startsWith("MTLS"));
    });
    // Kafka's answer as a reference point: the client's authentication failed, and it says so. (Under TLS
    // 1.3 the client has finished its handshake when the broker refuses its certificate; an OAUTHBEARER
    // client reports the broker's error JSON.)
    @SuppressWarnings("unchecked")
    List<String> admin = (List<String>) ((Map<String, Object>) observed.kafka()).get("admin");
    String expected = name.contains("MTLS")
        ? "org.apache.kafka.common.errors.SslAuthenticationException: Failed to process post-handshake messages"
        : name.contains("trusted")
        ? "org.apache.kafka.common.errors.SslAuthenticationException: SSL handshake failed"
        : name.contains("mechanism")
        ? "org.apache.kafka.common.errors.UnsupportedSaslMechanismException: Client SASL mechanism 'OAUTHBEARER' not "
            + "enabled in the server, enabled mechanisms are [PLAIN]"
        : name.contains("SCRAM")
        ? "org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed during authentication due "
            + "to invalid credentials with SASL mechanism " + name.split(" ")[0]
        : name.contains("OAUTHBEARER")
        ? "org.apache.kafka.common.errors.SaslAuthenticationException: {\"status\":\"invalid_token\"}"
        : "org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed: Invalid username or password";
    assertEquals(expected, admin.get(0));
  }

  /** "<mechanism> iterations=<n>" of each of a user's credentials, by mechanism, or the exception describing it ended with. */
  static Object describeScram(Admin admin, String user) {
    try {
      UserScramCredentialsDescription d = Results.get(admin.describeUserScramCredentials(List.of(user)).description(user));
      List<String> credentials = new ArrayList<>();
      for (ScramCredentialInfo info : d.credentialInfos()) credentials.add(info.mechanism() + " iterations=" + info.iterations());
      credentials.sort(null);
      return Map.of("name", d.name(), "credentials", credentials);
    } catch (Exception e) {
      return failure(() -> {
        throw e;
      });
    }
  }

  /**
   * describeUserScramCredentials of the users made before the tests, of one made here with SCRAM-SHA-512
   * alone, and of a user without credentials; the alterations a broker refuses (too few or too many
   * iterations, deleting a credential the user does not have, an empty password) and what they leave.
   */
  @Test
  void scramCredentialsDescribedAndAltered() {
    String erin = Side.name("scram-erin");
    SideBySide.Observed observed = SideBySide.compare("SCRAM credentials described and altered", side -> {
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin()) {
        o.put("refused alterations", alter(admin, List.of(
            new UserScramCredentialUpsertion(erin, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 1000), "erin-secret"),
            new UserScramCredentialUpsertion(erin, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 20000), "erin-secret"),
            new UserScramCredentialUpsertion(erin, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), ""),
            new UserScramCredentialDeletion(erin, ScramMechanism.SCRAM_SHA_512))));
        o.put("erin before", describeScram(admin, erin));
        o.put("added", alter(admin, List.of(
            new UserScramCredentialUpsertion(erin, new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 10000), "erin-secret"))));
        // Kafka describes credentials from its metadata cache, which applies an alteration a little after
        // answering it: each description is taken once the alteration before it shows.
        Map<String, Object> described = SideBySide.observation();
        described.put(erin, Results.await("erin's SCRAM-SHA-512 credential to be described", () -> {
          Object d = describeScram(admin, erin);
          return String.valueOf(d).contains("SCRAM_SHA_512") ? d : null;
        }));
        for (String user : List.of(SCRAM_USER, SCRAM_UNKNOWN_USER)) described.put(user, describeScram(admin, user));
        o.put("described", described);
        o.put("deleting the mechanism erin lacks", alter(admin, List.of(new UserScramCredentialDeletion(erin, ScramMechanism.SCRAM_SHA_256))));
        o.put("erin after", describeScram(admin, erin));
      }
      return o;
    });
    // Kafka's answer as a reference point: both of SCRAM_USER's credentials, with their iterations.
    assertEquals(Map.of("name", SCRAM_USER, "credentials", List.of("SCRAM_SHA_256 iterations=8192", "SCRAM_SHA_512 iterations=4096")),
        ((Map<?, ?>) ((Map<?, ?>) observed.kafka()).get("described")).get(SCRAM_USER));
  }

  /**
   * Deleting SCRAM_DELETED_USER's SCRAM-SHA-256 credential refuses its SCRAM-SHA-256 logins (as an
   * unknown user's, once the broker has applied the deletion) and leaves its SCRAM-SHA-512 login.
   */
  @Test
  void scramCredentialDeletedRefusesLogin() {
    SideBySide.Observed observed = SideBySide.compare("SCRAM credential deleted", side -> {
      Side sasl = side.on("SASL_PLAINTEXT");
      Map<String, Object> sha256 = scram("SASL_PLAINTEXT", "SCRAM-SHA-256", SCRAM_DELETED_USER, "dave-secret");
      Map<String, Object> sha512 = scram("SASL_PLAINTEXT", "SCRAM-SHA-512", SCRAM_DELETED_USER, "dave-secret");
      Map<String, Object> o = SideBySide.observation();
      o.put("before", logsIn(sasl, sha256));
      try (Admin admin = side.admin()) {
        o.put("deleted", alter(admin, List.of(new UserScramCredentialDeletion(SCRAM_DELETED_USER, ScramMechanism.SCRAM_SHA_256))));
        // Kafka describes credentials from its metadata cache, which applies the deletion a little after
        // answering it: what is described once the deletion shows.
        o.put("described", Results.await("the SCRAM-SHA-256 credential's deletion to be described", () -> {
          Object described = describeScram(admin, SCRAM_DELETED_USER);
          return String.valueOf(described).contains("SCRAM_SHA_256") ? null : described;
        }));
      }
      Results.await("the SCRAM-SHA-256 login to be refused", () -> !logsIn(sasl, sha256));
      o.put("SCRAM-SHA-256", refusal(sasl, sha256, false));
      o.put("SCRAM-SHA-512 logs in", logsIn(sasl, sha512));
      return o;
    });
    // Kafka's answer as a reference point: the login worked before the deletion, and the other mechanism's still does.
    Map<?, ?> kafka = (Map<?, ?>) observed.kafka();
    assertEquals(List.of(true, true), List.of(kafka.get("before"), kafka.get("SCRAM-SHA-512 logs in")));
  }

  /**
   * A client speaking PLAINTEXT to the SASL_PLAINTEXT listener, skipping authentication: it gets no
   * metadata and its record never arrives (an authenticated consumer finds the topic empty).
   */
  @Test
  void clientSkippingAuthenticationGetsNothing() {
    String topic = Side.name("sec-skipped");
    Map<String, Object> alice = plain("SASL_PLAINTEXT", "alice", "alice-secret");
    SideBySide.Observed observed = SideBySide.compare("PLAINTEXT client on the SASL_PLAINTEXT listener", plaintext -> {
      Side side = plaintext.on("SASL_PLAINTEXT");
      try (Admin admin = side.admin(alice)) {
        Topics.create(admin, List.of(new NewTopic(topic, 1, (short) 1)));
      }
      Map<String, Object> skipping = Map.of(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "PLAINTEXT");
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin(impatient(skipping))) {
        o.put("admin", failure(() -> Results.get(admin.describeCluster().nodes())));
      }
      try (var producer = side.producer(with(skipping, ProducerConfig.MAX_BLOCK_MS_CONFIG, 3000))) {
        o.put("producer", failure(() -> producer.send(new ProducerRecord<>(topic, "k", "sneaky")).get()));
      }
      TopicPartition p0 = new TopicPartition(topic, 0);
      try (var consumer = side.consumer(alice)) {
        o.put("endOffset", consumer.endOffsets(List.of(p0)).get(p0));
      }
      return o;
    });
    assertEquals(0L, ((Map<?, ?>) observed.kafka()).get("endOffset"));
  }

  /**
   * The REAUTH listener's sessions last security_certs.REAUTH_MS: the admin client, the producer and the
   * consumer re-authenticate on their connections (their successful-reauthentication-total metric)
   * while they go on working, and nothing is lost.
   */
  @Test
  void clientsReauthenticateTransparently() {
    String topic = Side.name("sec-reauth");
    String probe = Side.name("sec-reauth-probe");
    Map<String, Object> alice = plain("SASL_PLAINTEXT", "alice", "alice-secret");
    SideBySide.compare("re-authentication", plaintext -> {
      Side side = plaintext.on("REAUTH");
      Map<String, Object> o = SideBySide.observation();
      try (Admin admin = side.admin(alice)) {
        Topics.create(admin, List.of(new NewTopic(topic, 1, (short) 1), new NewTopic(probe, 1, (short) 1)));
        Results.await("the admin client to re-authenticate", () -> {
          try {
            Results.get(admin.describeCluster().nodes());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return reauthentications(admin.metrics()) > 0 ? true : null;
        });
        o.put("admin", reauthenticationMetrics(admin.metrics()));
      }
      try (var producer = side.producer(with(alice, ProducerConfig.LINGER_MS_CONFIG, 0))) {
        for (int i = 0; i < RECORDS / 2; i++) producer.send(new ProducerRecord<>(topic, "key-" + i, "before-" + i)).get();
        // Records to another topic until a session ran out and the producer authenticated again.
        Results.await("the producer to re-authenticate", () -> {
          try {
            producer.send(new ProducerRecord<>(probe, "probe", "probe")).get();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
          return reauthentications(producer.metrics()) > 0 ? true : null;
        });
        for (int i = RECORDS / 2; i < RECORDS; i++) producer.send(new ProducerRecord<>(topic, "key-" + i, "after-" + i)).get();
        o.put("producer", reauthenticationMetrics(producer.metrics()));
      }
      try (var consumer = side.consumer(with(alice, ConsumerConfig.GROUP_ID_CONFIG, Side.name("sec-reauth-group")))) {
        TopicPartition p0 = new TopicPartition(topic, 0);
        consumer.assign(List.of(p0));
        consumer.seekToBeginning(List.of(p0));
        List<String> read = readRecords(consumer, RECORDS);
        // Fetching on until a session ran out and the consumer authenticated again, then committing.
        Results.await("the consumer to re-authenticate", () -> {
          consumer.poll(Duration.ofMillis(100));
          return reauthentications(consumer.metrics()) > 0 ? true : null;
        });
        consumer.commitSync(Map.of(p0, new OffsetAndMetadata(RECORDS)));
        o.put("read", read);
        o.put("position", consumer.position(p0));
        o.put("consumer", reauthenticationMetrics(consumer.metrics()));
      }
      return o;
    });
  }

  static double metric(Map<MetricName, ? extends Metric> metrics, String name) {
    double total = 0;
    for (var e : metrics.entrySet()) {
      if (e.getKey().name().equals(name) && e.getValue().metricValue() instanceof Double d) total += d;
    }
    return total;
  }

  static double reauthentications(Map<MetricName, ? extends Metric> metrics) {
    return metric(metrics, "successful-reauthentication-total");
  }

  /** Whether the client re-authenticated, and how often re-authentication failed (none). */
  static Map<String, Object> reauthenticationMetrics(Map<MetricName, ? extends Metric> metrics) {
    Map<String, Object> o = SideBySide.observation();
    o.put("reauthenticated", reauthentications(metrics) > 0);
    o.put("failedReauthentications", metric(metrics, "failed-reauthentication-total"));
    o.put("failedAuthentications", metric(metrics, "failed-authentication-total"));
    return o;
  }

  /**
   * A login callback handler that gives the client an unsecured JWT for "alice" that expired a minute
   * ago; the broker's validator refuses it.
   */
  public static class ExpiredToken implements AuthenticateCallbackHandler {
    @Override
    public void configure(Map<String, ?> configs, String mechanism, List<AppConfigurationEntry> entries) {}

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
      for (Callback callback : callbacks) {
        if (!(callback instanceof OAuthBearerTokenCallback tokenCallback)) throw new UnsupportedCallbackException(callback);
        long now = System.currentTimeMillis() / 1000;
        String header = encode("{\"alg\":\"none\"}");
        String claims = encode("{\"sub\":\"alice\",\"iat\":" + (now - 120) + ",\"exp\":" + (now - 60) + "}");
        try {
          tokenCallback.token(new OAuthBearerUnsecuredJws(header + "." + claims + ".", "sub", "scope"));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    }

    static String encode(String json) {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {}
  }
}
