package net.aitbc.grid.worker.backend;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One backend that several worker nodes in one process run on, e.g. the embedded model loaded once
 * for {@code grid dev --workers N}: each node gets a {@link #view()} (a node closes its backends
 * when it stops), and the backend itself closes when the last view and the creator's own share
 * ({@link #release()}) are gone. Backends are thread-safe, so the nodes may run it at once.
 */
public final class SharedBackend {

  private final Backend backend;
  private final AtomicBoolean released = new AtomicBoolean();
  private int shares = 1;

  /** Shares {@code backend}; the caller holds one share until it calls {@link #release()}. */
  public SharedBackend(Backend backend) {
    this.backend = requireNonNull(backend, "backend");
  }

  /** The backend shared. */
  public Backend backend() {
    return backend;
  }

  /** A view of the backend for one node: it delegates everything, and its close gives back its share. */
  public synchronized Backend view() {
    if (shares == 0) {
      throw new IllegalStateException("the shared " + backend.name() + " backend is closed");
    }
    shares++;
    return new View();
  }

  /** Gives back the creator's share: the backend closes now if no view is open. Idempotent. */
  public void release() {
    if (released.compareAndSet(false, true)) {
      giveBack();
    }
  }

  private void giveBack() {
    boolean last;
    synchronized (this) {
      last = --shares == 0;
    }
    if (last) {
      backend.close();
    }
  }

  private final class View implements Backend {
    private final AtomicBoolean closed = new AtomicBoolean();

    @Override
    public String name() {
      return backend.name();
    }

    @Override
    public Set<String> jobTypes() {
      return backend.jobTypes();
    }

    @Override
    public List<String> models() {
      return backend.models();
    }

    @Override
    public boolean supports(String type, @Nullable String model) {
      return backend.supports(type, model);
    }

    @Override
    public JobOutcome run(JobRun run) throws BackendException {
      return backend.run(run);
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        giveBack();
      }
    }
  }
}
