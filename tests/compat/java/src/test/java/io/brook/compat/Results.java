package io.brook.compat;

import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.KafkaFuture;

/** Small helpers the scenarios share: results of admin calls, error names, polling with a deadline. */
public final class Results {
  private Results() {}

  @FunctionalInterface
  public interface Call<T> {
    T call() throws Exception;
  }

  /** The value of an admin call's future, waiting at most Side.WAIT. */
  public static <T> T get(KafkaFuture<T> future) throws Exception {
    try {
      return future.get(Side.WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  /** "ok", or the simple name of the exception the call ended with (ExecutionException unwrapped). */
  public static String outcome(Call<?> call) {
    try {
      call.call();
      return "ok";
    } catch (Exception e) {
      return errorName(e);
    }
  }

  /** The simple class name of what went wrong, looking through the wrappers futures add. */
  public static String errorName(Throwable e) {
    while ((e instanceof ExecutionException || e instanceof CompletionException) && e.getCause() != null) e = e.getCause();
    return e.getClass().getSimpleName();
  }

  /** Polls until `probe` gives a value that is not null (nor false), or fails after Side.WAIT. */
  public static <T> T await(String what, Supplier<T> probe) throws InterruptedException {
    return await(what, Side.WAIT, probe);
  }

  public static <T> T await(String what, Duration timeout, Supplier<T> probe) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T value = probe.get();
      if (value != null && !Boolean.FALSE.equals(value)) return value;
      if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout.toSeconds() + "s waiting for " + what);
      Thread.sleep(50);
    }
  }
}
