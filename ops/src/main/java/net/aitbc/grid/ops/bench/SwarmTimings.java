package net.aitbc.grid.ops.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Timestamp;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetTaskRequest;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.SwarmServiceGrpc;
import net.aitbc.grid.v1.SwarmTask;
import net.aitbc.grid.v1.SwarmTaskMember;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import net.aitbc.grid.worker.backend.Backend;
import net.aitbc.grid.worker.backend.EmbeddedBackend;
import net.aitbc.grid.worker.backend.SharedBackend;

/**
 * A consensus task over real workers against plain jobs of the same payload, on one coordinator:
 * {@code collaborators} worker nodes in this JVM, each its own worker id running the embedded model
 * (loaded once) one job at a time, as machines of one owner would. A round runs, in an order that
 * rotates: one plain job alone; as many plain jobs at once as there are workers (the same load as the
 * task, without its coordination); and {@code Coordinate} of the same payload with the consensus
 * strategy, until the task has ended. Times are the coordinator's (created to ended, from the
 * records), and the client's (call to the end seen by polling every {@link #POLL}).
 */
final class SwarmTimings {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration POLL = Duration.ofMillis(5);
  private static final Set<JobState> JOB_ENDED = EnumSet.of(JobState.JOB_STATE_COMPLETED, JobState.JOB_STATE_FAILED,
      JobState.JOB_STATE_CANCELED, JobState.JOB_STATE_EXPIRED);
  private static final Set<ExecutionStatus> TASK_ENDED = EnumSet.of(ExecutionStatus.EXECUTION_STATUS_COMPLETED,
      ExecutionStatus.EXECUTION_STATUS_FAILED, ExecutionStatus.EXECUTION_STATUS_CANCELLED);

  private final BenchGrid grid;
  private final int collaborators;
  private final String payload;
  private final JobServiceGrpc.JobServiceBlockingStub jobs;
  private final SwarmServiceGrpc.SwarmServiceBlockingStub swarms;

  private SwarmTimings(BenchGrid grid, ManagedChannel channel, int collaborators, int texts) {
    this.grid = grid;
    this.collaborators = collaborators;
    this.payload = payload(texts);
    String key = grid.db().clientKey();
    this.jobs = Grpc.withKey(JobServiceGrpc.newBlockingStub(channel), key);
    this.swarms = Grpc.withKey(SwarmServiceGrpc.newBlockingStub(channel), key);
  }

  /** An embedding job of {@code texts} of the benchmark's sentences. */
  static String payload(int texts) {
    ObjectNode p = JSON.createObjectNode().put("type", "embedding");
    ArrayNode input = p.putArray("input");
    for (int i = 0; i < texts; i++) {
      input.add(EmbeddingBench.sentence(i));
    }
    return p.toString();
  }

  /**
   * Starts the workers, runs {@code warmup} unmeasured rounds and {@code rounds} measured ones, and
   * returns the measured rounds' figures.
   */
  static List<Map<String, Object>> run(BenchGrid grid, int collaborators, int texts, int warmup, int rounds) {
    List<WorkerNode> nodes = new ArrayList<>();
    SharedBackend model = new SharedBackend(new EmbeddedBackend());
    ManagedChannel channel = Grpc.channel(grid.coordinator().grpcPort());
    try {
      Path state = grid.coordinator().log().resolveSibling("bench-swarm-state");
      for (int i = 1; i <= collaborators; i++) {
        String id = "bench-swarm-" + i;
        List<Backend> backends = List.of(model.view());
        nodes.add(WorkerNode.start(WorkerConfig.builder()
            .coordinator("127.0.0.1:" + grid.coordinator().grpcPort())
            .apiKey(grid.db().workerKey())
            .workerId(id)
            .stateDir(state.resolve(id))
            .concurrency(1)
            .gpuDetection(false)
            .drainTimeout(Duration.ofSeconds(10))
            .build(), backends));
      }
      model.release();
      for (WorkerNode n : nodes) {
        await(n::isRegistered, Duration.ofSeconds(60), n.workerId() + " did not register");
      }
      SwarmTimings t = new SwarmTimings(grid, channel, collaborators, texts);
      for (int r = 0; r < warmup; r++) {
        t.round(r);
      }
      List<Map<String, Object>> done = new ArrayList<>();
      for (int r = 0; r < rounds; r++) {
        Map<String, Object> round = t.round(r);
        grid.say("round %d: %s", r + 1, round);
        done.add(round);
      }
      return done;
    } finally {
      nodes.forEach(WorkerNode::shutdown);
      nodes.forEach(WorkerNode::close);
      Grpc.close(List.of(channel));
    }
  }

  /** One round: the three runs in an order that rotates with {@code r}, so that none is always first. */
  private Map<String, Object> round(int r) {
    Map<String, Object> out = new LinkedHashMap<>();
    List<Runnable> runs = List.of(() -> out.putAll(plain()), () -> out.putAll(plainAtOnce()),
        () -> out.putAll(swarm()));
    for (int i = 0; i < runs.size(); i++) {
      runs.get((i + r) % runs.size()).run();
    }
    double swarm = (Double) out.get("swarm_ms");
    out.put("swarm_over_slowest_member", ratio(swarm, (Double) out.get("slowest_member_ms")));
    out.put("swarm_over_plain", ratio(swarm, (Double) out.get("plain_ms")));
    out.put("swarm_over_plain_at_once", ratio(swarm, (Double) out.get("plain_at_once_ms")));
    return out;
  }

  private Map<String, Object> plain() {
    long start = System.nanoTime();
    String id = jobs.createJob(CreateJobRequest.newBuilder().setPayloadJson(payload).build()).getJob().getJobId();
    double call = ms(System.nanoTime() - start);
    Job job = ended(id);
    double client = ms(System.nanoTime() - start);
    check(job);
    return Map.of("plain_ms", ms(job.getCreateTime(), job.getEndTime()), "plain_client_ms", client,
        "create_call_ms", call);
  }

  private Map<String, Object> plainAtOnce() {
    long start = System.nanoTime();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < collaborators; i++) {
      ids.add(jobs.createJob(CreateJobRequest.newBuilder().setPayloadJson(payload).build()).getJob().getJobId());
    }
    List<Job> done = new ArrayList<>();
    for (String id : ids) {
      done.add(ended(id));
    }
    double client = ms(System.nanoTime() - start);
    done.forEach(SwarmTimings::check);
    Timestamp first = done.stream().map(Job::getCreateTime).min(SwarmTimings::compare).orElseThrow();
    Timestamp last = done.stream().map(Job::getEndTime).max(SwarmTimings::compare).orElseThrow();
    return Map.of("plain_at_once_ms", ms(first, last), "plain_at_once_client_ms", client,
        "plain_at_once_workers", done.stream().map(Job::getWorkerId).distinct().count());
  }

  private Map<String, Object> swarm() {
    long start = System.nanoTime();
    String taskId = swarms.coordinate(CoordinateRequest.newBuilder().setTask(payload).setCollaborators(collaborators)
        .setStrategy("consensus").build()).getTaskId();
    double call = ms(System.nanoTime() - start);
    SwarmTask t = task(taskId);
    while (!TASK_ENDED.contains(t.getStatus())) {
      LockSupport.parkNanos(POLL.toNanos());
      t = task(taskId);
    }
    double client = ms(System.nanoTime() - start);
    if (t.getStatus() != ExecutionStatus.EXECUTION_STATUS_COMPLETED || !t.getDecision().getConsensusReached()) {
      throw new IllegalStateException("swarm task " + taskId + " ended " + t.getStatus() + ": " + t.getErrorMessage());
    }
    double slowest = 0;
    Timestamp lastMemberEnd = t.getCreateTime();
    Timestamp firstMemberCreated = t.getEndTime();
    for (SwarmTaskMember m : t.getMembersList()) {
      Job job = jobs.getJob(GetJobRequest.newBuilder().setJobId(m.getJobId()).build()).getJob();
      slowest = Math.max(slowest, ms(job.getCreateTime(), job.getEndTime()));
      lastMemberEnd = compare(job.getEndTime(), lastMemberEnd) > 0 ? job.getEndTime() : lastMemberEnd;
      firstMemberCreated = compare(job.getCreateTime(), firstMemberCreated) < 0 ? job.getCreateTime()
          : firstMemberCreated;
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("swarm_ms", ms(t.getCreateTime(), t.getEndTime()));
    out.put("swarm_client_ms", client);
    out.put("coordinate_call_ms", call);
    out.put("slowest_member_ms", slowest);
    // The task's creation to its first member job's: the engine's first pass.
    out.put("start_lag_ms", ms(t.getCreateTime(), firstMemberCreated));
    // The task's end after its last member's: comparing, deciding, recording.
    out.put("decision_lag_ms", ms(lastMemberEnd, t.getEndTime()));
    out.put("agreeing", t.getDecision().getAgreeingWorkersCount());
    return out;
  }

  private SwarmTask task(String id) {
    return swarms.getTask(GetTaskRequest.newBuilder().setTaskId(id).build()).getTask();
  }

  private Job ended(String id) {
    long deadline = grid.deadline();
    Job job = jobs.getJob(GetJobRequest.newBuilder().setJobId(id).build()).getJob();
    while (!JOB_ENDED.contains(job.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("job " + id + " still " + job.getState() + " after the phase timeout");
      }
      LockSupport.parkNanos(POLL.toNanos());
      job = jobs.getJob(GetJobRequest.newBuilder().setJobId(id).build()).getJob();
    }
    return job;
  }

  private static void check(Job job) {
    if (job.getState() != JobState.JOB_STATE_COMPLETED) {
      throw new IllegalStateException("job " + job.getJobId() + " ended " + job.getState() + ": " + job.getError());
    }
  }

  private static void await(Supplier<Boolean> condition, Duration atMost, String failure) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(failure + " within " + atMost);
      }
      LockSupport.parkNanos(20_000_000);
    }
  }

  private static int compare(Timestamp a, Timestamp b) {
    return a.getSeconds() != b.getSeconds() ? Long.compare(a.getSeconds(), b.getSeconds())
        : Integer.compare(a.getNanos(), b.getNanos());
  }

  private static double ms(Timestamp from, Timestamp to) {
    return ms((to.getSeconds() - from.getSeconds()) * 1_000_000_000L + (to.getNanos() - from.getNanos()));
  }

  private static double ms(long nanos) {
    return Math.round(nanos / 1e4) / 100.0;
  }

  private static double ratio(double a, double b) {
    return Math.round(a / b * 1000) / 1000.0;
  }
}
