package net.aitbc.grid.coordinator.testing;

import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.LEDGER_ISSUED;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.jooq.impl.DSL.count;
import static org.jooq.impl.DSL.max;
import static org.jooq.impl.DSL.min;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.tables.records.ExecutionRecord;
import net.aitbc.grid.db.tables.records.ReceiptRecord;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.ExecutionReceipts;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.PaymentReceipts;
import org.jooq.DSLContext;

/**
 * The receipt invariants of workflow executions (the coordinators under test sign): every ended
 * execution has exactly one receipt, named on its row, that says how it ended and what it cost and
 * lists exactly its step jobs, each job receipt it names stored with that leaf hash; an unfinished
 * one has none; every execution receipt is an execution's; and the ledger's leaves stay dense. Each
 * holds at any moment: a receipt is written in the transaction that ends its execution.
 */
public final class ExecutionInvariants {
  private ExecutionInvariants() {}

  /** Checks them all as of now. */
  public static void check(DSLContext dsl) {
    // One statement: the executions and their receipts as of one snapshot.
    Map<UUID, ExecutionRecord> executions = new HashMap<>();
    Map<UUID, List<ReceiptRecord>> receipts = new HashMap<>();
    dsl.select(EXECUTION.fields()).select(RECEIPT.fields()).from(EXECUTION)
        .leftJoin(RECEIPT).on(RECEIPT.EXECUTION_ID.eq(EXECUTION.EXECUTION_ID))
        .fetch().forEach(r -> {
          ExecutionRecord e = r.into(EXECUTION);
          executions.put(e.getExecutionId(), e);
          List<ReceiptRecord> mine = receipts.computeIfAbsent(e.getExecutionId(), k -> new ArrayList<>());
          if (r.get(RECEIPT.RECEIPT_ID) != null) {
            mine.add(r.into(RECEIPT));
          }
        });
    for (ExecutionRecord e : executions.values()) {
      checkExecution(dsl, e, receipts.get(e.getExecutionId()));
    }
    // Receipts naming an execution are that execution's, and an execution's names no job.
    dsl.selectFrom(RECEIPT).where(RECEIPT.EXECUTION_ID.isNotNull()).fetch().forEach(r -> {
      assertThat(r.getJobId()).as("execution receipt %s: job", r.getReceiptId()).isNull();
      assertThat(r.getPaymentId()).as("execution receipt %s: payment", r.getReceiptId()).isNull();
      assertThat(CanonicalJson.parse(r.getBody()).path("type").asText()).as("receipt %s: type", r.getReceiptId())
          .isEqualTo(ExecutionReceipts.TYPE);
    });
    // Leaves are dense: indexes 0 to n-1 (the primary key makes them distinct), n as issued.
    var leaves = dsl.select(count(), min(RECEIPT.LEAF_IDX), max(RECEIPT.LEAF_IDX)).from(RECEIPT).fetchSingle();
    long issued = dsl.select(LEDGER_ISSUED.LEAVES).from(LEDGER_ISSUED).fetchSingle().value1();
    assertThat(issued).as("leaves issued against receipts stored").isEqualTo(leaves.value1().longValue());
    if (issued > 0) {
      assertThat(List.of(leaves.value2(), leaves.value3())).as("first and last leaf index")
          .containsExactly(0L, issued - 1);
    }
  }

  private static void checkExecution(DSLContext dsl, ExecutionRecord e, List<ReceiptRecord> rs) {
    String what = "execution " + JobIds.format(e.getExecutionId()) + " (" + e.getStatus() + ")";
    if (e.getStatus() == ExecutionStatus.pending || e.getStatus() == ExecutionStatus.running) {
      assertThat(rs).as("%s: receipts", what).isEmpty();
      assertThat(e.getReceiptId()).as("%s: receipt_id", what).isNull();
      return;
    }
    assertThat(rs).as("%s: receipts", what).hasSize(1);
    ReceiptRecord r = rs.getFirst();
    assertThat(e.getReceiptId()).as("%s: receipt_id", what).isEqualTo(r.getReceiptId());
    assertThat(r.getClientId()).as("%s: receipt's client", what).isEqualTo(e.getClientId());
    JsonNode body = CanonicalJson.parse(r.getBody());
    assertThat(body.path("type").asText()).as("%s: type", what).isEqualTo(ExecutionReceipts.TYPE);
    assertThat(body.path("execution_id").asText()).as("%s: execution_id", what)
        .isEqualTo(JobIds.format(e.getExecutionId()));
    assertThat(body.path("workflow_id").asText()).as("%s: workflow_id", what)
        .isEqualTo(JobIds.format(e.getWorkflowId()));
    assertThat(body.path("status").asText()).as("%s: status", what).isEqualTo(e.getStatus().getLiteral());
    assertThat(body.path("total_cost").asText()).as("%s: total_cost", what)
        .isEqualTo(PaymentReceipts.amount(e.getTotalCost()));
    assertThat(body.path("completed_at").asLong()).as("%s: completed_at", what)
        .isEqualTo(e.getEndedAt().toEpochSecond());

    Set<String> jobs = new HashSet<>(dsl.select(JOB.JOB_ID).from(JOB).where(JOB.EXECUTION_ID.eq(e.getExecutionId()))
        .fetch(j -> JobIds.format(j.value1())));
    List<String> listed = new ArrayList<>();
    for (JsonNode step : body.path("steps")) {
      listed.add(step.path("job_id").asText());
      if (step.has("receipt_id")) {
        UUID id = JobIds.parse(step.path("receipt_id").asText()).orElseThrow();
        ReceiptRecord named = dsl.selectFrom(RECEIPT).where(RECEIPT.RECEIPT_ID.eq(id)).fetchOne();
        assertThat(named).as("%s: job receipt %s", what, id).isNotNull();
        assertThat(JobIds.format(named.getJobId())).as("%s: job of receipt %s", what, id)
            .isEqualTo(step.path("job_id").asText());
        assertThat(Hex.encode(named.getLeafHash())).as("%s: leaf hash of receipt %s", what, id)
            .isEqualTo(step.path("leaf_hash").asText());
      }
    }
    assertThat(listed).as("%s: the step jobs its receipt lists", what).doesNotHaveDuplicates()
        .containsExactlyInAnyOrderElementsOf(jobs);
  }
}
