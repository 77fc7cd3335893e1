package net.aitbc.grid.worker.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** One backend, several nodes: it closes with the last view and the creator's share, once. */
class SharedBackendTest {

  /** The noop backend, counting its closes. */
  private static final class Counted implements Backend {
    final AtomicInteger closes = new AtomicInteger();
    private final NoopBackend noop = new NoopBackend("w");

    @Override
    public String name() {
      return noop.name();
    }

    @Override
    public Set<String> jobTypes() {
      return noop.jobTypes();
    }

    @Override
    public List<String> models() {
      return noop.models();
    }

    @Override
    public boolean supports(String type, @Nullable String model) {
      return noop.supports(type, model);
    }

    @Override
    public JobOutcome run(JobRun run) throws BackendException {
      return noop.run(run);
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }

  @Test
  void closesWithTheLastShare() throws Exception {
    Counted counted = new Counted();
    SharedBackend shared = new SharedBackend(counted);
    Backend a = shared.view();
    Backend b = shared.view();
    assertThat(a.name()).isEqualTo("noop");
    assertThat(a.supports("noop", null)).isTrue();
    assertThat(b.run(JobRun.of("noop", null, new ObjectMapper().createObjectNode())).result().get("ok").asBoolean())
        .isTrue();

    shared.release();
    shared.release();
    a.close();
    a.close();
    assertThat(counted.closes).hasValue(0);
    b.close();
    assertThat(counted.closes).hasValue(1);
    assertThatThrownBy(shared::view).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void closesOnReleaseWhenNoViewWasTaken() {
    Counted counted = new Counted();
    new SharedBackend(counted).release();
    assertThat(counted.closes).hasValue(1);
  }
}
