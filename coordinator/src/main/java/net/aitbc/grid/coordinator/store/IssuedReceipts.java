package net.aitbc.grid.coordinator.store;

import static net.aitbc.grid.db.Tables.EXECUTION;
import static net.aitbc.grid.db.Tables.SWARM_TASK;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;

/**
 * The receipts one transaction issues, gathered as it goes (a job's as it completes, a payment's as
 * it is released or refunded, an execution's as it ends) and stored together by {@link #store}, the
 * transaction's last step: the ledger's counter row is then locked after every other row the
 * transaction locks, and held only until the commit. Without a maker (no signing key) nothing is
 * issued.
 */
final class IssuedReceipts {
  private final @Nullable ReceiptMaker maker;
  private final List<NewReceipt> receipts = new ArrayList<>();

  IssuedReceipts(@Nullable ReceiptMaker maker) {
    this.maker = maker;
  }

  /** Adds a job's receipt, made by the caller. */
  void job(NewReceipt receipt) {
    receipts.add(receipt);
  }

  /**
   * Adds the receipts of payments that {@code tx} has just released or refunded, each naming its
   * job's receipt: one issued here, else one stored before (looked up only for the jobs not here).
   */
  void paymentsEnded(DSLContext tx, List<StoredPayment> ended) {
    ReceiptMaker m = maker;
    if (m == null || ended.isEmpty()) {
      return;
    }
    Map<UUID, UUID> jobReceipts = new HashMap<>();
    for (NewReceipt r : receipts) {
      if (r.paymentId() == null && r.jobId() != null) {
        jobReceipts.put(r.jobId(), r.receiptId());
      }
    }
    List<UUID> elsewhere = ended.stream().map(StoredPayment::jobId).filter(j -> !jobReceipts.containsKey(j))
        .distinct().toList();
    if (!elsewhere.isEmpty()) {
      jobReceipts.putAll(ReceiptStore.jobReceiptIds(tx, elsewhere));
    }
    for (StoredPayment p : ended) {
      receipts.add(m.payment(p, jobReceipts.get(p.jobId())));
    }
  }

  /** The receipt issued here (not stored yet) for a job's completion, or null. */
  @Nullable NewReceipt ofJob(UUID jobId) {
    for (NewReceipt r : receipts) {
      if (jobId.equals(r.jobId()) && r.paymentId() == null && r.executionId() == null) {
        return r;
      }
    }
    return null;
  }

  /**
   * Adds the receipt of an execution that {@code tx} has just ended (as stored), naming its step jobs'
   * receipts as they stand in {@code tx} (or as issued here, not stored yet), and names it on the
   * execution's row. Returns the execution with its receipt; unchanged without a maker.
   */
  StoredExecution executionEnded(DSLContext tx, StoredExecution ended) {
    ReceiptMaker m = maker;
    if (m == null) {
      return ended;
    }
    List<StepJobReceipt> jobs = new ArrayList<>();
    for (StepJobReceipt j : ReceiptStore.stepJobs(tx, ended.executionId())) {
      NewReceipt here = j.receiptId() == null ? ofJob(j.jobId()) : null;
      jobs.add(here == null ? j : new StepJobReceipt(j.jobId(), j.requestId(), j.state(), here.receiptId(),
          here.leafHash()));
    }
    NewReceipt r = m.execution(ended, jobs);
    tx.update(EXECUTION).set(EXECUTION.RECEIPT_ID, r.receiptId())
        .where(EXECUTION.EXECUTION_ID.eq(ended.executionId()))
        .execute();
    receipts.add(r);
    return ended.withReceipt(r.receiptId());
  }

  /**
   * Adds the receipt of a swarm task that {@code tx} has just ended (as stored), naming its member
   * jobs' receipts as they stand in {@code tx} (or as issued here, not stored yet), and names it on
   * the task's row. Returns the task with its receipt; unchanged without a maker.
   */
  StoredSwarmTask swarmTaskEnded(DSLContext tx, StoredSwarmTask ended) {
    ReceiptMaker m = maker;
    if (m == null) {
      return ended;
    }
    List<MemberJobReceipt> members = new ArrayList<>();
    for (MemberJobReceipt j : ReceiptStore.memberJobs(tx, ended.taskId())) {
      NewReceipt here = j.receiptId() == null ? ofJob(j.jobId()) : null;
      members.add(here == null ? j : new MemberJobReceipt(j.slot(), j.replacement(), j.jobId(), j.workerId(),
          j.state(), j.resultSha256(), j.vote(), here.receiptId(), here.leafHash()));
    }
    NewReceipt r = m.swarmTask(ended, members);
    tx.update(SWARM_TASK).set(SWARM_TASK.RECEIPT_ID, r.receiptId())
        .where(SWARM_TASK.TASK_ID.eq(ended.taskId()))
        .execute();
    receipts.add(r);
    return ended.withReceipt(r.receiptId());
  }

  /** Stores what was issued as the ledger's next leaves, in order: call it last, just before committing. */
  void store(DSLContext tx) {
    ReceiptStore.insert(tx, receipts);
    receipts.clear();
  }
}
