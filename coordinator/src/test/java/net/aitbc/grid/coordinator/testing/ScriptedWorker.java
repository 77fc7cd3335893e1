package net.aitbc.grid.coordinator.testing;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;

/**
 * A {@link TestWorker} that answers each assignment as its script says, on a thread of its own:
 * completes it, fails it, or holds it until the test answers. It keeps its credits topped up, and
 * records every assignment and revocation.
 */
public final class ScriptedWorker implements AutoCloseable {
  /** What to do with one assignment. */
  public sealed interface Reply {}

  /** Completes with this result and these metrics. */
  public record Complete(String resultJson, String metricsJson) implements Reply {}

  /** Fails with this error. */
  public record Fail(String error, boolean retryable) implements Reply {}

  /** Holds the assignment: the test answers it through {@link #worker()}, or it is revoked. */
  public record Hold() implements Reply {}

  private final TestWorker worker;
  private final Function<Assignment, Reply> script;
  private final List<Assignment> assignments = new CopyOnWriteArrayList<>();
  private final Map<String, String> revoked = new ConcurrentHashMap<>();
  private final Thread thread;
  private volatile boolean closed;
  private volatile boolean heartbeating;

  private ScriptedWorker(TestWorker worker, int credits, Function<Assignment, Reply> script) {
    this.worker = worker;
    this.script = script;
    worker.credit(credits);
    this.thread = Thread.ofVirtual().name("scripted-worker").start(this::loop);
  }

  /** Connects a worker for these types to {@code grid} that answers as {@code script} says, holding {@code credits}. */
  public static ScriptedWorker start(GridFixture grid, String workerId, int credits, Function<Assignment, Reply> script,
      String... types) {
    return new ScriptedWorker(grid.worker(workerId, types), credits, script);
  }

  /** The same, over a worker connected by the caller. */
  public static ScriptedWorker over(TestWorker worker, int credits, Function<Assignment, Reply> script) {
    return new ScriptedWorker(worker, credits, script);
  }

  /** Heartbeats every 500 ms from now on, so that it outlives its lease while idle. */
  public ScriptedWorker heartbeating() {
    heartbeating = true;
    return this;
  }

  private void loop() {
    long nextBeat = System.nanoTime();
    while (!closed) {
      if (heartbeating && System.nanoTime() - nextBeat >= 0) {
        worker.heartbeat();
        nextBeat = System.nanoTime() + 500_000_000L;
      }
      ConnectResponse m = worker.poll(Duration.ofMillis(100));
      if (m == null) {
        continue;
      }
      if (m.hasRevocation()) {
        revoked.put(m.getRevocation().getJobId(), m.getRevocation().getReason());
      }
      if (!m.hasAssignment()) {
        continue;
      }
      Assignment a = m.getAssignment();
      assignments.add(a);
      switch (script.apply(a)) {
        case Complete c -> {
          worker.complete(a.getJobId(), a.getAttempt(), c.resultJson(), c.metricsJson());
          worker.credit(1);
        }
        case Fail f -> {
          worker.fail(a.getJobId(), a.getAttempt(), f.error(), f.retryable());
          worker.credit(1);
        }
        case Hold h -> {
          // Answered by the test.
        }
      }
    }
  }

  /** The worker underneath, to answer held assignments (then {@link TestWorker#credit} it again). */
  public TestWorker worker() {
    return worker;
  }

  /** Every assignment so far, in the order they came. */
  public List<Assignment> assignments() {
    return assignments;
  }

  /** The jobs revoked from it, with the reasons. */
  public Map<String, String> revoked() {
    return revoked;
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    worker.close();
  }
}
