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
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import net.aitbc.grid.db.enums.JobState;

/**
 * The coordinator's meters. Names are low-cardinality and start with {@code grid.}. Client ids are
 * never tags; job types are (clients choose them, so only the first {@value #MAX_TYPE_TAGS} types
 * seen get series of their own, and the rest share {@code type="other"}).
 */
public final class GridMetrics implements AutoCloseable {
  /** Job types with series of their own. */
  static final int MAX_TYPE_TAGS = 100;

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Counter submitted;
  private final Counter requeued;
  private final Counter refused;
  private final Counter unrecorded;
  private final Counter leaseExpired;
  private final Counter timedOut;
  private final Counter retired;
  private final Map<String, Counter> admissionRefused = new HashMap<>();
  private final Map<String, AtomicLong> queueDepth = new ConcurrentHashMap<>();
  private final Map<String, Timer> runTimes = new ConcurrentHashMap<>();
  private final Map<String, Counter> streamMessagesIn = new ConcurrentHashMap<>();
  private final Map<String, Counter> streamMessagesOut = new ConcurrentHashMap<>();
  private final Set<String> typeTags = ConcurrentHashMap.newKeySet();
  private final Timer dispatchLatency;
  private final Counter cacheHits;
  private final Counter cacheMisses;
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
    unrecorded = Counter.builder("grid.outcomes.unrecorded")
        .description("Outcomes the database kept refusing; their attempts were queued again").register(registry);
    leaseExpired = Counter.builder("grid.lease.expiries")
        .description("Attempts taken back because their worker's lease ran out").register(registry);
    timedOut = Counter.builder("grid.attempts.timed.out")
        .description("Attempts revoked for running past their run timeout").register(registry);
    retired = Counter.builder("grid.jobs.retired")
        .description("Finished jobs deleted after the job retention (their receipts and payments stay)")
        .register(registry);
    // One name, tagged by the answer: the hit rate is hit / (hit + miss).
    cacheHits = Counter.builder("grid.result_cache.lookups")
        .description("Submissions of deterministic jobs looked up in the result cache, by whether it answered")
        .tag("result", "hit").register(registry);
    cacheMisses = Counter.builder("grid.result_cache.lookups")
        .description("Submissions of deterministic jobs looked up in the result cache, by whether it answered")
        .tag("result", "miss").register(registry);
    for (String limit : List.of("rate", "queue_cap")) {
      admissionRefused.put(limit, Counter.builder("grid.admission.refused")
          .description("Calls refused by a rate limit or a client's queue cap")
          .tag("limit", limit)
          .register(registry));
    }
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

  /** A cacheable job was committed, answered from the result cache ({@code hit}) or queued to run. */
  public void resultCache(boolean hit) {
    (hit ? cacheHits : cacheMisses).increment();
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

  /** The latest count of queued jobs per type (a type seen before and absent now has none). */
  public void queueDepth(Map<String, Integer> byType) {
    Map<String, Long> tagged = new HashMap<>();
    byType.forEach((type, n) -> tagged.merge(typeTag(type), (long) n, Long::sum));
    tagged.keySet().forEach(tag -> queueDepth.computeIfAbsent(tag, t -> {
      AtomicLong depth = new AtomicLong();
      Gauge.builder("grid.queue.depth", depth, AtomicLong::get).description("Queued jobs per job type")
          .tag("type", t).register(registry);
      return depth;
    }));
    queueDepth.forEach((tag, depth) -> depth.set(tagged.getOrDefault(tag, 0L)));
  }

  /** An attempt of a job of this type ran this many milliseconds (until its worker reported it). */
  public void ran(String type, long millis) {
    String tag = typeTag(type);
    Timer t = runTimes.get(tag);
    if (t == null) {
      // Count, sum and max per type (no histogram: it is recorded once per job, on the hot path).
      t = runTimes.computeIfAbsent(tag, k -> Timer.builder("grid.job.run")
          .description("From assignment to the worker's outcome, per job type")
          .tag("type", k)
          .register(registry));
    }
    t.record(millis, TimeUnit.MILLISECONDS);
  }

  /** A call was refused by this limit: {@code rate} or {@code queue_cap}. */
  public void admissionRefused(String limit) {
    admissionRefused.get(limit).increment();
  }

  /** The database kept refusing an outcome. */
  public void outcomeUnrecorded() {
    unrecorded.increment();
  }

  /** Attempts were taken back because their lease ran out. */
  public void leaseExpired(int attempts) {
    leaseExpired.increment(attempts);
  }

  /** Finished jobs were retired. */
  public void retired(int jobs) {
    retired.increment(jobs);
  }

  /** Attempts were revoked for running past their timeout. */
  public void timedOut(int attempts) {
    timedOut.increment(attempts);
  }

  /** A worker-stream message went in ({@code in}) or out; {@code kind} is its protocol case. */
  public void streamMessage(boolean in, String kind) {
    Map<String, Counter> counters = in ? streamMessagesIn : streamMessagesOut;
    Counter c = counters.get(kind);
    if (c == null) {
      c = counters.computeIfAbsent(kind, k -> Counter.builder("grid.stream.messages")
          .description("Worker-stream messages, by direction and kind")
          .tag("direction", in ? "in" : "out")
          .tag("kind", kind.toLowerCase(Locale.ROOT))
          .register(registry));
    }
    c.increment();
  }

  private String typeTag(String type) {
    if (typeTags.contains(type)) {
      return type;
    }
    if (typeTags.size() < MAX_TYPE_TAGS) {
      typeTags.add(type);
      return type;
    }
    return "other";
  }

  /**
   * Wraps a group committer's write so that each transaction is measured: {@code grid.commit}
   * (seconds, start to commit or failure) and {@code grid.commit.batch} (items), tagged with the
   * committer's name.
   */
  public <I, R> Function<List<I>, R> timed(String committer, Function<List<I>, R> commit) {
    Timer time = Timer.builder("grid.commit")
        .description("One group-commit transaction, from its start to its commit")
        .tag("committer", committer)
        .publishPercentileHistogram()
        .register(registry);
    DistributionSummary size = DistributionSummary.builder("grid.commit.batch")
        .description("Items in one group-commit transaction")
        .tag("committer", committer)
        .register(registry);
    Counter failures = Counter.builder("grid.commit.failures")
        .description("Group-commit transactions that failed (each is retried or its callers told)")
        .tag("committer", committer)
        .register(registry);
    return batch -> {
      long start = System.nanoTime();
      try {
        return commit.apply(batch);
      } catch (RuntimeException e) {
        failures.increment();
        throw e;
      } finally {
        time.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        size.record(batch.size());
      }
    };
  }

  /**
   * Registers the age in seconds of the oldest receipt not yet sealed into a block (0 when none
   * waits), read from {@code lag} at each scrape.
   */
  public void ledgerLag(Supplier<Number> lag) {
    Gauge.builder("grid.ledger.unsealed.age", lag)
        .description("Seconds the oldest receipt has waited to be sealed into a block")
        .baseUnit("seconds")
        .register(registry);
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
