package net.aitbc.grid.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import net.aitbc.grid.worker.backend.Backend;
import net.aitbc.grid.worker.backend.SharedBackend;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dev grid's workers ({@code grid dev --workers N}): each with its own worker id, worker key
 * (its own owner), state directory and Ed25519 key, as N machines would have, all running the one
 * embedded model, loaded once, plus {@code noop} jobs and Ollama when it answers.
 */
final class DevWorkers implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(DevWorkers.class);
  /** The first worker's id, the one a single dev worker always had. */
  static final String FIRST_ID = "dev-worker";
  /** The most workers {@code grid dev} starts. */
  static final int MAX = 16;

  private final List<WorkerNode> nodes;

  private DevWorkers(List<WorkerNode> nodes) {
    this.nodes = List.copyOf(nodes);
  }

  /** Worker {@code i}'s id, counting from 1: {@value #FIRST_ID}, then {@code dev-worker-2}, … */
  static String workerId(int i) {
    return i == 1 ? FIRST_ID : FIRST_ID + "-" + i;
  }

  /**
   * Starts the workers against {@code coordinator}, checking {@code stopRequested} between them:
   * when it says stop, closes what was started and throws {@link Startup.Stopped}. Does not wait
   * for them to register.
   */
  static DevWorkers start(Coordinator coordinator, DevGrid.Workers options, int concurrency, @Nullable String ollamaUrl,
      BooleanSupplier stopRequested) {
    List<WorkerConfig> configs = new ArrayList<>();
    for (int i = 1; i <= options.count(); i++) {
      String id = workerId(i);
      WorkerConfig.Builder config = WorkerConfig.builder()
          .coordinator("127.0.0.1:" + coordinator.grpcPort())
          .apiKey(coordinator.createKey(Role.WORKER, id))
          .workerId(id)
          .concurrency(concurrency)
          .embeddingBatching(options.embeddingBatching())
          .ollamaUrl(ollamaUrl)
          // noop jobs show workflows passing data between steps (their result echoes the payload's echo).
          .noopBackend(true)
          .swarms(options.swarms())
          .drainTimeout(Duration.ofSeconds(5));
      if (options.stateRoot() != null) {
        config.stateDir(options.stateRoot().resolve(id));
      } else if (i > 1) {
        config.stateDir(WorkerConfig.defaultStateDir().resolveSibling("aitbc-" + id));
      }
      configs.add(config.build());
    }
    // The model once (seconds, and memory per copy): every worker runs it through a view.
    List<Backend> model = WorkerNode.loadBackends(configs.getFirst().toBuilder()
        .ollamaUrl(null).noopBackend(false).build());
    SharedBackend shared = model.isEmpty() ? null : new SharedBackend(model.getFirst());
    List<WorkerNode> started = new ArrayList<>();
    try {
      for (WorkerConfig config : configs) {
        if (stopRequested.getAsBoolean()) {
          throw new Startup.Stopped("[worker=" + config.workerId() + "] stopped before connecting; its backends are"
              + " closed");
        }
        List<Backend> backends = new ArrayList<>();
        if (shared != null) {
          backends.add(shared.view());
        }
        backends.addAll(WorkerNode.loadBackends(config.toBuilder().embeddedBackend(false).build()));
        started.add(WorkerNode.start(config, backends));
      }
      return new DevWorkers(started);
    } catch (RuntimeException e) {
      new DevWorkers(started).close();
      throw e;
    } finally {
      if (shared != null) {
        shared.release();
      }
    }
  }

  /** The workers, the first one first. */
  List<WorkerNode> nodes() {
    return nodes;
  }

  /** Drains every worker at once, and waits for each, the last one first. */
  @Override
  public void close() {
    List<WorkerNode> reversed = new ArrayList<>(nodes);
    Collections.reverse(reversed);
    reversed.forEach(WorkerNode::shutdown);
    for (WorkerNode node : reversed) {
      try {
        node.close();
      } catch (RuntimeException e) {
        logger.warn("[worker={}] stopping failed: {}", node.workerId(), e.toString());
      }
    }
  }
}
