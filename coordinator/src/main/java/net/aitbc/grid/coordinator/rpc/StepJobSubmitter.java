package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.scheduler.Admission;
import net.aitbc.grid.coordinator.scheduler.GroupCommitter;
import net.aitbc.grid.coordinator.scheduler.Reservation;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.LockedExecution;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.PaymentRefused;
import net.aitbc.grid.coordinator.store.Submitted;
import net.aitbc.grid.coordinator.workflow.Planner;
import net.aitbc.grid.coordinator.workflow.StepJobs;
import net.aitbc.grid.coordinator.workflow.WorkflowDefinition.Step;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.CreateJobRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step jobs as CreateJob requests: a rendered step becomes the request a client would send, checked
 * by {@link JobRequests} (the one owner of job rules) and submitted through the scheduler like any
 * job. A job refused for good fails its step with the reason; a refusal for now (a rate or queue
 * limit, an overload, the database away or in a conflict) is {@link StepJobs.Deferred}.
 */
public final class StepJobSubmitter implements StepJobs {
  private static final Logger logger = LoggerFactory.getLogger(StepJobSubmitter.class);
  private static final Duration RETRY = Duration.ofSeconds(1);
  private static final JsonFormat.Parser CONSTRAINTS = JsonFormat.parser();

  private final CoordinatorConfig config;
  private final Scheduler scheduler;
  private final JobIds ids = new JobIds();

  /** Submits through {@code scheduler} under {@code config}'s job rules. */
  public StepJobSubmitter(CoordinatorConfig config, Scheduler scheduler) {
    this.config = requireNonNull(config, "config");
    this.scheduler = requireNonNull(scheduler, "scheduler");
  }

  @Override
  public CompletableFuture<UUID> submit(Principal principal, Order order) {
    NewJob job;
    try {
      job = JobRequests.toStepJob(request(order), principal, ids.next(), config, order.executionId());
    } catch (StatusRuntimeException e) {
      return CompletableFuture.failedFuture(new Refused(e.getStatus().getDescription()));
    } catch (Refused e) {
      return CompletableFuture.failedFuture(e);
    }
    return outcome(scheduler.submit(principal, job), "[execution=" + JobIds.format(order.executionId()) + "] step job "
        + order.requestId());
  }

  /**
   * A submission's job id, or its refusal as the engines take it: {@link StepJobs.Deferred} when it
   * may pass (a rate or queue limit, an overload, the database away or busy), else {@link
   * StepJobs.Refused}; {@code what} names the job in the log of an unexpected refusal.
   */
  static CompletableFuture<UUID> outcome(CompletableFuture<Submitted> submission, String what) {
    return submission.handle((submitted, error) -> {
      if (error == null) {
        return submitted.job().jobId();
      }
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      throw new CompletionException(switch (cause) {
        case Admission.Refused r -> new Deferred(r.getMessage(), r.retryAfter());
        case GroupCommitter.Overloaded o -> new Deferred(o.getMessage(), RETRY);
        case GroupCommitter.ShuttingDown s -> new Deferred(s.getMessage(), RETRY);
        case PaymentRefused p -> new Refused(p.getMessage());
        default -> {
          if (Database.classify(cause) != Database.Failure.PERMANENT) {
            yield new Deferred("the database is unavailable or busy: " + cause.getClass().getSimpleName(), RETRY);
          }
          logger.error("{} refused unexpectedly", what, cause);
          yield new Refused("the job could not be stored (" + cause.getClass().getSimpleName() + ")");
        }
      });
    });
  }

  @Override
  public LockedExecution.NewStepJob prepare(Principal principal, Order order) {
    NewJob job;
    try {
      job = JobRequests.toStepJob(request(order), principal, ids.next(), config, order.executionId());
    } catch (StatusRuntimeException e) {
      throw new Refused(e.getStatus().getDescription());
    }
    if (job.payment() != null) {
      throw new Deferred("a paid step job is submitted with its payment", Duration.ZERO);
    }
    Reservation r;
    try {
      r = scheduler.reserve(principal, job).orElseThrow(() -> new Deferred(
          "its client's place in fair-share order is read when it is submitted", Duration.ZERO));
    } catch (Admission.Refused refused) {
      throw new Deferred(refused.getMessage(), refused.retryAfter());
    }
    return new LockedExecution.NewStepJob() {
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

  /** The CreateJob request a client would send for this step job. */
  private static CreateJobRequest request(Order order) {
    Planner.StepJob j = order.job();
    Step step = j.step();
    CreateJobRequest.Builder b = CreateJobRequest.newBuilder()
        .setRequestId(order.requestId())
        .setType(step.type())
        .setPayloadJson(j.payload().toString())
        .setPriority(step.priority() != null ? step.priority() : order.priority())
        .setTtl(duration(order.ttl()))
        .setMaxAttempts(step.retries() == null ? 0 : step.retries() + 1);
    if (step.timeoutSeconds() != null) {
      b.setTimeout(duration(Duration.ofSeconds(step.timeoutSeconds())));
    }
    if (step.paymentAmount() != null) {
      b.setPaymentAmount(step.paymentAmount());
    }
    if (j.constraints() != null) {
      Constraints.Builder c = Constraints.newBuilder();
      try {
        CONSTRAINTS.merge(j.constraints().toString(), c);
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        throw new Refused("constraints: " + e.getMessage());
      }
      b.setConstraints(c);
    }
    return b.build();
  }

  static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }
}
