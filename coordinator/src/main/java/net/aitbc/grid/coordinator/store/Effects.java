package net.aitbc.grid.coordinator.store;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one try of a transaction leaves to do in memory once it has committed (tell a worker of the
 * job it inserted) or rolled back (give back what was reserved for it): nobody may hear of a row
 * before it is committed, and a reservation must not outlive a rollback. One of {@link #committed}
 * and {@link #rolledBack} is called, once.
 */
public final class Effects {
  private static final Logger logger = LoggerFactory.getLogger(Effects.class);

  private final List<Runnable> afterCommit = new ArrayList<>();
  private final List<Runnable> afterRollback = new ArrayList<>();

  /** Runs {@code r} once the transaction has committed. */
  public void afterCommit(Runnable r) {
    afterCommit.add(r);
  }

  /** Runs {@code r} if the transaction rolls back. */
  public void afterRollback(Runnable r) {
    afterRollback.add(r);
  }

  /** The transaction committed: runs what was left for then; one failing does not stop the others. */
  public void committed() {
    run(afterCommit);
    afterRollback.clear();
  }

  /** The transaction rolled back: runs what was left for then. */
  public void rolledBack() {
    run(afterRollback);
    afterCommit.clear();
  }

  private static void run(List<Runnable> effects) {
    for (Runnable r : effects) {
      try {
        r.run();
      } catch (RuntimeException e) {
        logger.error("an effect of a transaction failed", e);
      }
    }
    effects.clear();
  }
}
