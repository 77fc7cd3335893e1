package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.enums.SwarmStrategy;
import org.jspecify.annotations.Nullable;

/**
 * A swarm task as stored: what it was started with ({@link NewSwarmTask}), and what the engine last
 * decided.
 *
 * @param taskId its id
 * @param clientId its owner
 * @param keyId the key that started it
 * @param requestId its idempotency key, or null
 * @param swarmId the swarm it preferred, or null
 * @param status where it stands
 * @param strategy how it runs
 * @param jobType the member jobs' type
 * @param payloadJson the member jobs' payload
 * @param probe whether it is a verification probe
 * @param constraintsJson the member jobs' constraints
 * @param collaborators members asked for
 * @param parts its slots
 * @param threshold the consensus share
 * @param similarity the similarity bound given, or null for the type's
 * @param timeoutSeconds how long it may run
 * @param deadline when it ends with what it has
 * @param candidates the workers chosen when it started, best first
 * @param progress 0 to 100
 * @param leaderWorkerId the leader now (leader election), or null
 * @param leaderRule why it leads, or null
 * @param resultJson its result once completed, or null
 * @param resultSha256 the hash of its canonical result, or null
 * @param consensusReached the decision's answer, or null before one
 * @param decisionJson the decision (consensus) as JSON, or null
 * @param errorMessage why it failed or was cancelled, or null
 * @param receiptId its receipt, or null
 * @param createdAt when it was started
 * @param startedAt when its first member job was made, or null
 * @param endedAt when it ended, or null
 */
public record StoredSwarmTask(UUID taskId, String clientId, String keyId, @Nullable String requestId,
    @Nullable UUID swarmId, ExecutionStatus status, SwarmStrategy strategy, String jobType, String payloadJson,
    boolean probe, String constraintsJson, int collaborators, int parts, BigDecimal threshold,
    @Nullable Double similarity, int timeoutSeconds, OffsetDateTime deadline, List<SwarmCandidate> candidates,
    int progress, @Nullable String leaderWorkerId, @Nullable String leaderRule, @Nullable String resultJson,
    @Nullable String resultSha256, @Nullable Boolean consensusReached, @Nullable String decisionJson,
    @Nullable String errorMessage, @Nullable UUID receiptId, OffsetDateTime createdAt,
    @Nullable OffsetDateTime startedAt, @Nullable OffsetDateTime endedAt) {
  /** Copies the list. */
  public StoredSwarmTask {
    candidates = List.copyOf(candidates);
  }

  /** The same task with its receipt named. */
  public StoredSwarmTask withReceipt(@Nullable UUID receipt) {
    return new StoredSwarmTask(taskId, clientId, keyId, requestId, swarmId, status, strategy, jobType, payloadJson,
        probe, constraintsJson, collaborators, parts, threshold, similarity, timeoutSeconds, deadline, candidates,
        progress, leaderWorkerId, leaderRule, resultJson, resultSha256, consensusReached, decisionJson, errorMessage,
        receipt, createdAt, startedAt, endedAt);
  }

  /** Whether it has ended (completed, failed or cancelled). */
  public boolean ended() {
    return status != ExecutionStatus.pending && status != ExecutionStatus.running;
  }
}
