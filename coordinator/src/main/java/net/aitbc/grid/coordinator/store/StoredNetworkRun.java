package net.aitbc.grid.coordinator.store;

import java.time.OffsetDateTime;
import java.util.UUID;
import net.aitbc.grid.db.enums.ExecutionStatus;
import org.jspecify.annotations.Nullable;

/**
 * A network run as stored.
 *
 * @param runId its id
 * @param networkId the network it runs
 * @param clientId its owner
 * @param keyId the key that started it
 * @param status where it stands
 * @param taskJson the task, a JSON value
 * @param priority 0 to 9
 * @param timeoutSeconds how long it may run
 * @param deadline when it fails if it has not ended
 * @param resultJson its result once ended (a JSON object), or null
 * @param errorMessage why it failed, or null
 * @param createdAt when it was started
 * @param endedAt when it ended, or null
 */
public record StoredNetworkRun(UUID runId, UUID networkId, String clientId, String keyId, ExecutionStatus status,
    String taskJson, int priority, int timeoutSeconds, OffsetDateTime deadline, @Nullable String resultJson,
    @Nullable String errorMessage, OffsetDateTime createdAt, @Nullable OffsetDateTime endedAt) {
  /** Whether it has ended (completed, failed or cancelled). */
  public boolean ended() {
    return status != ExecutionStatus.pending && status != ExecutionStatus.running;
  }
}
