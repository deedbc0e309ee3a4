package io.brook.compat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.apache.kafka.common.utils.internals.Exit;

/**
 * Runs Kafka's command-line tools in this JVM, as their bin/ scripts would in a process of their own:
 * the tool's main(args) with its own standard input, output and error, and its exit code.
 *
 * <p>System.in/out/err are replaced once by streams that route to the invocation the calling thread
 * (or the thread that started it) belongs to, so the Kafka and the Brook side of a scenario may run
 * their tools at the same time; threads outside any invocation reach the real streams. Kafka's Exit
 * (the tools' only way out: Exit.exit, never System.exit) throws ToolExit instead of ending the JVM,
 * and the shutdown hooks a tool registers through Exit run when it exits, as a JVM would run them.
 * A tool with static mutable state (ConsoleConsumer counts messages in a static field) runs one
 * invocation at a time.
 */
public final class Tools {
  private Tools() {}

  /** How a tool ended: its exit code (0 when main returned) and what it printed. */
  public record Run(int exitCode, String out, String err) {
    /** Standard output and error together, for tools that report errors on either. */
    public String all() {
      return out + err;
    }
  }

  /** Thrown by Exit.exit/halt inside a tool; an Error so that the tools' catch (Exception) lets it pass. */
  static final class ToolExit extends Error {
    final int code;

    ToolExit(int code) {
      super("exit " + code, null, false, false);
      this.code = code;
    }
  }

  /** One tool invocation: its streams, its exit code and its shutdown hooks. */
  private static final class Invocation {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final InputStream in;
    final List<Runnable> hooks = new ArrayList<>();
    Integer exitCode;

    Invocation(String stdin) {
      in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
    }
  }

  private static final InheritableThreadLocal<Invocation> CURRENT = new InheritableThreadLocal<>();
  private static final Map<Class<?>, ReentrantLock> ONE_AT_A_TIME = new ConcurrentHashMap<>();
  private static final List<String> STATEFUL = List.of("org.apache.kafka.tools.consumer.ConsoleConsumer");

  static {
    PrintStream realOut = System.out;
    PrintStream realErr = System.err;
    InputStream realIn = System.in;
    System.setOut(new PrintStream(new Routed(realOut, i -> i.out), true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(new Routed(realErr, i -> i.err), true, StandardCharsets.UTF_8));
    System.setIn(new InputStream() {
      private InputStream current() {
        Invocation i = CURRENT.get();
        return i != null ? i.in : realIn;
      }

      @Override
      public int read() throws IOException {
        return current().read();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        return current().read(b, off, len);
      }

      @Override
      public int available() throws IOException {
        return current().available();
      }
    });
    Exit.setExitProcedure(Tools::exit);
    Exit.setHaltProcedure(Tools::exit);
    Exit.setShutdownHookAdder((name, hook) -> {
      Invocation i = CURRENT.get();
      if (i == null) {
        Runtime.getRuntime().addShutdownHook(new Thread(hook, name));
      } else {
        synchronized (i) {
          i.hooks.add(hook);
        }
      }
    });
  }

  private static void exit(int code, String message) {
    Invocation i = CURRENT.get();
    if (i == null) throw new IllegalStateException("Exit.exit(" + code + ") outside a tool invocation: " + message);
    synchronized (i) {
      if (i.exitCode == null) i.exitCode = code;
    }
    throw new ToolExit(code);
  }

  /** An output stream writing to the calling thread's invocation, else to the real stream. */
  private static final class Routed extends OutputStream {
    private final OutputStream real;
    private final Function<Invocation, OutputStream> pick;

    Routed(OutputStream real, Function<Invocation, OutputStream> pick) {
      this.real = real;
      this.pick = pick;
    }

    private OutputStream target() {
      Invocation i = CURRENT.get();
      return i != null ? pick.apply(i) : real;
    }

    @Override
    public void write(int b) throws IOException {
      OutputStream t = target();
      synchronized (t) {
        t.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      OutputStream t = target();
      synchronized (t) {
        t.write(b, off, len);
      }
    }

    @Override
    public void flush() throws IOException {
      target().flush();
    }
  }

  /** Runs `mainClass`'s main(args) with `stdin` as its standard input. */
  public static Run run(String mainClass, String stdin, List<String> args) throws Exception {
    Class<?> tool = Class.forName(mainClass);
    ReentrantLock lock = STATEFUL.contains(mainClass) ? ONE_AT_A_TIME.computeIfAbsent(tool, c -> new ReentrantLock()) : null;
    if (lock != null) lock.lock();
    Invocation invocation = new Invocation(stdin);
    Invocation outer = CURRENT.get();
    CURRENT.set(invocation);
    try {
      try {
        tool.getMethod("main", String[].class).invoke(null, (Object) args.toArray(String[]::new));
      } catch (InvocationTargetException e) {
        if (!(e.getCause() instanceof ToolExit)) {
          // What an uncaught exception does to a JVM: the trace on standard error, exit code 1.
          e.getCause().printStackTrace();
          synchronized (invocation) {
            if (invocation.exitCode == null) invocation.exitCode = 1;
          }
        }
      }
      List<Runnable> hooks;
      synchronized (invocation) {
        hooks = new ArrayList<>(invocation.hooks);
      }
      for (Runnable hook : hooks) {
        try {
          hook.run();
        } catch (ToolExit ignored) {
          // a hook's own exit call: the code is already decided
        }
      }
    } finally {
      CURRENT.set(outer);
      if (lock != null) lock.unlock();
    }
    synchronized (invocation) {
      int code = invocation.exitCode == null ? 0 : invocation.exitCode;
      return new Run(code, invocation.out.toString(StandardCharsets.UTF_8), invocation.err.toString(StandardCharsets.UTF_8));
    }
  }

  public static Run run(String mainClass, List<String> args) throws Exception {
    return run(mainClass, "", args);
  }
}
