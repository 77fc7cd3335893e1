package net.aitbc.grid.ops.testing;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.worker.WorkerConfig;
import net.aitbc.grid.worker.WorkerNode;
import net.aitbc.grid.worker.backend.Backend;
import net.aitbc.grid.worker.backend.EmbeddedBackend;
import net.aitbc.grid.worker.backend.NoopBackend;
import net.aitbc.grid.worker.backend.SharedBackend;
import org.jspecify.annotations.Nullable;

/**
 * K real worker nodes in this JVM against a coordinator, for tests that need several distinct
 * workers, such as the swarm consensus ITs. Each node has its own worker id, its own worker key
 * whose owner is its id (so owners are distinct too), its own state directory and Ed25519 key, and
 * real gRPC to the coordinator; all run the one embedded all-MiniLM-L6-v2 model, loaded once, and
 * {@code noop} jobs (whose {@code sleep_ms} makes a job slow enough to kill a worker mid-job).
 *
 * <p>Any of them can be made byzantine: {@link Builder#byzantine(String...)} wraps its backends
 * in a {@link PerturbingBackend}, so that its embeddings have cosine similarity 0.95 (or {@link
 * Builder#similarity(double)}) to the true ones, unit length and 384 numbers: wrong, but not
 * obviously. Honest nodes run the same model, so their vectors agree with each other exactly.
 *
 * <pre>{@code
 * try (WorkerFleet fleet = WorkerFleet.builder(coordinator)   // an in-process Coordinator
 *         .workers(3)                                          // fleet-worker-1 .. fleet-worker-3
 *         .byzantine("fleet-worker-3")                         // its embeddings are turned (cos 0.95)
 *         .swarms("embedding-eu")                              // each joins it when it registers
 *         .start()) {                                          // returns once all have registered
 *   // coordinate a consensus task with 3 collaborators; then expect fleet.byzantineIds() to be
 *   // the dissenters, and fleet.perturbing("fleet-worker-3").perturbed() > 0.
 *   fleet.kill("fleet-worker-2");                              // a collaborator lost mid-task
 * }
 * }</pre>
 *
 * <p>Against a coordinator in another process, give its address and a way to make worker keys:
 * {@code WorkerFleet.builder("127.0.0.1:" + port, owner -> keyFor(owner))}. {@link
 * Builder#configure(String, UnaryOperator)} sets anything else of one node's {@link WorkerConfig}
 * (a price or region for leader election, a concurrency), and {@link Builder#decorate(String,
 * UnaryOperator)} wraps its backends in any other test backend (a slow one, say).
 */
public final class WorkerFleet implements AutoCloseable {
  private static final Duration REGISTER_TIMEOUT = Duration.ofSeconds(60);

  private final Map<String, WorkerNode> nodes;
  private final Map<String, PerturbingBackend> perturbing;
  private final @Nullable Path tempRoot;

  private WorkerFleet(Map<String, WorkerNode> nodes, Map<String, PerturbingBackend> perturbing,
      @Nullable Path tempRoot) {
    // Views: the builder fills them as the nodes start.
    this.nodes = Collections.unmodifiableMap(nodes);
    this.perturbing = Collections.unmodifiableMap(perturbing);
    this.tempRoot = tempRoot;
  }

  /** A fleet against an in-process coordinator, which makes each node's worker key. */
  public static Builder builder(Coordinator coordinator) {
    return builder("127.0.0.1:" + coordinator.grpcPort(), owner -> coordinator.createKey(Role.WORKER, owner));
  }

  /**
   * A fleet against the coordinator at {@code target} ({@code host:port}); {@code workerKey} makes
   * a worker-role API key for an owner id (each node's owner is its worker id).
   */
  public static Builder builder(String target, Function<String, String> workerKey) {
    return new Builder(target, workerKey);
  }

  /** The worker ids, in the order they started. */
  public List<String> ids() {
    return List.copyOf(nodes.keySet());
  }

  /** The nodes, in the order they started. */
  public List<WorkerNode> nodes() {
    return List.copyOf(nodes.values());
  }

  /** The node {@code id}. */
  public WorkerNode node(String id) {
    WorkerNode node = nodes.get(id);
    if (node == null) {
      throw new IllegalArgumentException("no worker " + id + " in the fleet " + ids());
    }
    return node;
  }

  /** The ids of the byzantine nodes. */
  public Set<String> byzantineIds() {
    return Set.copyOf(perturbing.keySet());
  }

  /** The ids of the honest nodes, in the order they started. */
  public List<String> honestIds() {
    return ids().stream().filter(id -> !perturbing.containsKey(id)).toList();
  }

  /** The perturbing backend of byzantine node {@code id}, to see how many results it turned. */
  public PerturbingBackend perturbing(String id) {
    PerturbingBackend backend = perturbing.get(id);
    if (backend == null) {
      throw new IllegalArgumentException(id + " is not byzantine; these are: " + byzantineIds());
    }
    return backend;
  }

  /** Stops node {@code id} at once, its running jobs aborted, as a killed machine would. */
  public void kill(String id) throws InterruptedException {
    WorkerNode node = node(id);
    node.shutdownNow();
    if (!node.awaitTermination(Duration.ofSeconds(20))) {
      throw new IllegalStateException(id + " did not stop within 20 s");
    }
  }

  /** Drains every node at once and waits for each, then removes the state directories it made. */
  @Override
  public void close() {
    List<WorkerNode> all = nodes();
    all.forEach(WorkerNode::shutdown);
    all.reversed().forEach(WorkerNode::close);
    if (tempRoot != null) {
      try (Stream<Path> files = Files.walk(tempRoot)) {
        for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** What to start; every setter returns the builder. */
  public static final class Builder {
    private final String target;
    private final Function<String, String> workerKey;
    private int workers = 3;
    private String idPrefix = "fleet-worker";
    private final Set<String> byzantine = new LinkedHashSet<>();
    private double similarity = PerturbingBackend.DEFAULT_SIMILARITY;
    private long seed = 42;
    private List<String> swarms = List.of();
    private int concurrency = 2;
    private @Nullable Path stateRoot;
    private final Map<String, UnaryOperator<WorkerConfig.Builder>> configure = new HashMap<>();
    private final Map<String, UnaryOperator<Backend>> decorate = new HashMap<>();

    private Builder(String target, Function<String, String> workerKey) {
      this.target = requireNonNull(target, "target");
      this.workerKey = requireNonNull(workerKey, "workerKey");
    }

    /** How many nodes (default 3), named {@code <prefix>-1} … {@code <prefix>-K}. */
    public Builder workers(int count) {
      if (count < 1) {
        throw new IllegalArgumentException("a fleet needs a worker, got " + count);
      }
      this.workers = count;
      return this;
    }

    /** The ids' prefix (default {@code fleet-worker}); distinct prefixes keep two fleets apart. */
    public Builder idPrefix(String prefix) {
      this.idPrefix = requireNonNull(prefix, "prefix");
      return this;
    }

    /** These nodes return turned embeddings (see {@link PerturbingBackend}). */
    public Builder byzantine(String... ids) {
      byzantine.addAll(List.of(ids));
      return this;
    }

    /** The cosine similarity of a byzantine node's vectors to the true ones (default 0.95). */
    public Builder similarity(double similarity) {
      this.similarity = similarity;
      return this;
    }

    /** Picks the directions byzantine nodes turn vectors to (default 42). */
    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** The swarms every node joins by name when it registers (Register.swarms). */
    public Builder swarms(String... names) {
      this.swarms = List.of(names);
      return this;
    }

    /** Jobs each node runs at once (default 2). */
    public Builder concurrency(int concurrency) {
      this.concurrency = concurrency;
      return this;
    }

    /** Where node {@code id} keeps its key ({@code root/id}); default a temporary folder removed on close. */
    public Builder stateRoot(Path root) {
      this.stateRoot = requireNonNull(root, "root");
      return this;
    }

    /** Changes node {@code id}'s configuration before it starts (applied after the fleet's settings). */
    public Builder configure(String id, UnaryOperator<WorkerConfig.Builder> change) {
      configure.merge(id, requireNonNull(change, "change"), (a, b) -> c -> b.apply(a.apply(c)));
      return this;
    }

    /** Wraps each of node {@code id}'s backends (inside the perturbing one, for a byzantine node). */
    public Builder decorate(String id, UnaryOperator<Backend> wrap) {
      decorate.merge(id, requireNonNull(wrap, "wrap"), (a, b) -> x -> b.apply(a.apply(x)));
      return this;
    }

    /** Starts the nodes and waits until every one has registered; on failure stops those started. */
    public WorkerFleet start() {
      List<String> ids = new ArrayList<>();
      for (int i = 1; i <= workers; i++) {
        ids.add(idPrefix + "-" + i);
      }
      Set<String> unknown = new LinkedHashSet<>(byzantine);
      unknown.addAll(configure.keySet());
      unknown.addAll(decorate.keySet());
      unknown.removeAll(ids);
      if (!unknown.isEmpty()) {
        throw new IllegalArgumentException("not in the fleet " + ids + ": " + unknown);
      }
      Path root;
      Path tempRoot = null;
      try {
        root = stateRoot != null ? stateRoot : (tempRoot = Files.createTempDirectory("worker-fleet-"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Map<String, WorkerNode> nodes = new LinkedHashMap<>();
      Map<String, PerturbingBackend> perturbing = new HashMap<>();
      WorkerFleet fleet = new WorkerFleet(nodes, perturbing, tempRoot);
      // The model once for all the nodes; each runs it through a view that it closes.
      SharedBackend model = new SharedBackend(new EmbeddedBackend());
      try {
        for (String id : ids) {
          WorkerConfig.Builder config = WorkerConfig.builder()
              .coordinator(target)
              .apiKey(workerKey.apply(id))
              .workerId(id)
              .stateDir(root.resolve(id))
              .concurrency(concurrency)
              .swarms(swarms)
              .gpuDetection(false)
              .drainTimeout(Duration.ofSeconds(5));
          WorkerConfig built = configure.getOrDefault(id, UnaryOperator.identity()).apply(config).build();
          UnaryOperator<Backend> wrap = decorate.getOrDefault(id, UnaryOperator.identity());
          List<Backend> backends = new ArrayList<>();
          for (Backend backend : List.of(model.view(), new NoopBackend(id))) {
            Backend wrapped = wrap.apply(backend);
            if (byzantine.contains(id)) {
              PerturbingBackend turned = new PerturbingBackend(wrapped, similarity, seed);
              if (wrapped.jobTypes().contains("embedding")) {
                perturbing.put(id, turned);
              }
              wrapped = turned;
            }
            backends.add(wrapped);
          }
          nodes.put(id, WorkerNode.start(built, backends));
        }
        long deadline = System.nanoTime() + REGISTER_TIMEOUT.toNanos();
        for (WorkerNode node : nodes.values()) {
          while (!node.isRegistered()) {
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException(node.workerId() + " did not register within " + REGISTER_TIMEOUT);
            }
            Thread.sleep(20);
          }
        }
        return fleet;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fleet.close();
        throw new IllegalStateException("interrupted while the fleet registered", e);
      } catch (RuntimeException e) {
        fleet.close();
        throw e;
      } finally {
        model.release();
      }
    }
  }
}
