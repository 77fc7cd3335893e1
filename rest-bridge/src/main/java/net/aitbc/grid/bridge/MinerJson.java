package net.aitbc.grid.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Duration;
import java.math.BigDecimal;
import net.aitbc.grid.v1.CompleteMinerJobResponse;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.FailMinerJobResponse;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.ListMinerJobsRequest;
import net.aitbc.grid.v1.ListMinerJobsResponse;
import net.aitbc.grid.v1.MinerJob;
import net.aitbc.grid.v1.RegisterMinerResponse;
import net.aitbc.grid.v1.UpdateMinerCapabilitiesResponse;

/** The miner routes' answers (contract §7): the CLI's server's fields first, then ours. */
final class MinerJson {
  private MinerJson() {}

  /** {@code POST /v1/miners/register}: {@code {"status":"ok","session_token"}} and the session's timing. */
  static ObjectNode registered(String minerId, RegisterMinerResponse r) {
    ObjectNode o = Json.object();
    o.put("status", "ok");
    o.put("session_token", r.getSessionToken());
    o.put("miner_id", minerId);
    o.put("concurrency", r.getConcurrency());
    o.set("heartbeat_interval_seconds", seconds(r.getHeartbeatInterval()));
    o.set("lease_seconds", seconds(r.getLeaseDuration()));
    o.set("max_wait_seconds", seconds(r.getMaxPollWait()));
    o.put("changed", r.getChanged());
    return o;
  }

  /** {@code POST /v1/miners/heartbeat}: {@code {"status":"ok"}} and the jobs the coordinator knows it holds. */
  static ObjectNode heartbeat(String minerId, int held) {
    ObjectNode o = Json.object();
    o.put("status", "ok");
    o.put("miner_id", minerId);
    o.put("inflight", held);
    return o;
  }

  /**
   * A polled job, the CLI's server's AssignedJob ({@code job_id}, {@code payload}, {@code
   * constraints} with nulls), then the attempt that fences its outcome and its times.
   */
  static ObjectNode assigned(MinerJob j) {
    ObjectNode o = Json.object();
    o.put("job_id", j.getJobId());
    JsonNode payload = Json.parseStored(j.getPayloadJson());
    o.set("payload", payload == null ? Json.object() : payload);
    o.set("constraints", constraints(j.getConstraints()));
    o.put("attempt", j.getAttempt());
    o.put("type", j.getType());
    o.put("model", j.getModel().isEmpty() ? null : j.getModel());
    o.put("lease_expires_at", JobJson.time(j.getLeaseExpireTime()));
    o.put("expires_at", JobJson.time(j.getExpireTime()));
    o.put("deadline", JobJson.time(j.getDeadlineTime()));
    return o;
  }

  private static ObjectNode constraints(Constraints c) {
    ObjectNode o = Json.object();
    o.put("gpu", c.getGpu().isEmpty() ? null : c.getGpu());
    o.put("cuda", c.getCuda().isEmpty() ? null : c.getCuda());
    if (c.getMinVramGb() == 0) {
      o.putNull("min_vram_gb");
    } else {
      o.put("min_vram_gb", c.getMinVramGb());
    }
    if (c.getModelsCount() == 0) {
      o.putNull("models");
    } else {
      c.getModelsList().forEach(o.putArray("models")::add);
    }
    o.put("region", c.getRegion().isEmpty() ? null : c.getRegion());
    if (c.getMaxPrice() == 0) {
      o.putNull("max_price");
    } else {
      o.put("max_price", c.getMaxPrice());
    }
    return o;
  }

  /** {@code POST /v1/miners/{job_id}/result}: {@code {"status":"ok","receipt": <receipt|null>}}. */
  static ObjectNode completed(CompleteMinerJobResponse r) {
    ObjectNode o = Json.object();
    o.put("status", "ok");
    o.set("receipt", Json.parseStored(r.getReceiptJson()));
    o.put("job_id", r.getJobId());
    o.put("attempt", r.getAttempt());
    o.put("state", "COMPLETED");
    return o;
  }

  /** {@code POST /v1/miners/{job_id}/fail}: the job's state after it (QUEUED again, or FAILED). */
  static ObjectNode failed(FailMinerJobResponse r) {
    ObjectNode o = Json.object();
    o.put("status", "ok");
    o.put("job_id", r.getJobId());
    o.put("attempt", r.getAttempt());
    o.put("state", JobJson.state(r.getState()));
    return o;
  }

  /** {@code POST /v1/miners/{id}/jobs}: {@code {"jobs":[JobView...],"total","limit","offset","miner_id"}}. */
  static ObjectNode jobs(String minerId, ListMinerJobsRequest asked, ListMinerJobsResponse r) {
    ObjectNode o = Json.object();
    ArrayNode jobs = o.putArray("jobs");
    for (Job j : r.getJobsList()) {
      jobs.add(JobJson.view(j));
    }
    o.put("total", r.getJobsCount());
    o.put("limit", asked.getPageSize());
    o.put("offset", asked.getSkip());
    o.put("miner_id", minerId);
    return o;
  }

  /** {@code PUT /v1/miners/{id}/capabilities}: {@code {"miner_id","status":"updated","capabilities","session_token"}}. */
  static ObjectNode updated(String minerId, UpdateMinerCapabilitiesResponse r) {
    ObjectNode o = Json.object();
    o.put("miner_id", minerId);
    o.put("status", "updated");
    o.set("capabilities", Json.parseStored(r.getCapabilitiesJson()));
    o.put("session_token", r.getSessionToken());
    return o;
  }

  /** {@code DELETE /v1/miners/{id}}: {@code {"miner_id","status":"deregistered"}} and the jobs handed back. */
  static ObjectNode deregistered(String minerId, int jobsReturned) {
    ObjectNode o = Json.object();
    o.put("miner_id", minerId);
    o.put("status", "deregistered");
    o.put("jobs_returned", jobsReturned);
    return o;
  }

  /** Seconds: a whole number when it is one. */
  private static JsonNode seconds(Duration d) {
    return d.getNanos() == 0 ? LongNode.valueOf(d.getSeconds())
        : DecimalNode.valueOf(BigDecimal.valueOf(d.getSeconds()).add(BigDecimal.valueOf(d.getNanos(), 9)));
  }
}
