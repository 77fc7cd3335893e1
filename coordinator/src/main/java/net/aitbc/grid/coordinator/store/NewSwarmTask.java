package net.aitbc.grid.coordinator.store;

import java.math.BigDecimal;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.db.enums.SwarmStrategy;
import org.jspecify.annotations.Nullable;

/**
 * A validated swarm task to start.
 *
 * @param taskId its new id
 * @param clientId the owner
 * @param keyId the key that starts it (its member jobs are submitted as that key's)
 * @param requestId the idempotency key, or null
 * @param swarmId the swarm whose members it prefers, or null
 * @param strategy how it runs
 * @param jobType the member jobs' type
 * @param payloadJson the member jobs' payload, a JSON object (before a distributed split)
 * @param probe whether it is a bare type's verification probe
 * @param constraintsJson the member jobs' constraints as a Constraints JSON object
 * @param collaborators members asked for
 * @param parts slots it runs: collaborators, 1 (leader election), or the distributed parts
 * @param threshold the share the largest agreeing group needs
 * @param similarity overrides the type's similarity bound, or null
 * @param timeoutSeconds how long it may run
 * @param candidates the workers chosen, best first
 */
public record NewSwarmTask(UUID taskId, String clientId, String keyId, @Nullable String requestId,
    @Nullable UUID swarmId, SwarmStrategy strategy, String jobType, String payloadJson, boolean probe,
    String constraintsJson, int collaborators, int parts, BigDecimal threshold, @Nullable Double similarity,
    int timeoutSeconds, List<SwarmCandidate> candidates) {
  /** Copies the list. */
  public NewSwarmTask {
    candidates = List.copyOf(candidates);
  }
}
