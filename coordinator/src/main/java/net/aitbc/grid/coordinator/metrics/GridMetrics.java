package net.aitbc.grid.coordinator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import net.aitbc.grid.db.enums.JobState;

/**
 * The coordinator's meters. Names are low-cardinality and start with {@code grid.}; job types and
 * client ids are never tags, because clients choose them.
 */
public final class GridMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter submitted;
  private final Counter requeued;
  private final Counter refused;
  private final Timer dispatchLatency;
  private final AtomicLong queued = new AtomicLong();
  private final Map<JobState, Counter> finished = new EnumMap<>(JobState.class);
  private final JvmGcMetrics gc = new JvmGcMetrics();

  /** Registers the meters; {@code workers} and {@code watched} are read at each scrape. */
  public GridMetrics(Supplier<Number> workers, Supplier<Number> watched) {
    submitted = Counter.builder("grid.jobs.submitted").description("Jobs accepted and committed").register(registry);
    requeued = Counter.builder("grid.jobs.requeued")
        .description("Attempts taken back from a failed or lost worker and queued again").register(registry);
    refused = Counter.builder("grid.outcomes.refused")
        .description("Outcomes refused because their attempt was stale or not held by the session").register(registry);
    dispatchLatency = Timer.builder("grid.dispatch.latency")
        .description("From submission (or requeue) to assignment to a worker")
        .publishPercentileHistogram()
        .register(registry);
    Gauge.builder("grid.workers.connected", workers).description("Connected worker sessions").register(registry);
    Gauge.builder("grid.jobs.watched", watched).description("Jobs with a live watcher").register(registry);
    Gauge.builder("grid.queue.depth", queued, AtomicLong::get).description("Queued jobs").register(registry);
    for (JobState s : new JobState[] {JobState.COMPLETED, JobState.FAILED, JobState.CANCELED, JobState.EXPIRED}) {
      finished.put(s, Counter.builder("grid.jobs.finished")
          .description("Jobs that reached a terminal state")
          .tag("state", s.getLiteral().toLowerCase(Locale.ROOT))
          .register(registry));
    }
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    gc.bindTo(registry);
  }

  /** A job was committed. */
  public void submitted() {
    submitted.increment();
  }

  /** A job reached a terminal state (other states are ignored). */
  public void finished(JobState state) {
    Counter counter = finished.get(state);
    if (counter != null) {
      counter.increment();
    }
  }

  /** An attempt was taken back and the job queued again. */
  public void requeued() {
    requeued.increment();
  }

  /** An outcome was refused. */
  public void refused() {
    refused.increment();
  }

  /** A job waited this long for a worker. */
  public void dispatched(Duration waited) {
    dispatchLatency.record(waited);
  }

  /** The latest count of queued jobs. */
  public void queueDepth(long count) {
    queued.set(count);
  }

  /**
   * Wraps a group committer's write so that each transaction is measured: {@code grid.commit}
   * (seconds, start to commit or failure) and {@code grid.commit.batch} (items), tagged with the
   * committer's name.
   */
  public <I, O> Function<List<I>, List<O>> timed(String committer, Function<List<I>, List<O>> commit) {
    Timer time = Timer.builder("grid.commit")
        .description("One group-commit transaction, from its start to its commit")
        .tag("committer", committer)
        .publishPercentileHistogram()
        .register(registry);
    DistributionSummary size = DistributionSummary.builder("grid.commit.batch")
        .description("Items in one group-commit transaction")
        .tag("committer", committer)
        .register(registry);
    return batch -> {
      long start = System.nanoTime();
      try {
        return commit.apply(batch);
      } finally {
        time.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        size.record(batch.size());
      }
    };
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
