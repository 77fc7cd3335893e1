package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.function.IntConsumer;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.AttemptRef;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.Effects;
import net.aitbc.grid.coordinator.store.EngineStore;
import net.aitbc.grid.coordinator.store.Outcome;
import net.aitbc.grid.coordinator.store.Recorded;
import net.aitbc.grid.coordinator.store.Stores;
import net.aitbc.grid.coordinator.store.SwarmEngineStore;
import net.aitbc.grid.coordinator.store.TakeBackStore;
import net.aitbc.grid.db.enums.JobState;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The outcome path of {@link Scheduler}: what workers report is stamped with the coordinator's queue
 * and run times and group-committed (with, when set, the decisions for the workflow executions whose
 * step jobs completed and for the swarm tasks whose member jobs completed); an outcome the database
 * keeps refusing puts its attempt back in the queue.
 */
final class OutcomeReports implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(OutcomeReports.class);

  private final Stores stores;
  private final GridMetrics metrics;
  private final Backoff backoff;
  private final Endings endings;
  private final Executor background;
  private final IntConsumer completionsCommitted;
  private final GroupCommitter<Outcome, Recorded> committer;
  private volatile EngineStore.@Nullable Decide stepsFollow;
  private volatile SwarmEngineStore.@Nullable Within membersFollow;

  OutcomeReports(Stores stores, GridMetrics metrics, Backoff backoff, Endings endings, Executor background,
      IntConsumer completionsCommitted) {
    this.stores = stores;
    this.metrics = metrics;
    this.backoff = backoff;
    this.endings = endings;
    this.background = background;
    this.completionsCommitted = completionsCommitted;
    // A worker has already done the work an outcome reports: keep it until the database takes it.
    // The step jobs that follow completed ones are told to their workers after the outcomes' acks.
    this.committer = GroupCommitter.thenAfter("outcome", metrics.timed("outcome", this::record), 1000, 100_000, 2,
        true);
  }

  /** See {@link Scheduler#followStepJobsWith}. */
  void followStepJobsWith(EngineStore.Decide decide) {
    this.stepsFollow = requireNonNull(decide, "decide");
  }

  /** See {@link Scheduler#followMemberJobsWith}. */
  void followMemberJobsWith(SwarmEngineStore.Within within) {
    this.membersFollow = requireNonNull(within, "within");
  }

  private GroupCommitter.Committed<Recorded> record(List<Outcome> batch) {
    EngineStore.Decide decide = stepsFollow;
    SwarmEngineStore.Within swarms = membersFollow;
    Effects effects = new Effects();
    List<Recorded> recorded;
    try {
      recorded = stores.outcomes().record(batch, backoff::after, decide, swarms, effects);
    } catch (RuntimeException e) {
      effects.rolledBack();
      if ((decide == null && swarms == null) || Database.isUnavailable(e)) {
        throw e;
      }
      // Deciding for the executions or swarm tasks failed it: the outcomes come first, the engines decide.
      logger.warn("outcome: could not decide for executions or swarm tasks with a batch of {} ({}); recording it "
          + "alone", batch.size(), e.toString());
      effects = new Effects();
      recorded = stores.outcomes().record(batch, backoff::after, null, null, effects);
    }
    int completed = 0;
    for (Recorded r : recorded) {
      if (r.accepted() && r.state() == JobState.COMPLETED) {
        completed++;
      }
    }
    completionsCommitted.accept(completed);
    return new GroupCommitter.Committed<>(recorded, effects::committed);
  }

  /** See {@link Scheduler#report}. */
  CompletableFuture<Recorded> report(WorkerSession session, Outcome outcome) {
    WorkerSession.RunningAttempt attempt = session.running(outcome.jobId())
        .filter(r -> r.attempt() == outcome.attempt()).orElse(null);
    session.reported(outcome.jobId(), outcome.attempt());
    Outcome stamped = outcome;
    if (attempt != null) {
      long runMs = Duration.between(attempt.startedAt(), OffsetDateTime.now(ZoneOffset.UTC)).toMillis();
      metrics.ran(attempt.type(), runMs);
      if (outcome instanceof Outcome.Completed c) {
        stamped = withTimes(c, attempt, runMs);
      }
    }
    return committer.submit(stamped).handle((r, error) -> {
      session.finished(outcome.jobId(), outcome.attempt());
      if (error != null) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof GroupCommitter.ShuttingDown || Database.isUnavailable(cause)) {
          throw error instanceof CompletionException ce ? ce : new CompletionException(error);
        }
        return unrecorded(session, outcome, cause);
      }
      if (!r.accepted()) {
        metrics.refused();
      } else if (r.state() != null) {
        endings.changed(outcome.jobId(), r.state());
      }
      return r;
    });
  }

  /** The database refused an outcome for good: say so loudly, and put the attempt back in the queue. */
  private Recorded unrecorded(WorkerSession session, Outcome outcome, Throwable cause) {
    logger.error("[{}] job {} attempt {}: the outcome from worker {} cannot be recorded ({}); taking the attempt back",
        session.id(), outcome.jobId(), outcome.attempt(), session.workerId(), cause.toString());
    metrics.outcomeUnrecorded();
    AttemptRef ref = new AttemptRef(outcome.jobId(), outcome.attempt(), session.id());
    background.execute(() -> {
      try {
        endings.settle(stores.takeBacks().takeBack(List.of(ref), TakeBackStore.Why.UNRECORDED, null, backoff::after),
            "outcome not recorded");
      } catch (RuntimeException e) {
        // The session no longer holds the attempt: the sweeper's reconciliation takes it back.
        logger.warn("[{}] job {}: could not take the attempt back now: {}", session.id(), outcome.jobId(),
            e.toString());
      }
    });
    return new Recorded(false, null, "not recorded: the database refused it (" + cause.getClass().getSimpleName()
        + "); the attempt goes back to the queue");
  }

  /**
   * The worker's metrics (a JSON object, checked by the transport) with the coordinator's queue and
   * run times added. Added as text: jsonb keeps the last of duplicate keys, so these win over any
   * the worker sent, and no parse and print per outcome.
   */
  private static Outcome.Completed withTimes(Outcome.Completed c, WorkerSession.RunningAttempt r, long runMs) {
    String given = c.metricsJson().strip();
    String times = "\"queue_ms\":" + Duration.between(r.createdAt(), r.startedAt()).toMillis()
        + ",\"run_ms\":" + runMs + "}";
    int end = given.lastIndexOf('}');
    boolean empty = end < 0 || given.substring(given.indexOf('{') + 1, end).isBlank();
    String merged = empty ? "{" + times : given.substring(0, end) + "," + times;
    return c.withMetrics(merged);
  }

  /** Commits what is queued; then takes no more. */
  @Override
  public void close() {
    committer.close();
  }
}
