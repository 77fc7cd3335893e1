package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Start-time fair queuing over clients. Each job gets a start tag when it is submitted: the later
 * of its client's clock and the tag of the latest job handed out; the client's clock then moves on
 * by 1/weight. Jobs are handed out in tag order (within a priority), so a client's share of the
 * workers follows its weight, and a client that was idle starts level with the front of the queue
 * however many jobs others have queued: its first job waits behind at most one job of each other
 * busy client (plus what workers already hold).
 */
final class FairShare {
  private final Map<String, Double> clocks = new ConcurrentHashMap<>();
  private final Function<String, Optional<Double>> lastQueuedTag;
  private double front;

  /**
   * Starts at {@code front} (the earliest queued tag after a restart); {@code lastQueuedTag} tells
   * where a client's queued jobs end, so that one seen first since the restart continues after them.
   */
  FairShare(double front, Function<String, Optional<Double>> lastQueuedTag) {
    this.front = front;
    this.lastQueuedTag = requireNonNull(lastQueuedTag, "lastQueuedTag");
  }

  /** The tag for a client's next job. */
  double next(String clientId, double weight) {
    if (!clocks.containsKey(clientId)) {
      clocks.putIfAbsent(clientId, lastQueuedTag.apply(clientId).map(t -> t + 1 / weight)
          .orElse(Double.NEGATIVE_INFINITY));
    }
    double[] tag = new double[1];
    clocks.compute(clientId, (c, clock) -> {
      tag[0] = Math.max(clock, front());
      return tag[0] + 1 / weight;
    });
    return tag[0];
  }

  /** Whether the client has a clock here already, so that {@link #next} reads no database. */
  boolean knows(String clientId) {
    return clocks.containsKey(clientId);
  }

  /** A job with this tag was handed out: the front of the queue is at least there. */
  synchronized void handedOut(double tag) {
    front = Math.max(front, tag);
  }

  private synchronized double front() {
    return front;
  }
}
