package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.scheduler.Admission;
import net.aitbc.grid.coordinator.scheduler.Reservation;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.LockedSwarmTask;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.Submitted;
import net.aitbc.grid.coordinator.swarm.MemberJobs;
import net.aitbc.grid.coordinator.workflow.StepJobs.Deferred;
import net.aitbc.grid.coordinator.workflow.StepJobs.Refused;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.CreateJobRequest;

/**
 * Swarm member jobs as CreateJob requests: checked by {@link JobRequests} (the one owner of job
 * rules), pinned to their worker, with one attempt each (the swarm engine, not the queue, retries a
 * member on another worker), and submitted through the scheduler like any job, or reserved there for
 * the deciding transaction to insert.
 */
public final class MemberJobSubmitter implements MemberJobs {
  private static final JsonFormat.Parser CONSTRAINTS = JsonFormat.parser();

  private final CoordinatorConfig config;
  private final Scheduler scheduler;
  private final JobIds ids = new JobIds();

  /** Submits through {@code scheduler} under {@code config}'s job rules. */
  public MemberJobSubmitter(CoordinatorConfig config, Scheduler scheduler) {
    this.config = requireNonNull(config, "config");
    this.scheduler = requireNonNull(scheduler, "scheduler");
  }

  @Override
  public CompletableFuture<UUID> submit(Principal principal, Order order) {
    NewJob job;
    try {
      job = JobRequests.toMemberJob(request(order), principal, ids.next(), config,
          new NewJob.Pin(order.taskId(), order.workerId()));
    } catch (StatusRuntimeException e) {
      return CompletableFuture.failedFuture(new Refused(e.getStatus().getDescription()));
    } catch (Refused e) {
      return CompletableFuture.failedFuture(e);
    }
    return StepJobSubmitter.outcome(scheduler.submit(principal, job), "[swarm task=" + JobIds.format(order.taskId())
        + "] member job " + order.requestId());
  }

  @Override
  public LockedSwarmTask.NewMemberJob prepare(Principal principal, Order order) {
    NewJob job;
    try {
      job = JobRequests.toMemberJob(request(order), principal, ids.next(), config,
          new NewJob.Pin(order.taskId(), order.workerId()));
    } catch (StatusRuntimeException e) {
      throw new Refused(e.getStatus().getDescription());
    }
    Reservation r;
    try {
      r = scheduler.reserve(principal, job).orElseThrow(() -> new Deferred(
          "its client's place in fair-share order is read when it is submitted", Duration.ZERO));
    } catch (Admission.Refused refused) {
      throw new Deferred(refused.getMessage(), refused.retryAfter());
    }
    return new LockedSwarmTask.NewMemberJob() {
      @Override
      public NewJob job() {
        return r.job();
      }

      @Override
      public void committed(Submitted stored) {
        r.committed(stored);
      }

      @Override
      public void abandoned() {
        r.abandoned();
      }
    };
  }

  @Override
  public void cancel(UUID jobId, String clientId, String reason) {
    scheduler.cancel(jobId, clientId, reason);
  }

  /** The CreateJob request a client would send for this member job. */
  static CreateJobRequest request(Order order) {
    Constraints.Builder c = Constraints.newBuilder();
    try {
      CONSTRAINTS.merge(order.constraintsJson(), c);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new Refused("constraints: " + e.getMessage());
    }
    return CreateJobRequest.newBuilder()
        .setRequestId(order.requestId())
        .setType(order.type())
        .setPayloadJson(order.payloadJson())
        .setTtl(StepJobSubmitter.duration(order.ttl()))
        .setMaxAttempts(1)
        .setConstraints(c)
        .build();
  }
}
