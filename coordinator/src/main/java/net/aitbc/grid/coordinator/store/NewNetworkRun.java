package net.aitbc.grid.coordinator.store;

import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A validated run to start.
 *
 * @param runId its new id
 * @param networkId the network it runs
 * @param clientId its owner, whose executions it makes
 * @param keyId the key that started it, under which its executions run
 * @param requestId the idempotency key, or null
 * @param taskJson the task, a JSON value
 * @param priority 0 to 9, for every execution it makes
 * @param timeoutSeconds how long it may run, 1 to 86,400
 */
public record NewNetworkRun(UUID runId, UUID networkId, String clientId, String keyId, @Nullable String requestId,
    String taskJson, int priority, int timeoutSeconds) {}
