package io.brook.compat;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs one scenario against Kafka and Brook at the same time (a thread each) and compares what the two
 * observed. An observation is a tree of maps, lists and plain values, built by the scenario from what
 * the client, the Streams application or the tool returned, leaving out what must differ (ids, hosts,
 * ports, timings); it is compared as the flat lines "path = value". A scenario that throws on one side
 * fails the test with both sides' outcome.
 */
public final class SideBySide {
  private SideBySide() {}

  @FunctionalInterface
  public interface Scenario {
    Object run(Side side) throws Exception;
  }

  /** What both sides observed (they are equal when compare returns). */
  public record Observed(Object kafka, Object brook) {}

  /** How long one scenario may take on either side before the test fails. */
  private static final long SCENARIO_TIMEOUT_SECONDS = 120;

  public static Observed compare(String what, Scenario scenario) {
    Side kafka = Side.kafka();
    Side brook = Side.brook();
    FutureTask<Object> onKafka = new FutureTask<>(() -> scenario.run(kafka));
    FutureTask<Object> onBrook = new FutureTask<>(() -> scenario.run(brook));
    Thread kafkaThread = new Thread(onKafka, what + " [kafka]");
    Thread brookThread = new Thread(onBrook, what + " [brook]");
    kafkaThread.setDaemon(true);
    brookThread.setDaemon(true);
    kafkaThread.start();
    brookThread.start();
    Outcome k = outcome(onKafka, kafkaThread);
    Outcome b = outcome(onBrook, brookThread);
    if (k.error != null || b.error != null) {
      AssertionError failure = new AssertionError(what + ": a side failed\n  kafka: " + k.describe() + "\n  brook: " + b.describe());
      if (k.error != null) failure.addSuppressed(k.error);
      if (b.error != null) failure.addSuppressed(b.error);
      throw failure;
    }
    List<String> kafkaLines = lines(k.value);
    List<String> brookLines = lines(b.value);
    if (!kafkaLines.equals(brookLines)) {
      throw new AssertionError(what + ": Brook differs from Kafka (- kafka, + brook)\n" + diff(kafkaLines, brookLines));
    }
    return new Observed(k.value, b.value);
  }

  private record Outcome(Object value, Throwable error) {
    String describe() {
      if (error == null) return "completed";
      return error.getClass().getName() + ": " + error.getMessage();
    }
  }

  private static Outcome outcome(FutureTask<Object> task, Thread thread) {
    try {
      return new Outcome(task.get(SCENARIO_TIMEOUT_SECONDS, TimeUnit.SECONDS), null);
    } catch (ExecutionException e) {
      return new Outcome(null, e.getCause());
    } catch (TimeoutException e) {
      AssertionError timeout = new AssertionError("no result within " + SCENARIO_TIMEOUT_SECONDS + "s");
      timeout.setStackTrace(thread.getStackTrace());
      thread.interrupt();
      return new Outcome(null, timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Outcome(null, e);
    }
  }

  /** The observation as lines "path = value", maps in their own order when they have one, else by key. */
  public static List<String> lines(Object observation) {
    List<String> out = new ArrayList<>();
    flatten("", observation, out);
    return out;
  }

  private static void flatten(String path, Object value, List<String> out) {
    if (value instanceof Optional<?> optional) {
      flatten(path, optional.orElse(null), out);
    } else if (value instanceof Map<?, ?> map) {
      if (map.isEmpty()) {
        out.add(path + " = {}");
        return;
      }
      Map<?, ?> ordered = map;
      if (!(map instanceof LinkedHashMap<?, ?>) && !(map instanceof SortedMap<?, ?>)) {
        TreeMap<String, Object> sorted = new TreeMap<>();
        map.forEach((key, v) -> sorted.put(String.valueOf(key), v));
        ordered = sorted;
      }
      ordered.forEach((key, v) -> flatten(path.isEmpty() ? String.valueOf(key) : path + "." + key, v, out));
    } else if (value instanceof Collection<?> list) {
      if (list.isEmpty()) {
        out.add(path + " = []");
        return;
      }
      int i = 0;
      for (Object v : list) flatten(path + "[" + i++ + "]", v, out);
    } else if (value != null && value.getClass().isArray()) {
      List<Object> list = new ArrayList<>();
      for (int i = 0; i < Array.getLength(value); i++) list.add(Array.get(value, i));
      flatten(path, list, out);
    } else {
      out.add(path + " = " + value);
    }
  }

  /** The differing lines (longest common subsequence), each with the line before it for context. */
  static String diff(List<String> a, List<String> b) {
    int n = a.size();
    int m = b.size();
    int[][] common = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        common[i][j] = a.get(i).equals(b.get(j)) ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
      }
    }
    StringBuilder out = new StringBuilder();
    int i = 0;
    int j = 0;
    String lastSame = null;
    boolean inChange = false;
    while (i < n || j < m) {
      if (i < n && j < m && a.get(i).equals(b.get(j))) {
        lastSame = a.get(i);
        inChange = false;
        i++;
        j++;
        continue;
      }
      if (!inChange && lastSame != null) out.append("    ").append(lastSame).append('\n');
      inChange = true;
      if (j >= m || (i < n && common[i + 1][j] >= common[i][j + 1])) {
        out.append("  - ").append(a.get(i++)).append('\n');
      } else {
        out.append("  + ").append(b.get(j++)).append('\n');
      }
    }
    return out.toString();
  }

  /** A map keeping the order entries are put in, for building observations. */
  public static Map<String, Object> observation() {
    return new LinkedHashMap<>();
  }
}
