package net.aitbc.grid.coordinator.swarm;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.SWARM_TASK;
import static net.aitbc.grid.db.Tables.SWARM_TASK_MEMBER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.Embeddings;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.Swarms;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.SwarmServiceGrpc.SwarmServiceBlockingStub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The wall time of a consensus task over three workers against one plain job of the same payload,
 * and against the task's own slowest member job, from the coordinator's timestamps in the database
 * (one clock). Workers sleep the payload's {@code sleep_ms}, then return a 384-number embedding (one
 * of them perturbed). Not part of the build's tests: run it with
 * {@code -Dit.test=SwarmLatencyBench -Dswarm.bench.rounds=30 -Dswarm.bench.sleep=100}.
 */
class SwarmLatencyBench {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static final int ROUNDS = Integer.getInteger("swarm.bench.rounds", 20);
  private static final int SLEEP_MS = Integer.getInteger("swarm.bench.sleep", 100);
  private static final double[] HONEST = Embeddings.vector(5);

  private static Complete sleepThen(double[] v, String payload) {
    try {
      Thread.sleep(Workflows.parse(payload).path("sleep_ms").asLong());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return new Complete(Embeddings.result(v), "{}");
  }

  @Test
  void consensusCostsLittleMoreThanItsSlowestMember() {
    List<ScriptedWorker> workers = List.of(
        ScriptedWorker.start(grid, "b1", 4, a -> sleepThen(HONEST, a.getPayloadJson()), "embedding").heartbeating(),
        ScriptedWorker.start(grid, "b2", 4, a -> sleepThen(Embeddings.noisy(HONEST, 0.2, 1), a.getPayloadJson()),
            "embedding").heartbeating(),
        ScriptedWorker.start(grid, "b3", 4, a -> sleepThen(Embeddings.noisy(HONEST, 1e-4, 2), a.getPayloadJson()),
            "embedding").heartbeating());
    try {
      String key = grid.clientKey("bench");
      SwarmServiceBlockingStub swarm = Swarms.client(grid, key);
      JobServiceBlockingStub jobs = grid.clientWithKey(key);
      String payload = "{'type':'embedding','input':'bench','sleep_ms':" + SLEEP_MS + "}";
      List<Double> plain = new ArrayList<>();
      List<Double> task = new ArrayList<>();
      List<Double> slowest = new ArrayList<>();
      List<Double> overhead = new ArrayList<>();
      List<Double> start = new ArrayList<>();
      List<Double> end = new ArrayList<>();
      List<Double> pickup = new ArrayList<>();
      for (int round = -3; round < ROUNDS; round++) {
        String jobId = jobs.createJob(CreateJobRequest.newBuilder().setPayloadJson(Workflows.json(payload)).build())
            .getJob().getJobId();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(() -> jobs.getJob(
            GetJobRequest.newBuilder().setJobId(jobId).build()).getJob().getState() == JobState.JOB_STATE_COMPLETED);
        String taskId = Swarms.coordinate(swarm, payload, 3, "consensus");
        assertThat(Swarms.ended(swarm, taskId).getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
        if (round < 0) {
          continue;
        }
        plain.add(jobMs(jobId));
        double[] t = taskMs(taskId);
        task.add(t[0]);
        slowest.add(t[1]);
        overhead.add(t[0] / t[1]);
        start.add(t[2]);
        end.add(t[3]);
        pickup.add(t[4]);
      }
      System.out.printf(Locale.ROOT, "swarm bench: %d rounds, members sleep %d ms%n", ROUNDS, SLEEP_MS);
      System.out.printf(Locale.ROOT, "  plain job (created -> finished)        p50 %.1f ms  p90 %.1f ms%n",
          pct(plain, 50), pct(plain, 90));
      System.out.printf(Locale.ROOT, "  slowest member job (created -> finished) p50 %.1f ms  p90 %.1f ms%n",
          pct(slowest, 50), pct(slowest, 90));
      System.out.printf(Locale.ROOT, "  consensus task (created -> ended)      p50 %.1f ms  p90 %.1f ms%n",
          pct(task, 50), pct(task, 90));
      System.out.printf(Locale.ROOT, "  task created -> first member job created p50 %.1f ms; last member finished -> "
          + "task ended p50 %.1f ms; member job created -> started p50 %.1f ms%n", pct(start, 50), pct(end, 50),
          pct(pickup, 50));
      System.out.printf(Locale.ROOT, "  task / slowest member  p50 %.3f  p90 %.3f;  task p50 / plain p50 %.3f%n",
          pct(overhead, 50), pct(overhead, 90), pct(task, 50) / pct(plain, 50));
    } finally {
      workers.forEach(ScriptedWorker::close);
    }
  }

  private static double jobMs(String jobId) {
    var r = grid.query(dsl -> dsl.select(JOB.CREATED_AT, JOB.FINISHED_AT).from(JOB)
        .where(JOB.JOB_ID.eq(JobIds.parse(jobId).orElseThrow())).fetchSingle());
    return ms(r.value1(), r.value2());
  }

  /**
   * {task created → ended, the slowest member job's created → finished, task created → first member
   * job created, last member job finished → task ended, a member job's created → started (median)}.
   */
  private static double[] taskMs(String taskId) {
    var id = JobIds.parse(taskId).orElseThrow();
    var t = grid.query(dsl -> dsl.select(SWARM_TASK.CREATED_AT, SWARM_TASK.ENDED_AT).from(SWARM_TASK)
        .where(SWARM_TASK.TASK_ID.eq(id)).fetchSingle());
    var jobs = grid.query(dsl -> dsl.select(JOB.CREATED_AT, JOB.STARTED_AT, JOB.FINISHED_AT).from(JOB)
        .join(SWARM_TASK_MEMBER).on(SWARM_TASK_MEMBER.JOB_ID.eq(JOB.JOB_ID))
        .where(SWARM_TASK_MEMBER.TASK_ID.eq(id)).fetch());
    double slowest = jobs.stream().mapToDouble(r -> ms(r.value1(), r.value3())).max().orElseThrow();
    OffsetDateTime firstCreated = jobs.stream().map(r -> r.value1()).min(OffsetDateTime::compareTo).orElseThrow();
    OffsetDateTime lastFinished = jobs.stream().map(r -> r.value3()).max(OffsetDateTime::compareTo).orElseThrow();
    List<Double> pickups = new ArrayList<>(jobs.map(r -> ms(r.value1(), r.value2())));
    return new double[] {ms(t.value1(), t.value2()), slowest, ms(t.value1(), firstCreated),
        ms(lastFinished, t.value2()), pct(pickups, 50)};
  }

  private static double ms(OffsetDateTime from, OffsetDateTime to) {
    return Duration.between(from, to).toNanos() / 1e6;
  }

  private static double pct(List<Double> values, int p) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
  }
}
