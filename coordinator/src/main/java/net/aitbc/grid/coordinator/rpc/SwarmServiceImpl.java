package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.CoordinatorConfig;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.NewSwarmTask;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.coordinator.store.SwarmCandidate;
import net.aitbc.grid.coordinator.store.SwarmMemberJob;
import net.aitbc.grid.coordinator.store.SwarmReads;
import net.aitbc.grid.coordinator.store.SwarmStore;
import net.aitbc.grid.coordinator.store.SwarmTaskStore;
import net.aitbc.grid.coordinator.swarm.Consensus;
import net.aitbc.grid.coordinator.swarm.Comparison;
import net.aitbc.grid.coordinator.swarm.MemberJobs;
import net.aitbc.grid.coordinator.swarm.Parts;
import net.aitbc.grid.coordinator.swarm.Ranking;
import net.aitbc.grid.coordinator.swarm.SwarmEngine;
import net.aitbc.grid.coordinator.swarm.SwarmKeys;
import net.aitbc.grid.coordinator.swarm.SwarmWorkers;
import net.aitbc.grid.db.enums.KeyRole;
import net.aitbc.grid.db.enums.SwarmStrategy;
import net.aitbc.grid.v1.CancelTaskRequest;
import net.aitbc.grid.v1.CancelTaskResponse;
import net.aitbc.grid.v1.ComputeConsensusRequest;
import net.aitbc.grid.v1.ComputeConsensusResponse;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.CoordinateResponse;
import net.aitbc.grid.v1.GetTaskReceiptRequest;
import net.aitbc.grid.v1.GetTaskReceiptResponse;
import net.aitbc.grid.v1.GetTaskRequest;
import net.aitbc.grid.v1.GetTaskResponse;
import net.aitbc.grid.v1.JoinRequest;
import net.aitbc.grid.v1.JoinResponse;
import net.aitbc.grid.v1.LeaveRequest;
import net.aitbc.grid.v1.LeaveResponse;
import net.aitbc.grid.v1.ListSwarmsRequest;
import net.aitbc.grid.v1.ListSwarmsResponse;
import net.aitbc.grid.v1.SwarmServiceGrpc;
import net.aitbc.grid.v1.SwarmTask;
import io.grpc.stub.StreamObserver;
import org.jspecify.annotations.Nullable;

/**
 * Swarms: any key joins, leaves and lists them; client and admin keys run tasks, which the {@link
 * SwarmEngine} starts (with their first member jobs, where it can) and carries out, and see only
 * their own. A task's workers are chosen when it starts, from those connected now ({@link
 * SwarmWorkers}, {@link Ranking}); too few is FAILED_PRECONDITION at once.
 */
public final class SwarmServiceImpl extends SwarmServiceGrpc.SwarmServiceImplBase {
  private static final int DEFAULT_LIMIT = 20;
  private static final int MAX_LIMIT = 200;

  private final CoordinatorConfig config;
  private final SwarmStore swarms;
  private final SwarmReads reads;
  private final SwarmTaskStore tasks;
  private final SwarmEngine engine;
  private final SwarmWorkers workers;
  private final Scheduler scheduler;
  private final SwarmReceiptReader receipts;
  private final JobIds ids = new JobIds();

  /** The service over these parts. */
  public SwarmServiceImpl(CoordinatorConfig config, SwarmStore swarms, SwarmReads reads, SwarmTaskStore tasks,
      SwarmEngine engine, Scheduler scheduler, SwarmReceiptReader receipts) {
    this.config = requireNonNull(config, "config");
    this.swarms = requireNonNull(swarms, "swarms");
    this.reads = requireNonNull(reads, "reads");
    this.tasks = requireNonNull(tasks, "tasks");
    this.engine = requireNonNull(engine, "engine");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.receipts = requireNonNull(receipts, "receipts");
    this.workers = new SwarmWorkers(swarms, reads);
  }

  @Override
  public void join(JoinRequest request, StreamObserver<JoinResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = caller();
      SwarmRequests.Join j = SwarmRequests.join(request);
      SwarmStore.Joined joined = swarms.join(principal.clientId(), keyRole(principal.role()), j.capability(),
          j.region(), j.role(), j.priority());
      SwarmReads.SwarmView view = reads.views(List.of(joined.swarm())).getFirst();
      var member = view.members().stream().filter(m -> m.member().memberId().equals(joined.member().memberId()))
          .findFirst().map(SwarmProtos::member).orElse(SwarmProtos.member(joined.member()));
      return JoinResponse.newBuilder()
          .setSwarmId(JobIds.format(joined.swarm().swarmId()))
          .setStatus("joined")
          .setRole(joined.member().role())
          .setMember(member)
          .setSwarm(SwarmProtos.swarm(view, false))
          .setExisting(joined.existing())
          .build();
    });
  }

  @Override
  public void leave(LeaveRequest request, StreamObserver<LeaveResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = caller();
      var swarm = swarm(request.getSwarmId(), "swarm_id");
      List<SwarmStore.StoredMember> left = swarms.leave(swarm.swarmId(), principal.clientId(),
          principal.role() == Role.WORKER);
      if (left.isEmpty()) {
        throw notFound("you are not a member of swarm " + swarm.name() + " (" + JobIds.format(swarm.swarmId()) + ")");
      }
      LeaveResponse.Builder b = LeaveResponse.newBuilder().setSwarmId(JobIds.format(swarm.swarmId())).setStatus("left");
      left.forEach(m -> b.addLeft(SwarmProtos.member(m)));
      return b.build();
    });
  }

  @Override
  public void listSwarms(ListSwarmsRequest request, StreamObserver<ListSwarmsResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = caller();
      int limit = request.getLimit() == 0 ? DEFAULT_LIMIT : request.getLimit();
      if (limit < 1 || limit > MAX_LIMIT) {
        throw invalid("limit must be between 1 and " + MAX_LIMIT + ", not " + request.getLimit() + " (0: "
            + DEFAULT_LIMIT + ")");
      }
      if (request.getOffset() < 0) {
        throw invalid("offset must not be negative, not " + request.getOffset());
      }
      String status = request.getStatus().strip().toLowerCase(Locale.ROOT);
      if (!status.isEmpty() && !List.of("active", "empty", "joined").contains(status)) {
        throw invalid("status must be active, empty or joined, not '" + GrpcErrors.abbreviate(request.getStatus())
            + "'");
      }
      UUID swarmId = null;
      if (!request.getSwarmId().isBlank()) {
        var found = swarms.find(request.getSwarmId());
        if (found.isEmpty()) {
          return ListSwarmsResponse.getDefaultInstance();
        }
        swarmId = found.get().swarmId();
      }
      String capability = request.getCapability().isBlank() ? null
          : request.getCapability().strip().toLowerCase(Locale.ROOT);
      List<SwarmReads.SwarmView> page = reads.list(new SwarmReads.Filter(swarmId, capability,
          status.isEmpty() ? null : status, principal.clientId()), request.getOffset(), limit + 1);
      ListSwarmsResponse.Builder b = ListSwarmsResponse.newBuilder();
      page.stream().limit(limit).forEach(v -> b.addSwarms(SwarmProtos.swarm(v, true)));
      if (page.size() > limit) {
        b.setNextOffset(request.getOffset() + limit);
      }
      return b.build();
    });
  }

  @Override
  public void coordinate(CoordinateRequest request, StreamObserver<CoordinateResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = taskCaller();
      SwarmRequests.Coordinate c = SwarmRequests.coordinate(request);
      if (c.requestId() != null) {
        var found = tasks.findByRequest(principal.clientId(), c.requestId());
        if (found.isPresent()) {
          return coordinated(found.get(), true);
        }
      }
      UUID swarmId = request.getSwarmId().isBlank() ? null : swarm(request.getSwarmId(), "swarm_id").swarmId();
      UUID taskId = ids.next();
      checkMemberJob(c, principal, taskId);
      int needed = c.strategy() == SwarmStrategy.leader_election ? c.collaborators() : c.parts();
      List<SwarmCandidate> capable = workers.capable(c.jobType(), c.model(), c.requirements(), swarmId,
          principal.clientId(), Set.of());
      if (capable.size() < needed) {
        throw Status.FAILED_PRECONDITION.withDescription(tooFew(c, capable.size(), needed)).asRuntimeException();
      }
      List<SwarmCandidate> chosen = Ranking.choose(capable, needed, Set.of());
      SwarmTaskStore.Started started = engine.start(new NewSwarmTask(taskId, principal.clientId(), principal.keyId(),
          c.requestId(), swarmId, c.strategy(), c.jobType(), c.payload().toString(), c.probe(), c.constraintsJson(),
          c.collaborators(), c.parts(), c.threshold(), c.similarity(), c.timeoutSeconds(), chosen), principal);
      return coordinated(started.task(), started.existing());
    });
  }

  private CoordinateResponse coordinated(StoredSwarmTask t, boolean existing) {
    return CoordinateResponse.newBuilder()
        .setTaskId(JobIds.format(t.taskId()))
        .setStatus("started")
        .setStrategy(SwarmRequests.strategyName(t.strategy()))
        .setTask(view(t))
        .setExisting(existing)
        .build();
  }

  private static String tooFew(SwarmRequests.Coordinate c, int capable, int needed) {
    String what = c.jobType() + (c.model() == null ? "" : " with model " + c.model())
        + (c.requirements().describe().isEmpty() ? "" : " and offer " + String.join(", ", c.requirements().describe()));
    return (capable == 0 ? "no connected worker can" : "only " + capable + " connected worker"
        + (capable == 1 ? " can" : "s can")) + " run " + what + ", and the task needs " + needed
        + " distinct workers (collaborators " + c.collaborators() + ", strategy "
        + SwarmRequests.strategyName(c.strategy()) + ")";
  }

  /** Holds a member job (the first part's, when distributed) to every job rule now, not when it is made. */
  private void checkMemberJob(SwarmRequests.Coordinate c, Principal principal, UUID taskId) {
    String payload = c.payload().toString();
    String field = Parts.listField(c.payload());
    if (c.strategy() == SwarmStrategy.distributed && field != null) {
      payload = Parts.part(c.payload(), field, Parts.split(c.payload().get(field).size(), c.parts()).getFirst())
          .toString();
    }
    try {
      JobRequests.toMemberJob(MemberJobSubmitter.request(new MemberJobs.Order(taskId,
              SwarmKeys.requestId(taskId, 0, 0), c.jobType(), payload, c.constraintsJson(), "check",
              Duration.ofSeconds(c.timeoutSeconds()))), principal, taskId, config,
          new NewJob.Pin(taskId, "check"));
    } catch (StatusRuntimeException e) {
      throw invalid("task: " + e.getStatus().getDescription());
    }
  }

  @Override
  public void getTask(GetTaskRequest request, StreamObserver<GetTaskResponse> out) {
    GrpcErrors.answer(out, () -> GetTaskResponse.newBuilder()
        .setTask(view(task(request.getTaskId(), taskCaller()))).build());
  }

  @Override
  public void cancelTask(CancelTaskRequest request, StreamObserver<CancelTaskResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = taskCaller();
      UUID id = taskId(request.getTaskId());
      String reason = request.getReason().isBlank() ? "cancelled by client"
          : "cancelled by client: " + GrpcErrors.abbreviate(request.getReason().strip(), 500);
      SwarmTaskStore.Cancelled c = tasks.cancel(id, principal.clientId(), reason)
          .orElseThrow(() -> taskNotFound(request.getTaskId()));
      if (c.changed()) {
        // Its unfinished member jobs are cancelled by the engine, at its wake-up.
        engine.wake();
      }
      return CancelTaskResponse.newBuilder().setTask(view(c.task())).setChanged(c.changed()).build();
    });
  }

  @Override
  public void computeConsensus(ComputeConsensusRequest request, StreamObserver<ComputeConsensusResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = taskCaller();
      Double given = request.hasConsensusThreshold()
          ? SwarmRequests.share(request.getConsensusThreshold(), "consensus_threshold") : null;
      StoredSwarmTask t = task(request.getTaskId(), principal);
      double threshold = given != null ? given : t.threshold().doubleValue();
      if (t.strategy() != SwarmStrategy.consensus) {
        throw Status.FAILED_PRECONDITION.withDescription("task " + JobIds.format(t.taskId()) + " ran the "
            + SwarmRequests.strategyName(t.strategy()) + " strategy: it has no consensus to compute").asRuntimeException();
      }
      List<SwarmMemberJob> members = tasks.members(t.taskId());
      Map<UUID, @Nullable String> results = tasks.results(members.stream()
          .filter(m -> m.state() == net.aitbc.grid.db.enums.JobState.COMPLETED).map(SwarmMemberJob::jobId).toList());
      Consensus.Decision d = Consensus.decide(Consensus.entries(t, members, results), threshold,
          Comparison.forType(t.jobType(), t.similarity()));
      var decision = SwarmProtos.decision(d, d.chosenJobId() == null ? null : results.get(d.chosenJobId()))
          .toBuilder().setDecideTime(JobProtos.timestamp(java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC)));
      return ComputeConsensusResponse.newBuilder().setTaskId(JobIds.format(t.taskId()))
          .setConsensusReached(d.reached()).setDecision(decision).build();
    });
  }

  @Override
  public void getTaskReceipt(GetTaskReceiptRequest request, StreamObserver<GetTaskReceiptResponse> out) {
    GrpcErrors.answer(out, () -> GetTaskReceiptResponse.newBuilder()
        .setReceipt(receipts.of(task(request.getTaskId(), taskCaller()))).build());
  }

  /** A task as GetTask shows it: with its members, their reputations, and the decision's chosen result. */
  private SwarmTask view(StoredSwarmTask t) {
    List<SwarmMemberJob> members = tasks.members(t.taskId());
    Set<String> workerIds = new HashSet<>();
    members.forEach(m -> workerIds.add(m.workerId()));
    t.candidates().forEach(c -> workerIds.add(c.workerId()));
    String chosen = null;
    if (t.decisionJson() != null) {
      UUID chosenJob = Consensus.fromJson(t.decisionJson()).chosenJobId();
      chosen = chosenJob == null ? null : tasks.results(List.of(chosenJob)).get(chosenJob);
    }
    SwarmTask task = SwarmProtos.task(t, members, reads.standings(workerIds), chosen);
    if (task.hasDecision() && t.endedAt() != null) {
      task = task.toBuilder().setDecision(task.getDecision().toBuilder().setDecideTime(JobProtos.timestamp(t.endedAt())))
          .build();
    }
    return task;
  }

  /** The caller, after taking a token from its key's call rate. */
  private Principal caller() {
    Principal principal = AuthInterceptor.principal();
    scheduler.admitCall(principal);
    return principal;
  }

  /** The caller, which must be a client or an admin. */
  private Principal taskCaller() {
    Principal principal = caller();
    if (principal.role() == Role.WORKER) {
      throw Status.PERMISSION_DENIED.withDescription("a worker key cannot run or read swarm tasks: use a client key")
          .asRuntimeException();
    }
    return principal;
  }

  private static KeyRole keyRole(Role role) {
    return switch (role) {
      case CLIENT -> KeyRole.client;
      case WORKER -> KeyRole.worker;
      case ADMIN -> KeyRole.admin;
    };
  }

  private SwarmStore.StoredSwarm swarm(String idOrName, String field) {
    if (idOrName.isBlank()) {
      throw invalid(field + " is required: a swarm's id (32 hex characters) or name");
    }
    return swarms.find(idOrName).orElseThrow(() -> notFound("swarm " + GrpcErrors.abbreviate(idOrName)
        + " not found"));
  }

  private StoredSwarmTask task(String text, Principal principal) {
    return tasks.find(taskId(text), principal.clientId()).orElseThrow(() -> taskNotFound(text));
  }

  private static UUID taskId(String text) {
    return JobIds.parse(text).orElseThrow(() -> invalid("task_id must be 32 hex characters, not '"
        + GrpcErrors.abbreviate(text) + "'"));
  }

  private static RuntimeException taskNotFound(String text) {
    return notFound("swarm task " + GrpcErrors.abbreviate(text) + " not found");
  }
}
