package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.badRequest;
import static net.aitbc.grid.bridge.HttpErrors.unprocessable;
import static net.aitbc.grid.bridge.Requests.kind;
import static net.aitbc.grid.bridge.Requests.present;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.Durations;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.v1.CompleteMinerJobRequest;
import net.aitbc.grid.v1.FailMinerJobRequest;
import net.aitbc.grid.v1.Gpu;
import net.aitbc.grid.v1.HeartbeatMinerRequest;
import net.aitbc.grid.v1.ListMinerJobsRequest;
import net.aitbc.grid.v1.PollMinerJobRequest;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.jspecify.annotations.Nullable;

/**
 * The miner routes' requests (contract §7) as MinerService messages. The miner's id comes from
 * {@code X-Miner-ID} (or the path, where the CLI puts it), never from the key. Capabilities are read
 * in the CLI's shape ({@code gpu.model}, {@code gpu.memory_gb}, {@code gpu.cuda_cores}, {@code
 * cpu.cores}, {@code memory.gb}), the CLI's server's ({@code gpus[].name}, {@code gpus[].memory_mb},
 * {@code cuda}, {@code models[]}, {@code price}), and ours ({@code job_types[]}, {@code region},
 * {@code concurrency}); what a JSON type cannot be is refused here (422 naming the field), what a
 * value may be is the coordinator's to check.
 */
final class MinerRequests {
  static final String MINER_HEADER = "x-miner-id";
  /** The longest wait passed on; the coordinator caps it again (below its lease). */
  static final int MAX_WAIT_SECONDS = 3600;
  private static final String CAPABILITIES_EXAMPLE =
      "{\"capabilities\": {\"gpu\": {\"model\": \"RTX4090\", \"memory_gb\": 24, \"cuda_cores\": 16384}}}";
  /** The coordinator's names of what the routes' fields became. */
  static final Map<String, String> FIELDS = Map.of(
      "max_wait", "max_wait_seconds",
      "result_json", "result",
      "metrics_json", "metrics",
      "capabilities_json", "capabilities",
      "page_size", "limit",
      "skip", "offset",
      "states", "status");

  private MinerRequests() {}

  /** The miner of a header route: {@code X-Miner-ID}, or 400 as the CLI's server says it. */
  static String minerId(RequestHeaders headers) {
    String id = headers.get(MINER_HEADER);
    if (id == null || id.isBlank()) {
      throw badRequest("X-Miner-ID header required");
    }
    return id.strip();
  }

  /**
   * The miner of a path route: the path's id; an {@code X-Miner-ID} or {@code miner_id} query value
   * that names another miner is a 400.
   */
  static String minerId(String path, RequestHeaders headers, @Nullable QueryParams query) {
    String id = path.strip();
    String header = headers.get(MINER_HEADER);
    if (header != null && !header.isBlank() && !header.strip().equals(id)) {
      throw badRequest("X-Miner-ID '" + Requests.abbreviate(header.strip()) + "' names another miner than the path's '"
          + Requests.abbreviate(id) + "'");
    }
    String param = query == null ? null : query.get("miner_id");
    if (param != null && !param.isBlank() && !param.strip().equals(id)) {
      throw badRequest("miner_id '" + Requests.abbreviate(param.strip()) + "' names another miner than the path's '"
          + Requests.abbreviate(id) + "'");
    }
    return id;
  }

  /**
   * A register or update-capabilities body, {@code {"capabilities": {...}, "concurrency"?,
   * "region"?}}: the typed capabilities and, as the miner described them, the JSON it sent.
   */
  static Registration registration(HttpData body) {
    JsonNode root = Requests.parse(body, CAPABILITIES_EXAMPLE);
    if (!root.isObject()) {
      throw unprocessable("the body must be a JSON object such as " + CAPABILITIES_EXAMPLE + ", not " + kind(root));
    }
    JsonNode c = present(root, "capabilities");
    if (c == null) {
      throw unprocessable("capabilities is required: a JSON object such as " + CAPABILITIES_EXAMPLE);
    }
    if (!c.isObject()) {
      throw unprocessable("capabilities must be an object, not " + kind(c));
    }
    WorkerCapabilities.Builder b = WorkerCapabilities.newBuilder();
    JsonNode gpu = present(c, "gpu");
    if (gpu != null) {
      b.addGpus(gpu(gpu, "capabilities.gpu"));
    }
    JsonNode gpus = present(c, "gpus");
    if (gpus != null) {
      if (!gpus.isArray()) {
        throw unprocessable("capabilities.gpus must be a list, not " + kind(gpus));
      }
      for (int i = 0; i < gpus.size(); i++) {
        b.addGpus(gpu(gpus.get(i), "capabilities.gpus[" + i + "]").setIndex(i));
      }
    }
    b.addAllJobTypes(texts(c, "job_types", "capabilities.job_types"));
    b.addAllModels(texts(c, "models", "capabilities.models"));
    JsonNode cuda = present(c, "cuda");
    if (cuda != null) {
      if (!cuda.isTextual() && !cuda.isNumber()) {
        throw unprocessable("capabilities.cuda must be a version such as \"12.4\", not " + kind(cuda));
      }
      b.setCuda(cuda.asText());
    }
    JsonNode price = present(c, "price");
    if (price != null) {
      if (!price.isNumber()) {
        throw unprocessable("capabilities.price must be a number, not " + kind(price));
      }
      b.setPrice(price.doubleValue());
    }
    String region = Requests.text(root, "region", "region");
    region = region != null ? region : Requests.text(c, "region", "capabilities.region");
    if (region != null) {
      b.setRegion(region);
    }
    Long concurrency = Requests.whole(root, "concurrency", "concurrency", Integer.MAX_VALUE);
    concurrency = concurrency != null ? concurrency
        : Requests.whole(c, "concurrency", "capabilities.concurrency", Integer.MAX_VALUE);
    if (concurrency != null) {
      if (concurrency < 1) {
        // Proto3 would carry 0 as "the default": say so here rather than quietly taking 1.
        throw unprocessable("concurrency must be at least 1, not " + concurrency);
      }
      b.setConcurrency(concurrency.intValue());
    }
    ObjectNode described = ((ObjectNode) c).deepCopy();
    if (concurrency != null) {
      described.put("concurrency", concurrency);
    }
    if (region != null) {
      described.put("region", region);
    }
    return new Registration(b.build(), Json.text(described));
  }

  /**
   * What a miner registers with.
   *
   * @param capabilities what matching reads
   * @param describedJson the capabilities as the miner sent them
   */
  record Registration(WorkerCapabilities capabilities, String describedJson) {}

  /** A GPU: {@code {"model"|"name", "memory_gb"|"memory_mb", "cuda_cores"?}}, or its model as a string. */
  private static Gpu.Builder gpu(JsonNode g, String path) {
    Gpu.Builder b = Gpu.newBuilder();
    if (g.isTextual()) {
      return b.setModel(g.textValue());
    }
    if (!g.isObject()) {
      throw unprocessable(path + " must be an object such as {\"model\": \"RTX4090\", \"memory_gb\": 24}, not "
          + kind(g));
    }
    String model = Requests.text(g, "model", path + ".model");
    model = model != null ? model : Requests.text(g, "name", path + ".name");
    if (model != null) {
      b.setModel(model);
    }
    JsonNode gb = present(g, "memory_gb");
    if (gb != null) {
      if (!gb.isNumber()) {
        throw unprocessable(path + ".memory_gb must be a number, not " + kind(gb));
      }
      BigDecimal mb = gb.decimalValue().multiply(BigDecimal.valueOf(1000)).setScale(0, RoundingMode.HALF_UP);
      if (mb.abs().compareTo(BigDecimal.valueOf(Long.MAX_VALUE / 2)) > 0) {
        throw unprocessable(path + ".memory_gb is out of range: " + Requests.abbreviate(gb.asText()));
      }
      // GB as the grid counts them (a min_vram_gb constraint of 24 needs 24,000 MB).
      b.setMemoryMb(mb.longValue());
    }
    Long mb = Requests.whole(g, "memory_mb", path + ".memory_mb", Long.MAX_VALUE);
    if (mb != null && gb == null) {
      b.setMemoryMb(mb);
    }
    // cuda_cores says nothing that matching reads; it stays in the described capabilities.
    Requests.whole(g, "cuda_cores", path + ".cuda_cores", Long.MAX_VALUE);
    return b;
  }

  /** A heartbeat body, {@code {"inflight", "status", "metadata"}}, all optional. */
  static HeartbeatMinerRequest heartbeat(String minerId, HttpData body) {
    HeartbeatMinerRequest.Builder b = HeartbeatMinerRequest.newBuilder().setMinerId(minerId);
    if (body.isEmpty()) {
      return b.build();
    }
    JsonNode root = object(body, "{\"inflight\": 0, \"status\": \"ONLINE\", \"metadata\": {}}");
    Long inflight = Requests.whole(root, "inflight", "inflight", Integer.MAX_VALUE);
    if (inflight != null) {
      b.setInflight(inflight.intValue());
    }
    String status = Requests.text(root, "status", "status");
    if (status != null) {
      b.setStatus(status);
    }
    JsonNode metadata = present(root, "metadata");
    if (metadata != null && !metadata.isObject()) {
      throw unprocessable("metadata must be an object, not " + kind(metadata));
    }
    return b.build();
  }

  /** A poll body, {@code {"max_wait_seconds": 5}}; without one (or the field) the poll answers at once. */
  static PollMinerJobRequest poll(String minerId, HttpData body) {
    PollMinerJobRequest.Builder b = PollMinerJobRequest.newBuilder().setMinerId(minerId);
    if (body.isEmpty()) {
      return b.build();
    }
    JsonNode wait = present(object(body, "{\"max_wait_seconds\": 5}"), "max_wait_seconds");
    if (wait != null) {
      if (!wait.isNumber()) {
        throw unprocessable("max_wait_seconds must be a number of seconds, not " + kind(wait));
      }
      BigDecimal seconds = wait.decimalValue();
      if (seconds.signum() < 0 || seconds.compareTo(BigDecimal.valueOf(MAX_WAIT_SECONDS)) > 0) {
        throw unprocessable("max_wait_seconds must be between 0 and " + MAX_WAIT_SECONDS + ", not "
            + Requests.abbreviate(wait.asText()));
      }
      b.setMaxWait(Durations.fromNanos(seconds.movePointRight(9).setScale(0, RoundingMode.DOWN).longValueExact()));
    }
    return b.build();
  }

  /** A result body, {@code {"result": {...}, "metrics": {...}, "attempt"?}}. */
  static CompleteMinerJobRequest complete(String minerId, String jobId, HttpData body) {
    JsonNode root = object(body, "{\"result\": {\"output\": \"...\"}, \"metrics\": {}}");
    JsonNode result = present(root, "result");
    if (result == null) {
      throw unprocessable("result is required: a JSON object such as {\"output\": \"...\"}");
    }
    CompleteMinerJobRequest.Builder b = CompleteMinerJobRequest.newBuilder().setMinerId(minerId).setJobId(jobId)
        .setResultJson(Json.text(result));
    JsonNode metrics = present(root, "metrics");
    if (metrics != null) {
      b.setMetricsJson(Json.text(metrics));
    }
    Long attempt = Requests.whole(root, "attempt", "attempt", Integer.MAX_VALUE);
    if (attempt != null) {
      b.setAttempt(attempt.intValue());
    }
    return b.build();
  }

  /** A fail body, {@code {"error_code", "error_message", "metrics", "retryable"?, "attempt"?}}. */
  static FailMinerJobRequest fail(String minerId, String jobId, HttpData body) {
    JsonNode root = object(body, "{\"error_code\": \"INFERENCE_FAILED\", \"error_message\": \"...\", \"metrics\": {}}");
    FailMinerJobRequest.Builder b = FailMinerJobRequest.newBuilder().setMinerId(minerId).setJobId(jobId);
    String code = Requests.text(root, "error_code", "error_code");
    if (code != null) {
      b.setErrorCode(code);
    }
    String message = Requests.text(root, "error_message", "error_message");
    if (message != null) {
      b.setErrorMessage(message);
    }
    JsonNode retryable = present(root, "retryable");
    if (retryable != null) {
      if (!retryable.isBoolean()) {
        throw unprocessable("retryable must be true or false, not " + kind(retryable));
      }
      b.setRetryable(retryable.booleanValue());
    }
    JsonNode metrics = present(root, "metrics");
    if (metrics != null) {
      b.setMetricsJson(Json.text(metrics));
    }
    Long attempt = Requests.whole(root, "attempt", "attempt", Integer.MAX_VALUE);
    if (attempt != null) {
      b.setAttempt(attempt.intValue());
    }
    return b.build();
  }

  /** The query of {@code miner jobs}: {@code limit}, {@code offset}, {@code type}, {@code status}, {@code min_reward}. */
  static ListMinerJobsRequest jobs(String minerId, QueryParams q) {
    ListMinerJobsRequest.Builder b = ListMinerJobsRequest.newBuilder().setMinerId(minerId)
        .setPageSize(Requests.limit(q, 10, Integer.MAX_VALUE)).setSkip(Requests.offset(q));
    b.addAllStates(JobRequests.states(q));
    String type = q.get("type");
    type = type != null && !type.isBlank() ? type : q.get("job_type");
    if (type != null && !type.isBlank()) {
      b.setType(type.strip());
    }
    String minReward = q.get("min_reward");
    if (minReward != null && !minReward.isBlank()) {
      b.setMinReward(minReward.strip());
    }
    return b.build();
  }

  /** A list of strings, empty when absent. */
  private static List<String> texts(JsonNode object, String field, String path) {
    JsonNode n = present(object, field);
    if (n == null) {
      return List.of();
    }
    if (!n.isArray()) {
      throw unprocessable(path + " must be a list of strings, not " + kind(n));
    }
    List<String> out = new ArrayList<>(n.size());
    for (int i = 0; i < n.size(); i++) {
      if (!n.get(i).isTextual()) {
        throw unprocessable(path + "[" + i + "] must be a string, not " + kind(n.get(i)));
      }
      out.add(n.get(i).textValue());
    }
    return out;
  }

  private static JsonNode object(HttpData body, String example) {
    JsonNode root = Requests.parse(body, example);
    if (!root.isObject()) {
      throw unprocessable("the body must be a JSON object such as " + example + ", not " + kind(root));
    }
    return root;
  }
}
