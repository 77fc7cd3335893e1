package net.aitbc.grid.coordinator.testing;

import com.google.protobuf.util.Durations;
import java.time.Duration;
import java.util.Optional;
import net.aitbc.grid.v1.CompleteMinerJobRequest;
import net.aitbc.grid.v1.CompleteMinerJobResponse;
import net.aitbc.grid.v1.FailMinerJobRequest;
import net.aitbc.grid.v1.FailMinerJobResponse;
import net.aitbc.grid.v1.Gpu;
import net.aitbc.grid.v1.HeartbeatMinerRequest;
import net.aitbc.grid.v1.HeartbeatMinerResponse;
import net.aitbc.grid.v1.MinerJob;
import net.aitbc.grid.v1.MinerServiceGrpc;
import net.aitbc.grid.v1.MinerServiceGrpc.MinerServiceBlockingStub;
import net.aitbc.grid.v1.PollMinerJobRequest;
import net.aitbc.grid.v1.RegisterMinerRequest;
import net.aitbc.grid.v1.RegisterMinerResponse;
import net.aitbc.grid.v1.WorkerCapabilities;
import io.grpc.Channel;

/** A REST miner played over MinerService with real gRPC calls, one call at a time, as the CLI makes them. */
public final class TestMiner {
  private final MinerServiceBlockingStub stub;
  private final String minerId;

  /** A miner {@code minerId} under {@code key}. */
  public TestMiner(Channel channel, String key, String minerId) {
    this.stub = GrpcClients.withKey(MinerServiceGrpc.newBlockingStub(channel), key);
    this.minerId = minerId;
  }

  /** Its id. */
  public String id() {
    return minerId;
  }

  /** The stub, for calls this class does not wrap. */
  public MinerServiceBlockingStub stub() {
    return stub;
  }

  /** Registers with these capabilities. */
  public RegisterMinerResponse register(WorkerCapabilities capabilities) {
    return stub.registerMiner(RegisterMinerRequest.newBuilder().setMinerId(minerId).setCapabilities(capabilities)
        .build());
  }

  /** Registers for these job types, one job at a time, with no GPU. */
  public RegisterMinerResponse register(String... types) {
    return register(WorkerCapabilities.newBuilder().addAllJobTypes(java.util.List.of(types)).build());
  }

  /** Capabilities with one GPU. */
  public static WorkerCapabilities gpu(String model, long memoryGb, String... types) {
    return WorkerCapabilities.newBuilder().addAllJobTypes(java.util.List.of(types))
        .addGpus(Gpu.newBuilder().setModel(model).setMemoryMb(memoryGb * 1000)).build();
  }

  /** Renews its lease. */
  public HeartbeatMinerResponse heartbeat() {
    return stub.heartbeatMiner(HeartbeatMinerRequest.newBuilder().setMinerId(minerId).setStatus("ONLINE").build());
  }

  /** One poll waiting up to {@code wait}. */
  public Optional<MinerJob> poll(Duration wait) {
    var r = stub.pollMinerJob(PollMinerJobRequest.newBuilder().setMinerId(minerId)
        .setMaxWait(Durations.fromNanos(wait.toNanos())).build());
    return r.hasJob() ? Optional.of(r.getJob()) : Optional.empty();
  }

  /** Reports a result for the attempt it holds. */
  public CompleteMinerJobResponse complete(String jobId, String resultJson) {
    return stub.completeMinerJob(CompleteMinerJobRequest.newBuilder().setMinerId(minerId).setJobId(jobId)
        .setResultJson(resultJson).build());
  }

  /** Reports a failure for the attempt it holds. */
  public FailMinerJobResponse fail(String jobId, String message, boolean retryable) {
    return stub.failMinerJob(FailMinerJobRequest.newBuilder().setMinerId(minerId).setJobId(jobId)
        .setErrorCode("TEST_FAILED").setErrorMessage(message).setRetryable(retryable).build());
  }
}
