package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executor;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Revocations;
import net.aitbc.grid.coordinator.scheduler.JobEvents;
import net.aitbc.grid.coordinator.scheduler.Scheduler;
import net.aitbc.grid.coordinator.session.SessionRegistry;
import net.aitbc.grid.coordinator.store.ExecutionStore;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NetworkStore;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.coordinator.store.StoredWorkflow;
import net.aitbc.grid.coordinator.store.WorkflowStore;
import net.aitbc.grid.coordinator.workflow.ExecutionEvents;
import net.aitbc.grid.coordinator.workflow.ExecutionStarts;
import net.aitbc.grid.coordinator.workflow.NetworkEngine;
import net.aitbc.grid.coordinator.workflow.WorkflowEngine;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.v1.CancelExecutionRequest;
import net.aitbc.grid.v1.CancelExecutionResponse;
import net.aitbc.grid.v1.CreateNetworkRequest;
import net.aitbc.grid.v1.CreateNetworkResponse;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.CreateWorkflowResponse;
import net.aitbc.grid.v1.ExecuteNetworkRequest;
import net.aitbc.grid.v1.ExecuteNetworkResponse;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.ExecuteWorkflowResponse;
import net.aitbc.grid.v1.GetExecutionReceiptRequest;
import net.aitbc.grid.v1.GetExecutionReceiptResponse;
import net.aitbc.grid.v1.GetExecutionRequest;
import net.aitbc.grid.v1.GetExecutionResponse;
import net.aitbc.grid.v1.GetNetworkStatusRequest;
import net.aitbc.grid.v1.GetNetworkStatusResponse;
import net.aitbc.grid.v1.GetWorkflowRequest;
import net.aitbc.grid.v1.GetWorkflowResponse;
import net.aitbc.grid.v1.ListExecutionsRequest;
import net.aitbc.grid.v1.ListExecutionsResponse;
import net.aitbc.grid.v1.ListWorkflowsRequest;
import net.aitbc.grid.v1.ListWorkflowsResponse;
import net.aitbc.grid.v1.OptimizeNetworkRequest;
import net.aitbc.grid.v1.OptimizeNetworkResponse;
import net.aitbc.grid.v1.WatchExecutionRequest;
import net.aitbc.grid.v1.WatchExecutionResponse;
import net.aitbc.grid.v1.WorkflowServiceGrpc;

/**
 * Agent workflows: a client creates workflows and executes its own (and public ones); its executions
 * run in the {@link WorkflowEngine}, and only it sees them: another client's workflow or execution
 * is NOT_FOUND. Step types are checked against the built-in types and those that connected workers
 * offer now. Networks of workflows are {@link NetworkCalls}'. An ended execution has a signed
 * receipt ({@link ExecutionReceiptReader}).
 */
public final class WorkflowServiceImpl extends WorkflowServiceGrpc.WorkflowServiceImplBase {
  /** Job types a definition may name whatever workers are connected. */
  static final Set<String> BUILT_IN_TYPES = Set.of("inference", "embedding", "noop");
  private static final int DEFAULT_PAGE = 20;
  private static final int MAX_PAGE = 200;

  private final WorkflowStore workflows;
  private final ExecutionStore executions;
  private final WorkflowEngine engine;
  private final ExecutionStarts starts;
  private final ExecutionEvents events;
  private final JobEvents jobEvents;
  private final Scheduler scheduler;
  private final SessionRegistry registry;
  private final Revocations revocations;
  private final Executor blocking;
  private final NetworkCalls networks;
  private final ExecutionReceiptReader receipts;
  private final JobIds ids = new JobIds();

  /**
   * The service over these parts; executions start through {@code starts}, {@code blocking} runs
   * database reads for watchers, networks run in {@code networkEngine}.
   */
  public WorkflowServiceImpl(WorkflowStore workflows, ExecutionStore executions, WorkflowEngine engine,
      ExecutionStarts starts, ExecutionEvents events, JobEvents jobEvents, Scheduler scheduler, SessionRegistry registry,
      Revocations revocations, Executor blocking, NetworkStore networkStore, NetworkEngine networkEngine,
      ExecutionReceiptReader receipts) {
    this.workflows = requireNonNull(workflows, "workflows");
    this.executions = requireNonNull(executions, "executions");
    this.engine = requireNonNull(engine, "engine");
    this.starts = requireNonNull(starts, "starts");
    this.events = requireNonNull(events, "events");
    this.jobEvents = requireNonNull(jobEvents, "jobEvents");
    this.scheduler = requireNonNull(scheduler, "scheduler");
    this.registry = requireNonNull(registry, "registry");
    this.revocations = requireNonNull(revocations, "revocations");
    this.blocking = requireNonNull(blocking, "blocking");
    this.networks = new NetworkCalls(networkStore, workflows, networkEngine);
    this.receipts = requireNonNull(receipts, "receipts");
  }

  @Override
  public void createWorkflow(CreateWorkflowRequest request, StreamObserver<CreateWorkflowResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = caller();
      WorkflowStore.Created created = workflows.create(
          WorkflowRequests.workflow(request, principal, ids.next(), this::knownType));
      return CreateWorkflowResponse.newBuilder().setWorkflow(WorkflowProtos.workflow(created.workflow()))
          .setExisting(created.existing()).build();
    });
  }

  @Override
  public void getWorkflow(GetWorkflowRequest request, StreamObserver<GetWorkflowResponse> out) {
    GrpcErrors.answer(out, () -> GetWorkflowResponse.newBuilder()
        .setWorkflow(WorkflowProtos.workflow(workflow(request.getWorkflowId(), caller()))).build());
  }

  @Override
  public void listWorkflows(ListWorkflowsRequest request, StreamObserver<ListWorkflowsResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = caller();
      int size = pageSize(request.getPageSize());
      int offset = offset(request.getOffset());
      WorkflowStore.ListFilter filter = new WorkflowStore.ListFilter(request.getIncludePublic(),
          request.getOwner().isBlank() ? null : request.getOwner().strip(),
          request.getTag().isBlank() ? null : request.getTag().strip(),
          WorkflowProtos.level(request.getVerificationLevel(), "verification_level"),
          WorkflowProtos.status(request.getStatus(), "status"));
      List<StoredWorkflow> page = workflows.list(principal.clientId(), filter, offset, size + 1);
      ListWorkflowsResponse.Builder b = ListWorkflowsResponse.newBuilder();
      page.stream().limit(size).forEach(w -> b.addWorkflows(WorkflowProtos.workflow(w)));
      if (page.size() > size) {
        b.setNextOffset(offset + size);
      }
      return b.build();
    });
  }

  @Override
  public void executeWorkflow(ExecuteWorkflowRequest request, StreamObserver<ExecuteWorkflowResponse> out) {
    try {
      Principal principal = caller();
      StoredWorkflow w = workflow(request.getWorkflowId(), principal);
      starts.start(WorkflowRequests.execution(request, principal, ids.next(), w)).whenComplete((started, error) -> {
        if (error != null) {
          out.onError(GrpcErrors.toStatus(error));
          return;
        }
        if (!started.existing() && started.execution().status() == ExecutionStatus.pending) {
          // Not decided for as it was stored: the engine's.
          engine.wake();
        }
        out.onNext(ExecuteWorkflowResponse.newBuilder().setExecution(WorkflowProtos.execution(started.execution()))
            .setExisting(started.existing()).build());
        out.onCompleted();
      });
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
    }
  }

  @Override
  public void getExecution(GetExecutionRequest request, StreamObserver<GetExecutionResponse> out) {
    GrpcErrors.answer(out, () -> GetExecutionResponse.newBuilder()
        .setExecution(WorkflowProtos.execution(execution(request.getExecutionId(), caller().clientId()))).build());
  }

  @Override
  public void listExecutions(ListExecutionsRequest request, StreamObserver<ListExecutionsResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = caller();
      int size = pageSize(request.getPageSize());
      int offset = offset(request.getOffset());
      UUID workflowId = request.getWorkflowId().isEmpty() ? null : JobIds.parse(request.getWorkflowId())
          .orElseThrow(() -> invalid("workflow_id must be 32 hex characters, not '"
              + GrpcErrors.abbreviate(request.getWorkflowId()) + "'"));
      List<StoredExecution> page = executions.list(principal.clientId(), workflowId,
          WorkflowProtos.status(request.getStatus(), "status"), offset, size + 1);
      ListExecutionsResponse.Builder b = ListExecutionsResponse.newBuilder();
      page.stream().limit(size).forEach(e -> b.addExecutions(WorkflowProtos.execution(e)));
      if (page.size() > size) {
        b.setNextOffset(offset + size);
      }
      return b.build();
    });
  }

  @Override
  public void cancelExecution(CancelExecutionRequest request, StreamObserver<CancelExecutionResponse> out) {
    GrpcErrors.answer(out, () -> {
      Principal principal = caller();
      UUID id = executionId(request.getExecutionId());
      String reason = request.getReason().isBlank() ? "cancelled by client"
          : "cancelled by client: " + GrpcErrors.abbreviate(request.getReason().strip(), 500);
      ExecutionStore.Cancelled c = executions.cancel(id, principal.clientId(), reason)
          .orElseThrow(() -> executionNotFound(request.getExecutionId()));
      if (c.changed()) {
        // Its unfinished step jobs are canceled by the engine, at its wake-up.
        engine.wake();
      }
      return CancelExecutionResponse.newBuilder().setExecution(WorkflowProtos.execution(c.execution()))
          .setChanged(c.changed()).build();
    });
  }

  @Override
  public void watchExecution(WatchExecutionRequest request, StreamObserver<WatchExecutionResponse> responseObserver) {
    var out = (ServerCallStreamObserver<WatchExecutionResponse>) responseObserver;
    Principal principal;
    UUID id;
    try {
      principal = caller();
      id = executionId(request.getExecutionId());
      execution(request.getExecutionId(), principal.clientId());
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.toStatus(e));
      return;
    }
    String client = principal.clientId();
    ExecutionWatch watch = new ExecutionWatch(out,
        () -> WorkflowProtos.execution(execution(request.getExecutionId(), client)), blocking, jobEvents);
    watch.onEnd(events.subscribe(id, watch::changed));
    watch.onEnd(revocations.watch(principal.keyId(), watch::keyRevoked));
    watch.changed();
  }

  @Override
  public void getExecutionReceipt(GetExecutionReceiptRequest request,
      StreamObserver<GetExecutionReceiptResponse> out) {
    GrpcErrors.answer(out, () -> GetExecutionReceiptResponse.newBuilder()
        .setReceipt(receipts.of(execution(request.getExecutionId(), caller().clientId()))).build());
  }

  @Override
  public void createNetwork(CreateNetworkRequest request, StreamObserver<CreateNetworkResponse> out) {
    GrpcErrors.answer(out, () -> networks.create(request, caller()));
  }

  @Override
  public void executeNetwork(ExecuteNetworkRequest request, StreamObserver<ExecuteNetworkResponse> out) {
    GrpcErrors.answer(out, () -> networks.execute(request, caller()));
  }

  @Override
  public void getNetworkStatus(GetNetworkStatusRequest request, StreamObserver<GetNetworkStatusResponse> out) {
    GrpcErrors.answer(out, () -> networks.status(request, caller()));
  }

  @Override
  public void optimizeNetwork(OptimizeNetworkRequest request, StreamObserver<OptimizeNetworkResponse> out) {
    GrpcErrors.answer(out, () -> networks.optimize(request, caller()));
  }

  private static RuntimeException unimplemented(String what) {
    return Status.UNIMPLEMENTED.withDescription(what + " are not served by this coordinator yet")
        .asRuntimeException();
  }

  /** A job type the grid runs: a built-in one, or one a connected worker offers now. */
  private boolean knownType(String type) {
    return BUILT_IN_TYPES.contains(type)
        || registry.all().stream().anyMatch(s -> s.offer().jobTypes().contains(type));
  }

  /** The caller, after taking a token from its key's call rate. */
  private Principal caller() {
    Principal principal = AuthInterceptor.principal();
    scheduler.admitCall(principal);
    return principal;
  }

  private StoredWorkflow workflow(String text, Principal principal) {
    UUID id = JobIds.parse(text).orElseThrow(() -> invalid("workflow_id must be 32 hex characters, not '"
        + GrpcErrors.abbreviate(text) + "'"));
    return workflows.find(id, principal.clientId())
        .orElseThrow(() -> notFound("workflow " + GrpcErrors.abbreviate(text) + " not found"));
  }

  private StoredExecution execution(String text, String clientId) {
    return executions.find(executionId(text), clientId).orElseThrow(() -> executionNotFound(text));
  }

  private static UUID executionId(String text) {
    return JobIds.parse(text).orElseThrow(() -> invalid("execution_id must be 32 hex characters, not '"
        + GrpcErrors.abbreviate(text) + "'"));
  }

  private static RuntimeException executionNotFound(String text) {
    return notFound("execution " + GrpcErrors.abbreviate(text) + " not found");
  }

  private static int pageSize(int requested) {
    int size = requested == 0 ? DEFAULT_PAGE : requested;
    if (size < 1 || size > MAX_PAGE) {
      throw invalid("page_size must be between 1 and " + MAX_PAGE + ", not " + requested + " (unset: " + DEFAULT_PAGE
          + ")");
    }
    return size;
  }

  private static int offset(int offset) {
    if (offset < 0) {
      throw invalid("offset must not be negative, not " + offset);
    }
    return offset;
  }
}
