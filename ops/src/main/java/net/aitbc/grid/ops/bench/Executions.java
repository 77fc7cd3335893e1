package net.aitbc.grid.ops.bench;

import static net.aitbc.grid.db.Tables.EXECUTION;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.v1.ExecuteWorkflowRequest;
import net.aitbc.grid.v1.ExecuteWorkflowResponse;
import net.aitbc.grid.v1.WorkflowServiceGrpc;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/** Starting executions over gRPC ({@code ExecuteWorkflow}) as a benchmark's client, and waiting for them to end. */
final class Executions {
  private static final Set<ExecutionStatus> ENDED =
      Set.of(ExecutionStatus.completed, ExecutionStatus.failed, ExecutionStatus.cancelled);

  private Executions() {}

  /** Executions started, by id, and the calls that failed ("gRPC CODE: description"). */
  record Batch(Set<UUID> ids, List<String> errors) {
    Batch() {
      this(ConcurrentHashMap.newKeySet(), Collections.synchronizedList(new ArrayList<>()));
    }

    /** The failed calls by kind, with the first message of each; null when none failed. */
    @Nullable Map<String, String> errorKinds() {
      Map<String, String> kinds = new LinkedHashMap<>();
      synchronized (errors) {
        errors.forEach(e -> kinds.putIfAbsent(e.substring(0, Math.max(0, e.indexOf(':'))), e));
      }
      return kinds.isEmpty() ? null : kinds;
    }
  }

  /** Starts {@code n} executions with up to {@code inFlight} calls outstanding; returns once every call is answered. */
  static Batch startAll(WorkflowServiceGrpc.WorkflowServiceStub stub, String workflow, int n, int inFlight,
      long deadline) {
    Batch batch = new Batch();
    Semaphore slots = new Semaphore(inFlight);
    for (int i = 0; i < n && System.nanoTime() < deadline; i++) {
      slots.acquireUninterruptibly();
      execute(stub, workflow, batch, slots::release);
    }
    slots.acquireUninterruptibly(inFlight);
    return batch;
  }

  /** Starts {@code n} executions at {@code rate} a second, each call on its own schedule; returns once all are answered. */
  static Batch startPaced(WorkflowServiceGrpc.WorkflowServiceStub stub, String workflow, int n, double rate,
      long deadline) {
    Batch batch = new Batch();
    Semaphore answered = new Semaphore(0);
    long t0 = System.nanoTime();
    long interval = (long) (1e9 / rate);
    int sent = 0;
    for (; sent < n && System.nanoTime() < deadline; sent++) {
      LockSupport.parkNanos(t0 + sent * interval - System.nanoTime());
      execute(stub, workflow, batch, answered::release);
    }
    answered.acquireUninterruptibly(sent);
    return batch;
  }

  private static void execute(WorkflowServiceGrpc.WorkflowServiceStub stub, String workflow, Batch batch,
      Runnable answered) {
    stub.withDeadlineAfter(Submissions.CALL_DEADLINE_MS, TimeUnit.MILLISECONDS).executeWorkflow(
        ExecuteWorkflowRequest.newBuilder().setWorkflowId(workflow).setRequestId(UUID.randomUUID().toString()).build(),
        new StreamObserver<>() {
          @Override
          public void onNext(ExecuteWorkflowResponse r) {
            batch.ids().add(JobIds.parse(r.getExecution().getExecutionId()).orElseThrow());
          }

          @Override
          public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            batch.errors().add("gRPC " + s.getCode() + ": " + s.getDescription());
            answered.run();
          }

          @Override
          public void onCompleted() {
            answered.run();
          }
        });
  }

  /** Waits until {@code count} executions in the database at {@code dbUrl} have ended, or the deadline; true if they have. */
  static boolean awaitEnded(String dbUrl, int count, long deadline) {
    try (Connection c = DriverManager.getConnection(dbUrl)) {
      var db = DSL.using(c, SQLDialect.POSTGRES);
      while (db.fetchCount(EXECUTION, EXECUTION.STATUS.in(ENDED)) < count) {
        if (System.nanoTime() > deadline) {
          return false;
        }
        LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
      }
      return true;
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read " + dbUrl + ": " + e.getMessage(), e);
    }
  }
}
