package io.brook.testing;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One throwaway Brook broker: {@code brook-server --ephemeral --exit-on-stdin-eof}, found through
 * {@code $BROOK_SERVER} (or the system property {@code brook.server}), then {@code PATH}.
 *
 * <p>The broker's stdin is a pipe held only by this JVM: {@link #close()} closes it and the broker
 * stops cleanly and deletes its data; if the JVM dies the pipe closes too, so the broker cannot
 * outlive the tests. The control methods throw {@link BrookException} when the API refuses a call.
 */
public final class BrookBroker implements AutoCloseable {
  static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(30);

  /** One entry of the broker's request log. */
  public record Request(String api, int apiKey, int apiVersion, String clientId, int correlationId) {}

  private final Process process;
  private final Path log;
  private final String bootstrapServers;
  private final String controlUrl;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONTROL_TIMEOUT).build();
  private boolean closed;

  private BrookBroker(Process process, Path log, String bootstrapServers, String controlUrl) {
    this.process = process;
    this.log = log;
    this.bootstrapServers = bootstrapServers;
    this.controlUrl = controlUrl;
  }

  /** Starts a broker with the defaults of --ephemeral. */
  public static BrookBroker start() {
    return start(Map.of());
  }

  /** Starts a broker; each override becomes {@code --override key=value} (winning over the defaults). */
  public static BrookBroker start(Map<String, String> overrides) {
    List<String> command = new ArrayList<>(List.of(findServer(), "--ephemeral", "--exit-on-stdin-eof"));
    overrides.forEach((k, v) -> {
      command.add("--override");
      command.add(k + "=" + v);
    });
    Path log;
    Process process;
    try {
      log = Files.createTempFile("brook-server-", ".log");
      process = new ProcessBuilder(command)
          .redirectOutput(ProcessBuilder.Redirect.PIPE)
          .redirectInput(ProcessBuilder.Redirect.PIPE)
          .redirectError(log.toFile())
          .start();
    } catch (IOException e) {
      throw new BrookException("cannot start " + command.get(0) + ": " + e.getMessage(), e);
    }
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    CompletableFuture<String[]> lines = CompletableFuture.supplyAsync(() -> {
      try {
        return new String[] {out.readLine(), out.readLine()};
      } catch (IOException e) {
        return new String[] {null, null};
      }
    });
    try {
      String[] got = lines.get(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      String bootstrap = valueOf(got[0], "bootstrap.servers=", log);
      String control = valueOf(got[1], "control=", log);
      return new BrookBroker(process, log, bootstrap, control);
    } catch (TimeoutException | InterruptedException | ExecutionException | BrookException e) {
      process.destroyForcibly();
      String tail = tail(log);
      deleteQuietly(log);
      if (e instanceof BrookException b) throw new BrookException(b.getMessage() + "\n" + tail, b);
      throw new BrookException("brook-server did not announce itself within " + START_TIMEOUT + "\n" + tail, e);
    }
  }

  private static String valueOf(String line, String prefix, Path log) {
    if (line == null) throw new BrookException("brook-server exited before printing '" + prefix + "'");
    if (!line.startsWith(prefix)) throw new BrookException("brook-server printed '" + line + "', expected '" + prefix + "...'");
    return line.substring(prefix.length()).trim();
  }

  /** The brook-server to run: $BROOK_SERVER, the brook.server system property, else PATH. */
  public static String findServer() {
    String explicit = System.getenv("BROOK_SERVER");
    if (explicit == null || explicit.isEmpty()) explicit = System.getProperty("brook.server");
    if (explicit != null && !explicit.isEmpty()) {
      if (!new File(explicit).canExecute()) throw new BrookException(explicit + " (BROOK_SERVER) is not an executable file");
      return explicit;
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File candidate = new File(dir, "brook-server");
      if (candidate.canExecute()) return candidate.getPath();
    }
    throw new BrookException("brook-server not found: put it on PATH or set BROOK_SERVER to its path");
  }

  /** For the client's {@code bootstrap.servers} ("127.0.0.1:PORT"). */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The base URL of the control API. */
  public String controlUrl() {
    return controlUrl;
  }

  /** The end of the broker's log. */
  public String logTail() {
    return tail(log);
  }

  /**
   * Closes the broker's stdin and waits for it to stop (SIGTERM, then SIGKILL, past STOP_TIMEOUT).
   * Throws if it did not exit cleanly. Later calls do nothing.
   */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // already closed: the broker sees end of file all the same
    }
    try {
      if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly().waitFor();
          throw new BrookException("brook-server did not stop; killed\n" + tail(log));
        }
      }
      if (process.exitValue() != 0) {
        throw new BrookException("brook-server exited with " + process.exitValue() + "\n" + tail(log));
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      deleteQuietly(log);
    }
  }

  // --- control API ---------------------------------------------------------------------------

  /** Deletes every topic, group, committed offset and producer state; clears fault rules and the request log. */
  public void reset() {
    call("POST", "/reset", Map.of());
  }

  public void createTopic(String name, int partitions) {
    createTopic(name, partitions, Map.of());
  }

  public void createTopic(String name, int partitions, Map<String, String> configs) {
    call("POST", "/topics", body("name", name, "partitions", partitions, "configs", configs));
  }

  /** Answers the next request of {@code api} (Kafka's name, e.g. "Produce") with {@code error} (e.g. "NOT_LEADER_OR_FOLLOWER"). */
  public int injectError(String api, String error) {
    return injectError(api, error, 1, null, null);
  }

  public int injectError(String api, String error, int count) {
    return injectError(api, error, count, null, null);
  }

  /** As above, for the next {@code count} requests, only those for {@code topic} / {@code group} when not null. Returns the rule id. */
  public int injectError(String api, String error, int count, String topic, String group) {
    return ruleId(call("POST", "/faults/errors", body("api", api, "error", error, "count", count, "topic", topic, "group", group)));
  }

  /** Delays the answers to {@code api} until the rule is cleared. */
  public int delay(String api, Duration delay) {
    return ruleId(call("POST", "/faults/delay", body("api", api, "ms", delay.toMillis())));
  }

  /** Delays the answers to the next {@code count} requests of {@code api}. */
  public int delay(String api, Duration delay, int count) {
    return ruleId(call("POST", "/faults/delay", body("api", api, "ms", delay.toMillis(), "count", count)));
  }

  /** Closes the connection on receipt of the next request of {@code api}, unanswered. */
  public int dropConnection(String api) {
    return dropConnection(api, 1);
  }

  public int dropConnection(String api, int count) {
    return ruleId(call("POST", "/faults/drop", body("api", api, "count", count)));
  }

  /** ApiVersions advertises at most {@code maxVersion} for {@code api} until the rule is cleared. */
  public int capVersion(String api, int maxVersion) {
    return ruleId(call("POST", "/faults/version-cap", body("api", api, "max_version", maxVersion)));
  }

  /** The next log {@code op} ("append" or "fsync") fails with {@code error} ("EIO" or "ENOSPC"). */
  public int diskFault(String op, String error) {
    return diskFault(op, error, 1, null);
  }

  public int diskFault(String op, String error, int count, String topic) {
    return ruleId(call("POST", "/faults/disk", body("op", op, "error", error, "count", count, "topic", topic)));
  }

  /** The fault rules in force (id, kind and their fields). */
  @SuppressWarnings("unchecked")
  public List<Map<String, Object>> faults() {
    return (List<Map<String, Object>>) call("GET", "/faults", null).get("rules");
  }

  public void clearFaults() {
    call("DELETE", "/faults", null);
  }

  public void clearFault(int id) {
    call("DELETE", "/faults/" + id, null);
  }

  /** Stops answering: connections stay open and are accepted, nothing is answered until {@link #resume()}. */
  public void pause() {
    call("POST", "/pause", Map.of());
  }

  public void resume() {
    call("POST", "/resume", Map.of());
  }

  /** Closes every client connection; returns how many there were. */
  public int closeConnections() {
    return ((Number) call("POST", "/connections/close", Map.of()).get("closed")).intValue();
  }

  /** The broker's request log, oldest first (bounded). */
  @SuppressWarnings("unchecked")
  public List<Request> requests() {
    List<Request> out = new ArrayList<>();
    for (Object o : (List<Object>) call("GET", "/requests", null).get("requests")) {
      Map<String, Object> r = (Map<String, Object>) o;
      out.add(new Request((String) r.get("api"), ((Number) r.get("api_key")).intValue(),
          ((Number) r.get("api_version")).intValue(), (String) r.get("client_id"),
          ((Number) r.get("correlation_id")).intValue()));
    }
    return out;
  }

  /** The logged requests of one API. */
  public List<Request> requests(String api) {
    return requests().stream().filter(r -> r.api().equals(api)).toList();
  }

  public void clearRequests() {
    call("DELETE", "/requests", null);
  }

  private static Map<String, Object> body(Object... keysAndValues) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) out.put((String) keysAndValues[i], keysAndValues[i + 1]);
    return out;
  }

  private static int ruleId(Map<String, Object> answer) {
    return ((Number) answer.get("id")).intValue();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> call(String method, String path, Map<String, Object> body) {
    HttpRequest.BodyPublisher publisher = body == null
        ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(Json.write(body));
    HttpRequest request = HttpRequest.newBuilder(URI.create(controlUrl + path))
        .timeout(CONTROL_TIMEOUT)
        .header("Content-Type", "application/json")
        .method(method, publisher)
        .build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new BrookException(method + " " + path + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BrookException(method + " " + path + ": interrupted", e);
    }
    String text = response.body();
    Object parsed = text == null || text.isBlank() ? Map.of() : Json.parse(text);
    if (response.statusCode() >= 300) {
      Object message = parsed instanceof Map<?, ?> m ? m.get("error") : text;
      throw new BrookException(method + " " + path + ": " + response.statusCode() + " " + message);
    }
    return (Map<String, Object>) parsed;
  }

  private static String tail(Path log) {
    try {
      String s = Files.readString(log, StandardCharsets.UTF_8);
      return s.length() > 8000 ? s.substring(s.length() - 8000) : s;
    } catch (IOException e) {
      return "";
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // a temporary file left behind
    }
  }
}
