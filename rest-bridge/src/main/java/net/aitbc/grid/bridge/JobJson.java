package net.aitbc.grid.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NumericNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import net.aitbc.grid.v1.GetJobResultResponse;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobAttempt;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListJobsResponse;
import net.aitbc.grid.v1.PaymentStatus;
import org.jspecify.annotations.Nullable;

/** The one JSON mapping of jobs: the CLI's JobView, results, progress events and pages. */
final class JobJson {
  /** Naive UTC with microseconds, as the CLI's server writes times: {@code 2026-03-05T12:00:00.123456}. */
  private static final DateTimeFormatter NAIVE_UTC = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS");
  private static final String STATE_PREFIX = "JOB_STATE_";

  private JobJson() {}

  /**
   * The JobView: first exactly the fields of the CLI's server, then ours. Used by submit, cancel
   * and list.
   */
  static ObjectNode view(Job job) {
    ObjectNode o = Json.object();
    o.put("job_id", job.getJobId());
    o.put("state", state(job.getState()));
    o.put("assigned_miner_id", orNull(job.getWorkerId()));
    o.put("requested_at", time(job.getCreateTime()));
    o.put("expires_at", time(job.getExpireTime()));
    o.put("error", orNull(job.getError()));
    o.put("payment_id", orNull(job.getPaymentId()));
    o.put("payment_status", job.getPaymentStatus() == PaymentStatus.PAYMENT_STATUS_UNSPECIFIED ? null
        : PaymentJson.status(job.getPaymentStatus()));
    o.put("type", job.getType());
    o.put("model", orNull(job.getModel()));
    o.put("priority", job.getPriority());
    o.put("attempt", job.getAttempt());
    o.put("max_attempts", job.getMaxAttempts());
    o.put("started_at", job.hasStartTime() ? time(job.getStartTime()) : null);
    o.put("finished_at", job.hasEndTime() ? time(job.getEndTime()) : null);
    o.put("cache_hit", job.getCacheHit());
    if (job.hasTimeout()) {
      o.set("timeout_seconds", seconds(job.getTimeout()));
    } else {
      o.putNull("timeout_seconds");
    }
    return o;
  }

  /** The JobView plus what only a single job's read carries: what it waits for, and its metrics. */
  static ObjectNode detailedView(Job job) {
    ObjectNode o = view(job);
    o.put("waiting_for", orNull(job.getWaitingFor()));
    o.set("metrics", Json.parseStored(job.getMetricsJson()));
    ArrayNode attempts = o.putArray("attempts");
    for (JobAttempt a : job.getAttemptsList()) {
      ObjectNode at = attempts.addObject();
      at.put("attempt", a.getAttempt());
      at.put("worker_id", orNull(a.getWorkerId()));
      at.put("started_at", a.hasStartTime() ? time(a.getStartTime()) : null);
      at.put("finished_at", a.hasEndTime() ? time(a.getEndTime()) : null);
      at.put("error", orNull(a.getError()));
    }
    return o;
  }

  /**
   * The {@code /result} body of an ended job: the result when it completed; otherwise no result
   * and the error, so that {@code client result --wait} stops instead of polling until its timeout.
   */
  static ObjectNode result(GetJobResultResponse r) {
    Job job = r.getJob();
    ObjectNode o = Json.object();
    o.put("job_id", job.getJobId());
    o.put("state", state(job.getState()));
    if (job.getState() == JobState.JOB_STATE_COMPLETED) {
      o.set("result", Json.parseStored(r.getResultJson()));
      o.set("receipt", Json.parseStored(r.getReceiptJson()));
      o.set("metrics", Json.parseStored(job.getMetricsJson()));
      o.put("cache_hit", job.getCacheHit());
    } else {
      o.putNull("result");
      o.set("receipt", Json.parseStored(r.getReceiptJson()));
      o.put("error", orNull(job.getError()));
    }
    return o;
  }

  /** A progress event: {@code {"job_id","attempt","percent","output"}}. */
  static ObjectNode progress(JobProgress p) {
    ObjectNode o = Json.object();
    o.put("job_id", p.getJobId());
    o.put("attempt", p.getAttempt());
    o.put("percent", p.getPercent());
    o.put("output", p.getOutput());
    return o;
  }

  /**
   * A page of the list routes; {@code total} counts this page, as the CLI's server does, and
   * {@code limit} and {@code offset} are the coordinator's (its default page size when none was
   * asked for). With {@code withResults} each item carries its {@code result} (null until completed).
   */
  static ObjectNode page(ListJobsResponse r, boolean withResults) {
    ObjectNode o = Json.object();
    ArrayNode items = o.putArray("items");
    for (Job j : r.getJobsList()) {
      ObjectNode item = view(j);
      if (withResults) {
        item.set("result", Json.parseStored(j.getResultJson()));
      }
      items.add(item);
    }
    o.put("total", r.getJobsCount());
    o.put("limit", r.getPageSize());
    o.put("offset", r.getOffset());
    return o;
  }

  /** The REST spelling of a state: {@code JOB_STATE_QUEUED} → {@code QUEUED}. */
  static String state(JobState s) {
    String name = s.name();
    return name.startsWith(STATE_PREFIX) ? name.substring(STATE_PREFIX.length()) : name;
  }

  /** A time as naive UTC ISO-8601 with microseconds. */
  static String time(Timestamp t) {
    return LocalDateTime.ofEpochSecond(t.getSeconds(), t.getNanos(), ZoneOffset.UTC).format(NAIVE_UTC);
  }

  /** A duration in seconds: a whole number when it is one. */
  private static NumericNode seconds(Duration d) {
    if (d.getNanos() == 0) {
      return LongNode.valueOf(d.getSeconds());
    }
    return DecimalNode.valueOf(BigDecimal.valueOf(d.getSeconds()).add(BigDecimal.valueOf(d.getNanos(), 9))
        .stripTrailingZeros());
  }

  /** Proto strings are never null; the CLI's server writes null where ours are empty. */
  private static @Nullable String orNull(String s) {
    return s.isEmpty() ? null : s;
  }
}
