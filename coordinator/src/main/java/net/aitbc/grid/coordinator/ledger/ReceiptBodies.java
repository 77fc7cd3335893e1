package net.aitbc.grid.coordinator.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.CompletedJob;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.NewReceipt;
import net.aitbc.grid.coordinator.store.ReceiptMaker;
import net.aitbc.grid.coordinator.store.Requirements;
import net.aitbc.grid.coordinator.store.StepJobReceipt;
import net.aitbc.grid.coordinator.store.StoredExecution;
import net.aitbc.grid.coordinator.store.StoredSwarmTask;
import net.aitbc.grid.coordinator.store.MemberJobReceipt;
import net.aitbc.grid.coordinator.store.StoredPayment;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.PaymentReceipts;
import org.jspecify.annotations.Nullable;

/**
 * The receipts the coordinator issues. A completed job's is the contract's (§6): units are what the
 * worker measured, its {@code units} (with {@code unit_type}) when it reports them, else its run
 * time in seconds ({@code duration_ms / 1000}, the coordinator's own measure when the worker sent
 * none), as {@code gpu_seconds}. The unit price is the one the worker advertised; the price is
 * {@code units × unit_price}, exact, rounded half-even to 6 decimals. Amounts are computed as
 * decimals and written as JSON floats, as the contract's canonical form has them. An ended
 * payment's is {@link PaymentReceipts}' form: its amounts exact, as decimal strings; an ended
 * execution's is {@link ExecutionBodies}'.
 */
public final class ReceiptBodies implements ReceiptMaker {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** The provider a cache hit's receipt names: the coordinator's result cache, not a worker. */
  public static final String CACHE_PROVIDER = "result-cache";

  private final JobIds ids = new JobIds();

  @Override
  public NewReceipt receipt(CompletedJob job) {
    // Time-ordered like job ids: receipts are looked up by id, and that index then grows at its edge.
    UUID receiptId = ids.next();
    ObjectNode metrics = metrics(job.metricsJson());
    if (!metrics.path("duration_ms").isNumber()) {
      OffsetDateTime start = job.startedAt() != null ? job.startedAt() : job.createdAt();
      metrics.put("duration_ms", Math.max(0, Duration.between(start, job.finishedAt()).toMillis()));
    }
    BigDecimal units;
    String unitType;
    if (metrics.path("units").isNumber() && metrics.get("units").decimalValue().signum() >= 0) {
      units = metrics.get("units").decimalValue();
      unitType = metrics.path("unit_type").isTextual() ? metrics.get("unit_type").asText() : "gpu_seconds";
    } else {
      units = metrics.get("duration_ms").decimalValue().movePointLeft(3);
      unitType = "gpu_seconds";
    }
    BigDecimal unitPrice = job.countersigned().unitPrice();
    BigDecimal price = price(units, unitPrice);

    ObjectNode metadata = JSON.objectNode();
    metadata.set("job_payload", CanonicalJson.parse(job.payloadJson()));
    metadata.set("job_constraints", constraints(job.requirements()));
    metadata.set("result", CanonicalJson.fragment(job.countersigned().result()));
    metadata.set("metrics", metrics);
    String worker = job.countersigned().worker();
    // A REST miner signs nothing: its receipts have no worker attestation (canonical JSON has no nulls).
    if (worker != null) {
      metadata.set("worker", CanonicalJson.fragment(worker));
    }

    ObjectNode body = JSON.objectNode();
    body.put("version", "1.0");
    body.put("receipt_id", JobIds.format(receiptId));
    body.put("job_id", JobIds.format(job.jobId()));
    body.put("provider", job.workerId());
    body.put("client", job.clientId());
    body.put("status", "COMPLETED");
    body.put("units", units.doubleValue());
    body.put("unit_type", unitType);
    body.put("unit_price", unitPrice.doubleValue());
    body.put("price", price.doubleValue());
    body.put("started_at", job.createdAt().toEpochSecond());
    body.put("completed_at", job.finishedAt().toEpochSecond());
    body.set("metadata", metadata);

    byte[] bytes = CanonicalJson.bytes(body);
    return new NewReceipt(receiptId, job.jobId(), job.clientId(), job.workerId(), null,
        new String(bytes, StandardCharsets.US_ASCII), Merkle.leafHash(bytes), job.finishedAt(), price, null);
  }

  /**
   * A cache hit's receipt: the contract's fields, with no units and no price, {@code provider}
   * {@value #CACHE_PROVIDER} (no worker ran it, so there is no {@code metadata.worker}), and
   * {@code "cache_hit": true}, a field of its own that receipts of jobs that ran do not have, so their
   * signed bytes (and the contract's test vector) are unchanged. Its metrics name the job whose
   * result it reuses.
   */
  @Override
  public NewReceipt cacheHit(NewJob job, OffsetDateTime at, String resultJson, UUID sourceJobId) {
    UUID receiptId = ids.next();
    ObjectNode metrics = JSON.objectNode();
    metrics.put("cache_hit", true);
    metrics.put("duration_ms", 0);
    metrics.put("source_job_id", JobIds.format(sourceJobId));
    ObjectNode metadata = JSON.objectNode();
    metadata.set("job_payload", CanonicalJson.parse(job.payloadJson()));
    metadata.set("job_constraints", constraints(job.requirements()));
    metadata.set("result", CanonicalJson.parse(resultJson));
    metadata.set("metrics", metrics);

    ObjectNode body = JSON.objectNode();
    body.put("version", "1.0");
    body.put("receipt_id", JobIds.format(receiptId));
    body.put("job_id", JobIds.format(job.jobId()));
    body.put("provider", CACHE_PROVIDER);
    body.put("client", job.clientId());
    body.put("status", "COMPLETED");
    body.put("cache_hit", true);
    body.put("units", 0.0);
    body.put("unit_type", "gpu_seconds");
    body.put("unit_price", 0.0);
    body.put("price", 0.0);
    body.put("started_at", at.toEpochSecond());
    body.put("completed_at", at.toEpochSecond());
    body.set("metadata", metadata);

    byte[] bytes = CanonicalJson.bytes(body);
    return new NewReceipt(receiptId, job.jobId(), job.clientId(), null, null,
        new String(bytes, StandardCharsets.US_ASCII), Merkle.leafHash(bytes), at, BigDecimal.ZERO.setScale(6), null);
  }

  /**
   * A receipt's price: {@code units × unitPrice}, exact, rounded half-even to 6 decimals. The receipt
   * stores it beside its body, and what a job cost its workflow execution is read from there.
   */
  private static BigDecimal price(BigDecimal units, BigDecimal unitPrice) {
    return units.multiply(unitPrice).setScale(6, RoundingMode.HALF_EVEN);
  }

  @Override
  public NewReceipt payment(StoredPayment p, @Nullable UUID jobReceiptId) {
    UUID receiptId = ids.next();
    boolean released = p.status() == PaymentStatus.released;
    OffsetDateTime settledAt = released ? p.releasedAt() : p.refundedAt();
    UUID transferId = p.settlementTransferId();
    if (settledAt == null || transferId == null) {
      throw new IllegalArgumentException("payment " + p.paymentId() + " is " + p.status().getLiteral()
          + ": only a released or refunded one has a receipt");
    }
    ObjectNode body = JSON.objectNode();
    body.put("version", "1.0");
    body.put("type", PaymentReceipts.TYPE);
    body.put("receipt_id", JobIds.format(receiptId));
    body.put("payment_id", JobIds.format(p.paymentId()));
    body.put("job_id", JobIds.format(p.jobId()));
    if (jobReceiptId != null) {
      body.put("job_receipt_id", JobIds.format(jobReceiptId));
    }
    body.put("client", p.clientId());
    body.put("status", p.status().getLiteral());
    body.put("currency", p.currency().getLiteral());
    body.put("amount", PaymentReceipts.amount(p.amount()));
    BigDecimal fee = released && p.feeAmount() != null ? p.feeAmount() : BigDecimal.ZERO;
    body.put("fee", PaymentReceipts.amount(fee));
    if (released) {
      body.put("worker_owner", p.workerOwnerId());
      body.put("provider", p.workerId());
    } else {
      body.put("void_reason", p.voidReason() == null ? null : p.voidReason().getLiteral());
    }
    body.put("transfer_id", JobIds.format(transferId));
    body.put("settled_at", settledAt.toEpochSecond());

    byte[] bytes = CanonicalJson.bytes(body);
    return new NewReceipt(receiptId, p.jobId(), p.clientId(), released ? p.workerId() : null, p.paymentId(),
        new String(bytes, StandardCharsets.US_ASCII), Merkle.leafHash(bytes), settledAt, null, null);
  }

  @Override
  public NewReceipt execution(StoredExecution ended, List<StepJobReceipt> jobs) {
    return ExecutionBodies.receipt(ids.next(), ended, jobs);
  }

  @Override
  public NewReceipt swarmTask(StoredSwarmTask ended, List<MemberJobReceipt> jobs) {
    return SwarmBodies.receipt(ids.next(), ended, jobs);
  }

  /**
   * The recorded metrics: the worker's with the coordinator's times appended as text, so a key may
   * appear twice, and the last wins (as in the jsonb column).
   */
  private static ObjectNode metrics(String json) {
    try {
      return MAPPER.readTree(json) instanceof ObjectNode o ? o : JSON.objectNode();
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("recorded metrics are not JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** The job's constraints as the contract's Constraints model names them. */
  private static ObjectNode constraints(Requirements r) {
    ObjectNode c = JSON.objectNode();
    c.put("gpu", r.gpu());
    if (r.cuda() != null) {
      c.put("cuda", r.cuda() / 100 + "." + r.cuda() % 100);
    }
    if (r.minVramMb() != null) {
      c.put("min_vram_gb", r.minVramMb() / 1024);
    }
    if (!r.models().isEmpty()) {
      r.models().forEach(c.putArray("models")::add);
    }
    c.put("region", r.region());
    c.put("max_price", r.maxPrice());
    return c;
  }
}
