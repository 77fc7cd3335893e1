package net.aitbc.grid.coordinator.swarm;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.LockedSwarmTask;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.coordinator.store.SwarmCandidate;
import net.aitbc.grid.coordinator.store.SwarmEngineStore.Decided;
import net.aitbc.grid.coordinator.store.SwarmMemberJob;
import net.aitbc.grid.coordinator.workflow.StepJobs;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.SwarmStrategy;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides for one locked swarm task from its member jobs' rows alone: makes each slot's first member
 * job on the worker chosen when the task started, makes a replacement on another worker that is not
 * a collaborator yet when a member job ends without a result (its worker failed it or was lost, or it
 * waits for a worker that has gone), and once every slot has ended (or the deadline passed) decides
 * ({@link Verdicts}) and ends the task. An ended task's unfinished member jobs are cancelled when it
 * is next woken.
 *
 * <p>It decides the same way wherever it runs: in the engine's own transaction ({@link #advance}),
 * where member jobs are submitted like any job, or in the transaction of the write that woke the
 * task ({@link #decideInline}: its start, a member's outcome), where they are inserted with that
 * write. There, whatever the engine would have to wait for (a client's limits, a replacement's
 * worker, cancelling jobs) is left to the engine.
 */
final class SwarmDecider {
  private static final Logger logger = LoggerFactory.getLogger(SwarmDecider.class);
  /** Replacements per slot (leader election: at least as many as its stand-ins). */
  static final int MAX_REPLACEMENTS = 2;
  private static final Duration DEADLINE_GRACE = Duration.ofSeconds(10);

  private final MemberJobs jobs;
  private final Function<String, Optional<Principal>> keys;
  private final SwarmWorkers workers;

  SwarmDecider(MemberJobs jobs, Function<String, Optional<Principal>> keys, SwarmWorkers workers) {
    this.jobs = requireNonNull(jobs, "jobs");
    this.keys = requireNonNull(keys, "keys");
    this.workers = requireNonNull(workers, "workers");
  }

  void advance(LockedSwarmTask locked) {
    StoredSwarmTask t = locked.task();
    if (t.ended()) {
      cancelUnfinished(t, locked.unfinishedJobs());
      return;
    }
    Slots slots = new Slots(t, locked.members());
    if (!locked.now().isBefore(t.deadline())) {
      Verdicts.end(locked, slots, "timed out after " + t.timeoutSeconds() + " s");
      return;
    }
    for (SwarmMemberJob m : slots.latest()) {
      if (m != null && m.unfinished() && locked.stranded(m)) {
        String why = "worker " + m.workerId() + " has gone before taking the job";
        jobs.cancel(m.jobId(), t.clientId(), why);
        slots.gone(m, why);
      }
    }
    List<Slots.Order> orders = plan(t, slots, locked);
    if (!orders.isEmpty() && !submit(locked, slots, orders)) {
      return;
    }
    stands(locked, slots);
  }

  /**
   * Decides in the transaction of the write that woke the task, when that is mechanical: its first
   * member jobs (as {@code principal}, the key that started it; none after its start), where it
   * stands, and the verdict once every slot has a result. False, writing nothing, when what it would
   * do is the engine's: the task has ended or timed out, a member job must be replaced or waits for a
   * worker that may have gone, or a member job cannot be made here now.
   */
  boolean decideInline(LockedSwarmTask locked, @Nullable Principal principal) {
    StoredSwarmTask t = locked.task();
    if (t.ended() || !locked.now().isBefore(t.deadline())) {
      return false;
    }
    Slots slots = new Slots(t, locked.members());
    for (int s = 0; s < t.parts(); s++) {
      SwarmMemberJob m = slots.latest().get(s);
      if (m != null && (slots.needsReplacement(s) || m.unfinished() && locked.stranded(m))) {
        return false;
      }
    }
    // No slot needs a replacement: the plan is each empty slot's first member job.
    List<Slots.Order> orders = plan(t, slots, locked);
    if (!orders.isEmpty() && (principal == null || !insert(locked, slots, principal, orders))) {
      return false;
    }
    stands(locked, slots);
    return true;
  }

  /** Saves where the task stands: the verdict once every slot has ended, else its progress. */
  private static void stands(LockedSwarmTask locked, Slots slots) {
    if (slots.allEnded()) {
      Verdicts.end(locked, slots, null);
    } else {
      locked.save(new Decided(ExecutionStatus.running, slots.progress(), slots.leaderWorker(), slots.leaderRule(),
          null, null, null, null, null));
    }
  }

  /** The member jobs to make now: each slot's first, and replacements of those that ended without a result. */
  private List<Slots.Order> plan(StoredSwarmTask t, Slots slots, LockedSwarmTask locked) {
    OffsetDateTime waitUntil = null;
    List<Slots.Order> orders = new ArrayList<>();
    Set<String> used = slots.usedWorkers();
    for (int s = 0; s < t.parts(); s++) {
      SwarmMemberJob latest = slots.latest().get(s);
      if (latest == null) {
        SwarmCandidate c = t.candidates().get(t.strategy() == SwarmStrategy.leader_election ? 0 : s);
        orders.add(slots.order(s, 0, c, null));
        used.add(c.workerId());
      } else if (slots.needsReplacement(s)) {
        int max = t.strategy() == SwarmStrategy.leader_election
            ? Math.max(MAX_REPLACEMENTS, t.collaborators() - 1) : MAX_REPLACEMENTS;
        if (latest.replacement() >= max) {
          slots.giveUp(s, "no result after " + (latest.replacement() + 1) + " workers");
          continue;
        }
        SwarmCandidate c = replacement(t, slots, used, s);
        if (c == null) {
          // None now: one may connect soon (a restarting worker, every worker after a coordinator restart).
          OffsetDateTime ended = slots.endedAt(latest);
          OffsetDateTime until = ended == null ? null : ended.plus(locked.grace());
          if (until != null && locked.now().isBefore(until)) {
            waitUntil = waitUntil == null || until.isBefore(waitUntil) ? until : waitUntil;
          } else {
            slots.giveUp(s, "no other capable worker that is not a collaborator yet is connected");
          }
          continue;
        }
        orders.add(slots.order(s, latest.replacement() + 1, c, latest));
        used.add(c.workerId());
      }
    }
    if (waitUntil != null) {
      locked.wakeAt(waitUntil);
    }
    return orders;
  }

  /**
   * Another worker for slot {@code s}: a stand-in chosen when the task started (leader election), else
   * the best capable connected worker not used by the task, of an owner not collaborating yet where
   * there is one.
   */
  private @Nullable SwarmCandidate replacement(StoredSwarmTask t, Slots slots, Set<String> used, int s) {
    Requirements req = SwarmWorkers.requirements(t.constraintsJson());
    String model = SwarmWorkers.model(Verdicts.payload(t.payloadJson()));
    List<SwarmCandidate> capable = workers.capable(t.jobType(), model, req, t.swarmId(), t.clientId(), used);
    for (SwarmCandidate standIn : t.candidates()) {
      if (!used.contains(standIn.workerId())
          && capable.stream().anyMatch(c -> c.workerId().equals(standIn.workerId()))) {
        return standIn;
      }
    }
    List<SwarmCandidate> chosen = Ranking.choose(capable, 1, slots.ownersBut(s));
    return chosen.isEmpty() ? null : chosen.getFirst();
  }

  /** Submits the orders and records their member rows; false when the task ended for it. */
  private boolean submit(LockedSwarmTask locked, Slots slots, List<Slots.Order> orders) {
    StoredSwarmTask t = locked.task();
    Principal principal = keys.apply(t.keyId()).orElse(null);
    if (principal == null) {
      Verdicts.fail(locked, slots, "the api key that started it (" + t.keyId() + ") was revoked");
      return false;
    }
    Duration ttl = ttl(locked);
    List<CompletableFuture<UUID>> submitted = new ArrayList<>(orders.size());
    for (Slots.Order o : orders) {
      submitted.add(jobs.submit(principal, order(t, o, ttl)));
    }
    Duration retryAfter = null;
    for (int i = 0; i < orders.size(); i++) {
      Slots.Order o = orders.get(i);
      try {
        UUID jobId = submitted.get(i).join();
        // A job made by an earlier pass that did not commit keeps the worker it was pinned to then.
        String worker = requireNonNull(locked.pinnedWorker(jobId), "a member job is pinned");
        String owner = worker.equals(o.worker().workerId()) ? o.worker().ownerId() : slots.ownerOf(worker);
        locked.addMember(o.slot(), o.replacement(), jobId, worker, owner, o.partFrom(), o.partTo());
        slots.submitted(o, jobId, worker, owner, locked.now());
      } catch (CompletionException failure) {
        switch (failure.getCause()) {
          case StepJobs.Refused refused -> {
            Verdicts.fail(locked, slots, "the member job for worker " + o.worker().workerId() + " was refused: "
                + refused.getMessage());
            return false;
          }
          case StepJobs.Deferred deferred -> retryAfter = retryAfter == null
              || deferred.retryAfter().compareTo(retryAfter) > 0 ? deferred.retryAfter() : retryAfter;
          default -> throw failure;
        }
      }
    }
    if (retryAfter != null) {
      logger.debug("[swarm task={}] member jobs put off for {} ms", JobIds.format(t.taskId()), retryAfter.toMillis());
      locked.wakeAt(locked.now().plus(retryAfter));
    }
    return true;
  }

  /**
   * The inline way: every member job prepared, then inserted with the transaction's write; false,
   * with none inserted, when one cannot be (put off, refused: the engine submits them and sees).
   */
  private boolean insert(LockedSwarmTask locked, Slots slots, Principal principal, List<Slots.Order> orders) {
    StoredSwarmTask t = locked.task();
    Duration ttl = ttl(locked);
    List<LockedSwarmTask.NewMemberJob> prepared = new ArrayList<>(orders.size());
    try {
      for (Slots.Order o : orders) {
        prepared.add(jobs.prepare(principal, order(t, o, ttl)));
      }
    } catch (StepJobs.Refused | StepJobs.Deferred notHere) {
      prepared.forEach(LockedSwarmTask.NewMemberJob::abandoned);
      return false;
    } catch (RuntimeException e) {
      prepared.forEach(LockedSwarmTask.NewMemberJob::abandoned);
      throw e;
    }
    locked.insert(prepared);
    for (int i = 0; i < orders.size(); i++) {
      Slots.Order o = orders.get(i);
      UUID jobId = prepared.get(i).job().jobId();
      locked.addMember(o.slot(), o.replacement(), jobId, o.worker().workerId(), o.worker().ownerId(), o.partFrom(),
          o.partTo());
      slots.submitted(o, jobId, o.worker().workerId(), o.worker().ownerId(), locked.now());
    }
    return true;
  }

  /** How long a member job made now may wait and run: a little past the task's deadline. */
  private static Duration ttl(LockedSwarmTask locked) {
    Duration ttl = Duration.between(locked.now(), locked.task().deadline());
    return (ttl.isNegative() ? Duration.ZERO : ttl).plus(DEADLINE_GRACE);
  }

  private static MemberJobs.Order order(StoredSwarmTask t, Slots.Order o, Duration ttl) {
    return new MemberJobs.Order(t.taskId(), SwarmKeys.requestId(t.taskId(), o.slot(), o.replacement()), t.jobType(),
        o.payloadJson(), t.constraintsJson(), o.worker().workerId(), ttl);
  }

  private void cancelUnfinished(StoredSwarmTask t, List<UUID> unfinished) {
    String reason = "swarm task " + JobIds.format(t.taskId()) + " " + t.status()
        + (t.errorMessage() == null ? "" : ": " + t.errorMessage());
    for (UUID jobId : unfinished) {
      jobs.cancel(jobId, t.clientId(), reason);
    }
  }
}
