package net.aitbc.grid.coordinator.scheduler;

import static java.util.Objects.requireNonNull;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Start-time fair queuing over clients, per lane (a job type at one priority: jobs that compete for
 * the same workers in the same order). Each job gets a start tag when it is submitted: the later of
 * its client's clock in the lane and the lane's front (the tag of the latest job handed out there);
 * the clock then moves on by 1/weight. Jobs are handed out in tag order within a priority, so a
 * client's share follows its weight, and a client that was idle starts level with the front of its
 * lane however many jobs others have queued: its first job waits behind at most one job of each
 * other busy client. Fronts are per lane so that busy workers of other types or priorities cannot
 * push a newcomer behind a backlog it does not compete with.
 *
 * <p>Clocks and fronts live in this coordinator; after a restart they are read back from the queued
 * jobs' tags (a lane's front from its earliest queued tag, a client's clock from its latest). With
 * other replicas alive they are forgotten every heartbeat, and so read back again: the replicas'
 * submissions move the same tags in the database.
 */
final class FairShare {
  /** Jobs of one type at one priority. */
  record Lane(String type, int priority) {}

  /** A tag handed out, with the clock it replaced (to take it back if the job is not stored). */
  record Tag(double value, double previousClock) {}

  private record ClientLane(String clientId, Lane lane) {}

  private final Map<ClientLane, Double> clocks = new ConcurrentHashMap<>();
  private final Map<Lane, Front> fronts = new ConcurrentHashMap<>();
  private final BiFunction<String, Lane, Optional<Double>> lastQueuedTag;
  private final Function<Lane, Optional<Double>> firstQueuedTag;

  /**
   * Fair share that reads a lane's front and a client's clock from the database the first time it
   * meets them: {@code firstQueuedTag} gives a lane's earliest queued tag, {@code lastQueuedTag} a
   * client's latest in a lane.
   */
  FairShare(BiFunction<String, Lane, Optional<Double>> lastQueuedTag, Function<Lane, Optional<Double>> firstQueuedTag) {
    this.lastQueuedTag = requireNonNull(lastQueuedTag, "lastQueuedTag");
    this.firstQueuedTag = requireNonNull(firstQueuedTag, "firstQueuedTag");
  }

  /** The tag for a client's next job in a lane. Reads the database unless {@link #knows} says not. */
  Tag next(String clientId, Lane lane, double weight) {
    Front front = fronts.computeIfAbsent(lane, l -> new Front(firstQueuedTag.apply(l).orElse(0.0)));
    ClientLane key = new ClientLane(clientId, lane);
    if (!clocks.containsKey(key)) {
      clocks.putIfAbsent(key, lastQueuedTag.apply(clientId, lane).map(t -> t + 1 / weight)
          .orElse(Double.NEGATIVE_INFINITY));
    }
    double[] tag = new double[2];
    clocks.compute(key, (k, clock) -> {
      tag[0] = Math.max(clock, front.get());
      tag[1] = clock;
      return tag[0] + 1 / weight;
    });
    return new Tag(tag[0], tag[1]);
  }

  /** The job tagged {@code tag} was not stored (or was a retry of a stored one): its clock goes back. */
  void undo(String clientId, Lane lane, Tag tag, double weight) {
    clocks.computeIfPresent(new ClientLane(clientId, lane),
        (k, clock) -> clock == tag.value() + 1 / weight ? tag.previousClock() : clock);
  }

  /** Whether {@link #next} for this client and lane reads nothing from the database. */
  boolean knows(String clientId, Lane lane) {
    return fronts.containsKey(lane) && clocks.containsKey(new ClientLane(clientId, lane));
  }

  /** Forgets every clock and front: the next tag of each is read from the database. */
  void forget() {
    clocks.clear();
    fronts.clear();
  }

  /** A job with this tag was handed out in this lane: its front is at least there. */
  void handedOut(Lane lane, double tag) {
    Front front = fronts.get(lane);
    if (front != null) {
      front.advance(tag);
    }
  }

  private static final class Front {
    private double tag;

    Front(double tag) {
      this.tag = tag;
    }

    synchronized double get() {
      return tag;
    }

    synchronized void advance(double to) {
      tag = Math.max(tag, to);
    }
  }
}
