package net.aitbc.grid.coordinator.workflow;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import net.aitbc.grid.coordinator.scheduler.GroupCommitter;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.Effects;
import net.aitbc.grid.coordinator.store.ExecutionStore;
import net.aitbc.grid.coordinator.store.ExecutionStore.Started;
import net.aitbc.grid.coordinator.store.NewExecution;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts executions as clients ask, group-committed: a burst of starts waits in a queue for a few
 * transactions instead of taking a database connection each (and timing out when there are more
 * than the pool holds). Each transaction stores its executions and, where the engine can decide at
 * once ({@link WorkflowEngine#inline}), their first step jobs; what it leaves is the engine's, from
 * the wake-ups stored with them.
 */
public final class ExecutionStarts implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ExecutionStarts.class);
  /** The most starts waiting; beyond it a start is refused as an overload, to be retried. */
  private static final int CAPACITY = 20_000;
  private static final int MAX_BATCH = 200;

  private final GroupCommitter<NewExecution, Started> committer;

  /** Starts executions in {@code store}, deciding for them with {@code engine}'s rules. */
  public ExecutionStarts(ExecutionStore store, WorkflowEngine engine) {
    requireNonNull(store, "store");
    var decide = requireNonNull(engine, "engine").inline();
    this.committer = GroupCommitter.thenAfter("execution-start", batch -> {
      Effects effects = new Effects();
      List<Started> started;
      try {
        started = store.startAll(batch, decide, effects);
      } catch (RuntimeException e) {
        effects.rolledBack();
        if (Database.isUnavailable(e)) {
          throw e;
        }
        // Deciding for them failed it: they start all the same, and the engine decides.
        logger.warn("execution-start: could not decide for a batch of {} ({}); starting it alone", batch.size(),
            e.toString());
        effects = new Effects();
        started = store.startAll(batch, null, effects);
      }
      // The first step jobs are told to their workers once the callers have their answers.
      return new GroupCommitter.Committed<>(started, effects::committed);
    }, MAX_BATCH, CAPACITY, 2, false);
  }

  /**
   * Starts {@code execution} (or finds the one its request id started); completes once committed,
   * or fails with {@link GroupCommitter.Overloaded} when too many starts wait.
   */
  public CompletableFuture<Started> start(NewExecution execution) {
    return committer.submit(execution);
  }

  /** Commits what is queued and stops. */
  @Override
  public void close() {
    committer.close();
  }
}
