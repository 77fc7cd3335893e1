package net.aitbc.grid.worker.session;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import net.aitbc.grid.ledger.Attestations;
import net.aitbc.grid.ledger.Attestations.Attestation;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ledger.VerifyingKey;

/**
 * A worker's countersignature of its completed outcomes, one Ed25519 signature per batch, group
 * commit style: the first outcome to arrive starts a batch on {@code executor} at once; outcomes
 * that arrive while a batch is being signed wait and make up the next one (up to {@link
 * #MAX_BATCH}). At low load a batch is a single outcome. Under load, signing is paced: after a
 * signature, the next waits until {@link #PACE} times as long as it took has passed (or a full
 * batch waits), so signatures (about 0.8 ms each with the JDK) take at most a twentieth of one
 * thread, and one signature covers more outcomes the faster they come; the coordinator, which
 * verifies one signature per batch, is spared as much. Thread-safe; knows nothing of the wire
 * protocol, so the benchmark's fake worker signs with it too.
 */
public final class OutcomeSigner {

  /** The most outcomes one signature covers. */
  public static final int MAX_BATCH = 256;
  /** After a signature, the next one waits this many times as long as it took (unless a batch is full). */
  static final int PACE = 19;

  private final SigningKey key;
  private final String workerId;
  private final Executor executor;
  private final Object lock = new Object();
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  // A drain task is scheduled or running; it runs until the queue is empty.
  private boolean draining;
  private final AtomicLong signatures = new AtomicLong();
  private final AtomicLong signed = new AtomicLong();
  // When the next signature may start under load (System.nanoTime), guarded by lock.
  private long nextSignNanos;

  private record Pending(ObjectNode statement, CompletableFuture<Attestation> done) {}

  /** Signs as {@code workerId} with {@code key}; batches are signed on {@code executor}. */
  public OutcomeSigner(SigningKey key, String workerId, Executor executor) {
    this.key = requireNonNull(key, "key");
    this.workerId = requireNonNull(workerId, "workerId");
    this.executor = requireNonNull(executor, "executor");
  }

  /**
   * Signs a completed outcome: its statement is built here, on the calling thread, from exactly the
   * {@code resultJson} and {@code metricsJson} the worker sends (the coordinator rebuilds it from
   * the same strings); the signature comes later, on the executor, which completes the future
   * (failed if the executor refuses the work). Throws {@link IllegalArgumentException} if either
   * string is not valid JSON or the metrics are not an object.
   */
  public CompletableFuture<Attestation> sign(
      String jobId, int attempt, String resultJson, String metricsJson) {
    return sign(statement(jobId, attempt, resultJson, metricsJson));
  }

  /** The statement this worker makes about an outcome (what {@link #sign} signs). */
  public ObjectNode statement(String jobId, int attempt, String resultJson, String metricsJson) {
    return Attestations.statement(
        workerId,
        jobId,
        attempt,
        CanonicalJson.parse(resultJson),
        CanonicalJson.parse(metricsJson));
  }

  /** Signs a statement made with {@link #statement}, in the next batch. */
  public CompletableFuture<Attestation> sign(ObjectNode statement) {
    Pending pending = new Pending(statement, new CompletableFuture<>());
    boolean start;
    synchronized (lock) {
      queue.add(pending);
      start = !draining;
      draining = true;
      if (queue.size() >= MAX_BATCH) {
        lock.notifyAll();
      }
    }
    if (start) {
      try {
        executor.execute(this::drain);
      } catch (RejectedExecutionException e) {
        failQueued(e);
      }
    }
    return pending.done();
  }

  /** The worker id it signs as. */
  public String workerId() {
    return workerId;
  }

  /** The public key its signatures verify with. */
  public VerifyingKey verifyingKey() {
    return key.verifyingKey();
  }

  /** Signatures made so far (one per batch). */
  public long signatures() {
    return signatures.get();
  }

  /** Outcomes signed so far. */
  public long signed() {
    return signed.get();
  }

  private void drain() {
    while (true) {
      List<Pending> batch;
      synchronized (lock) {
        // Paced: wait for the batch to fill while the last signature's pause lasts.
        long wait;
        while (!queue.isEmpty() && queue.size() < MAX_BATCH && (wait = nextSignNanos - System.nanoTime()) > 0) {
          try {
            lock.wait(Math.max(1, wait / 1_000_000), 0);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
        if (queue.isEmpty()) {
          draining = false;
          return;
        }
        batch = new ArrayList<>(Math.min(queue.size(), MAX_BATCH));
        while (!queue.isEmpty() && batch.size() < MAX_BATCH) {
          batch.add(queue.poll());
        }
      }
      List<Attestation> attestations;
      long start = System.nanoTime();
      try {
        attestations =
            Attestations.signBatch(key, workerId, batch.stream().map(Pending::statement).toList());
        long end = System.nanoTime();
        synchronized (lock) {
          nextSignNanos = end + PACE * (end - start);
        }
      } catch (RuntimeException e) {
        // A statement made for another worker id: fail this batch, keep signing the rest.
        batch.forEach(p -> p.done().completeExceptionally(e));
        continue;
      }
      signatures.incrementAndGet();
      signed.addAndGet(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).done().complete(attestations.get(i));
      }
    }
  }

  private void failQueued(RejectedExecutionException e) {
    List<Pending> failed;
    synchronized (lock) {
      failed = new ArrayList<>(queue);
      queue.clear();
      draining = false;
    }
    failed.forEach(p -> p.done().completeExceptionally(e));
  }
}
