package net.aitbc.grid.coordinator.rpc;

import net.aitbc.grid.coordinator.CoordinatorConfig;

import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The per-job work of the submit and dispatch paths outside the database: validation and serialisation. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SubmissionBenchmark {
  private final Principal principal = new Principal("bench", Role.CLIENT, "0123456789abcdef", KeyLimits.DEFAULT);
  private final UUID id = UUID.randomUUID();
  private final CreateJobRequest noop = CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"noop\"}").build();
  private final CreateJobRequest chat = CreateJobRequest.newBuilder().setPayloadJson(
      "{\"type\":\"inference\",\"model\":\"llama3.2\",\"priority\":\"high\",\"messages\":[{\"role\":\"system\","
          + "\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"Summarise the grid in one line.\"}],"
          + "\"options\":{\"temperature\":0.2,\"num_predict\":128}}").build();
  private final Assignment assignment = Assignment.newBuilder().setJobId("0192f3a4b5c6d7e8f90123456789abcd")
      .setAttempt(1).setType("noop").setPayloadJson("{\"type\":\"noop\"}").build();

  private static final CoordinatorConfig CONFIG = CoordinatorConfig.defaults("jdbc:postgresql://unused/db");

  /** Validating a no-op job's request into a job to store. */
  @Benchmark
  public NewJob validateNoop() {
    return JobRequests.toNewJob(noop, principal, id, CONFIG);
  }

  /** Validating a typical chat inference request. */
  @Benchmark
  public NewJob validateChat() {
    return JobRequests.toNewJob(chat, principal, id, CONFIG);
  }

  /** Encoding one Assignment for the worker stream. */
  @Benchmark
  public byte[] encodeAssignment() {
    return ConnectResponse.newBuilder().setAssignment(assignment).build().toByteArray();
  }
}
