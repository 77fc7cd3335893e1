package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.JOB;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.val;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.db.enums.JobState;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.Record1;

/**
 * The INSERTs of new jobs for {@link JobStore}: a batch as column arrays in one statement, or row by
 * row for jobs with a model list. A job whose client and request id are taken is skipped.
 */
final class JobRows {
  private static final Columns COLUMNS = new Columns();

  private JobRows() {}

  /** Inserts jobs in at most three statements (queued, placed, with a model list); returns those inserted. */
  static List<UUID> store(DSLContext tx, List<NewJob> jobs, OffsetDateTime now, Map<UUID, UUID> paymentIds) {
    List<NewJob> listed = new ArrayList<>();
    List<NewJob> queued = new ArrayList<>(jobs.size());
    List<NewJob> placed = new ArrayList<>();
    for (NewJob j : jobs) {
      (!j.requirements().models().isEmpty() ? listed : j.placement() != null ? placed : queued).add(j);
    }
    List<UUID> in = new ArrayList<>(jobs.size());
    if (!queued.isEmpty()) {
      in.addAll(insertArrays(tx, queued, now, JobState.QUEUED, paymentIds));
    }
    if (!placed.isEmpty()) {
      in.addAll(insertArrays(tx, placed, now, JobState.RUNNING, paymentIds));
    }
    if (!listed.isEmpty()) {
      in.addAll(insertRows(tx, listed, now, paymentIds));
    }
    return in;
  }

  /**
   * One INSERT of the whole batch as column arrays. A model list cannot travel this way (arrays of
   * arrays flatten), so jobs with one go through {@link #insertRows}.
   */
  static List<UUID> insertArrays(DSLContext tx, List<NewJob> jobs, OffsetDateTime now, JobState state,
      Map<UUID, UUID> paymentIds) {
    int n = jobs.size();
    boolean running = state == JobState.RUNNING;
    UUID[] ids = new UUID[n];
    String[] clients = new String[n];
    String[] requests = new String[n];
    String[] types = new String[n];
    String[] models = new String[n];
    JSONB[] payloads = new JSONB[n];
    String[] gpus = new String[n];
    Integer[] cudas = new Integer[n];
    Integer[] vrams = new Integer[n];
    String[] regions = new String[n];
    Double[] prices = new Double[n];
    Short[] priorities = new Short[n];
    Double[] tags = new Double[n];
    Integer[] maxAttempts = new Integer[n];
    Integer[] timeouts = new Integer[n];
    OffsetDateTime[] expires = new OffsetDateTime[n];
    UUID[] sessions = new UUID[n];
    String[] workers = new String[n];
    UUID[] payments = new UUID[n];
    UUID[] executions = new UUID[n];
    UUID[] swarmTasks = new UUID[n];
    String[] pinned = new String[n];
    for (int i = 0; i < n; i++) {
      NewJob j = jobs.get(i);
      Requirements r = j.requirements();
      ids[i] = j.jobId();
      clients[i] = j.clientId();
      requests[i] = j.requestId();
      types[i] = j.type();
      models[i] = j.model();
      payloads[i] = JSONB.valueOf(j.payloadJson());
      gpus[i] = r.gpu();
      cudas[i] = r.cuda();
      vrams[i] = r.minVramMb();
      regions[i] = r.region();
      prices[i] = r.maxPrice();
      priorities[i] = (short) j.priority();
      tags[i] = j.fairTag();
      maxAttempts[i] = j.maxAttempts();
      timeouts[i] = (int) j.timeout().toMillis();
      expires[i] = now.plus(j.ttl());
      payments[i] = paymentIds.get(j.jobId());
      executions[i] = j.executionId();
      if (j.pin() != null) {
        swarmTasks[i] = j.pin().swarmTaskId();
        pinned[i] = j.pin().workerId();
      }
      if (running) {
        sessions[i] = j.placement().sessionId();
        workers[i] = j.placement().workerId();
      }
    }
    Columns c = COLUMNS;
    return tx.insertInto(JOB, JOB.JOB_ID, JOB.CLIENT_ID, JOB.REQUEST_ID, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD,
            JOB.REQ_GPU, JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_REGION, JOB.REQ_MAX_PRICE, JOB.PRIORITY,
            JOB.FAIR_TAG, JOB.MAX_ATTEMPTS, JOB.TIMEOUT_MS, JOB.EXPIRES_AT, JOB.SESSION_ID, JOB.WORKER_ID,
            JOB.PAYMENT_ID, JOB.EXECUTION_ID, JOB.SWARM_TASK_ID, JOB.PINNED_WORKER_ID, JOB.STATE, JOB.ATTEMPT,
            JOB.STARTED_AT, JOB.CREATED_AT, JOB.RUN_AFTER)
        .select(select(c.each(ids, JOB.JOB_ID), c.each(clients, JOB.CLIENT_ID), c.each(requests, JOB.REQUEST_ID),
            c.each(types, JOB.TYPE), c.each(models, JOB.MODEL), c.each(payloads, JOB.PAYLOAD),
            c.each(gpus, JOB.REQ_GPU), c.each(cudas, JOB.REQ_CUDA), c.each(vrams, JOB.REQ_MIN_VRAM_MB),
            c.each(regions, JOB.REQ_REGION), c.each(prices, JOB.REQ_MAX_PRICE), c.each(priorities, JOB.PRIORITY),
            c.each(tags, JOB.FAIR_TAG), c.each(maxAttempts, JOB.MAX_ATTEMPTS), c.each(timeouts, JOB.TIMEOUT_MS),
            c.each(expires, JOB.EXPIRES_AT), c.each(sessions, JOB.SESSION_ID), c.each(workers, JOB.WORKER_ID),
            c.each(payments, JOB.PAYMENT_ID), c.each(executions, JOB.EXECUTION_ID),
            c.each(swarmTasks, JOB.SWARM_TASK_ID), c.each(pinned, JOB.PINNED_WORKER_ID), val(state), val(running ? 1 : 0),
            val(running ? now : null, JOB.STARTED_AT), val(now), val(now)))
        .onConflict(JOB.CLIENT_ID, JOB.REQUEST_ID).where(JOB.REQUEST_ID.isNotNull())
        .doNothing()
        .returningResult(JOB.JOB_ID)
        .fetch(Record1::value1);
  }

  /**
   * Inserts jobs the result cache answered: COMPLETED at once with the cached result, on no worker
   * and no attempt, with no payment; their metrics name the job whose result they reuse.
   */
  static List<UUID> insertHits(DSLContext tx, List<NewJob> jobs, OffsetDateTime now, Map<UUID, ResultCache.Hit> hits) {
    var insert = tx.insertInto(JOB, JOB.JOB_ID, JOB.CLIENT_ID, JOB.REQUEST_ID, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD,
        JOB.REQ_GPU, JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_MODELS, JOB.REQ_REGION, JOB.REQ_MAX_PRICE,
        JOB.PRIORITY, JOB.FAIR_TAG, JOB.STATE, JOB.MAX_ATTEMPTS, JOB.TIMEOUT_MS, JOB.CREATED_AT, JOB.RUN_AFTER,
        JOB.EXPIRES_AT, JOB.EXECUTION_ID, JOB.FINISHED_AT, JOB.RESULT, JOB.METRICS, JOB.CACHE_HIT);
    for (NewJob j : jobs) {
      Requirements r = j.requirements();
      ResultCache.Hit hit = hits.get(j.jobId());
      insert = insert.values(j.jobId(), j.clientId(), j.requestId(), j.type(), j.model(),
          JSONB.valueOf(j.payloadJson()), r.gpu(), r.cuda(), r.minVramMb(),
          r.models().isEmpty() ? null : r.models().toArray(String[]::new), r.region(), r.maxPrice(),
          (short) j.priority(), j.fairTag(), JobState.COMPLETED, j.maxAttempts(), (int) j.timeout().toMillis(), now,
          now, now.plus(j.ttl()), j.executionId(), now, JSONB.valueOf(hit.resultJson()),
          JSONB.valueOf(hitMetrics(hit)), true);
    }
    return insert.onConflict(JOB.CLIENT_ID, JOB.REQUEST_ID).where(JOB.REQUEST_ID.isNotNull()).doNothing()
        .returningResult(JOB.JOB_ID).fetch(Record1::value1);
  }

  /** A hit's metrics: no run, and the job whose result it is. */
  static String hitMetrics(ResultCache.Hit hit) {
    return "{\"cache_hit\": true, \"duration_ms\": 0, \"source_job_id\": \"" + JobIds.format(hit.sourceJobId())
        + "\"}";
  }

  private static List<UUID> insertRows(DSLContext tx, List<NewJob> jobs, OffsetDateTime now,
      Map<UUID, UUID> paymentIds) {
    var insert = tx.insertInto(JOB, JOB.JOB_ID, JOB.CLIENT_ID, JOB.REQUEST_ID, JOB.TYPE, JOB.MODEL, JOB.PAYLOAD,
        JOB.REQ_GPU, JOB.REQ_CUDA, JOB.REQ_MIN_VRAM_MB, JOB.REQ_MODELS, JOB.REQ_REGION, JOB.REQ_MAX_PRICE,
        JOB.PRIORITY, JOB.FAIR_TAG, JOB.STATE, JOB.MAX_ATTEMPTS, JOB.TIMEOUT_MS, JOB.CREATED_AT, JOB.RUN_AFTER,
        JOB.EXPIRES_AT, JOB.PAYMENT_ID, JOB.EXECUTION_ID, JOB.SWARM_TASK_ID, JOB.PINNED_WORKER_ID);
    for (NewJob j : jobs) {
      Requirements r = j.requirements();
      insert = insert.values(j.jobId(), j.clientId(), j.requestId(), j.type(), j.model(),
          JSONB.valueOf(j.payloadJson()), r.gpu(), r.cuda(), r.minVramMb(), r.models().toArray(String[]::new),
          r.region(), r.maxPrice(), (short) j.priority(), j.fairTag(), JobState.QUEUED, j.maxAttempts(),
          (int) j.timeout().toMillis(), now, now, now.plus(j.ttl()), paymentIds.get(j.jobId()),
          j.executionId(), j.pin() == null ? null : j.pin().swarmTaskId(), j.pin() == null ? null : j.pin().workerId());
    }
    return insert.onConflict(JOB.CLIENT_ID, JOB.REQUEST_ID).where(JOB.REQUEST_ID.isNotNull()).doNothing()
        .returningResult(JOB.JOB_ID).fetch(Record1::value1);
  }
}
