package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.ACCOUNT;
import static net.aitbc.grid.db.Tables.PAYMENT;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.db.enums.AccountKind;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import net.aitbc.grid.db.enums.VoidReason;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.db.tables.records.PaymentRecord;

/**
 * The payments of a fault test against its jobs and the client's record, once every acknowledged
 * job is terminal ({@link Invariants#check} has waited for that, and checked the money invariants:
 * balances against deposits and transfers, each escrow posted or voided once). Here: every payment
 * the client was told of exists and ended released or refunded; a released one was paid, less the
 * fee, to the owner of the worker that completed its job; a completed job's payment was refunded
 * only at the client's request; a refund the client was told was done is refunded, one refused as
 * already released is released; each owner's balance is what its released payments earned.
 */
final class PaymentChecks {
  private static final Set<PaymentStatus> ENDED = EnumSet.of(PaymentStatus.released, PaymentStatus.refunded);

  private PaymentChecks() {}

  /** How many payments are in this status now. */
  static int count(Grid grid, PaymentStatus status) {
    return grid.query(db -> db.fetchCount(PAYMENT, PAYMENT.STATUS.eq(status)));
  }

  /**
   * What the checks found.
   *
   * @param payments payments in the database
   * @param released how many were released, by the owner paid
   * @param refunded how many were refunded, by reason
   * @param problems what is wrong, each naming its payment
   */
  record Verdict(int payments, Map<String, Integer> released, Map<VoidReason, Integer> refunded,
      List<String> problems) {
    /** The numbers, for the report. */
    String summary(PaymentClient client) {
      return "payments=" + payments + " released=" + released + " refunded=" + refunded + " refunds_acknowledged="
          + client.refunded().size() + " refunds_refused_as_released=" + client.refusedAsReleased().size()
          + " payment_call_retries=" + client.retries() + " payment_call_failures=" + client.failures()
          + " payment_problems=" + problems.size();
    }
  }

  /** Checks the payments; {@code ownerOf} names the owner of each worker id. */
  static Verdict check(Grid grid, Invariants.Verdict jobs, PaymentClient client, Function<String, String> ownerOf) {
    List<PaymentRecord> rows = grid.query(db -> db.selectFrom(PAYMENT).fetch());
    Map<String, PaymentRecord> byId = new HashMap<>();
    rows.forEach(p -> byId.put(JobIds.format(p.getPaymentId()), p));
    List<String> problems = new ArrayList<>();

    client.paid().forEach((jobId, paymentId) -> {
      PaymentRecord p = byId.get(paymentId);
      if (p == null) {
        problems.add("payment " + paymentId + " of job " + jobId + " was acknowledged but is not in the database");
      } else if (!JobIds.format(p.getJobId()).equals(jobId)) {
        problems.add("payment " + paymentId + " was acknowledged for job " + jobId + " but is for another");
      }
    });
    for (String id : client.refunded()) {
      PaymentRecord p = byId.get(id);
      if (p == null || p.getStatus() != PaymentStatus.refunded || p.getVoidReason() != VoidReason.refund) {
        problems.add("payment " + id + ": refund acknowledged, but it is " + describe(p));
      }
    }
    for (String id : client.refusedAsReleased()) {
      PaymentRecord p = byId.get(id);
      if (p == null || p.getStatus() != PaymentStatus.released) {
        problems.add("payment " + id + ": refund refused as already released, but it is " + describe(p));
      }
    }

    Map<String, Integer> released = new TreeMap<>();
    Map<VoidReason, Integer> refunded = new TreeMap<>();
    Map<String, BigDecimal> earned = new HashMap<>();
    for (PaymentRecord p : rows) {
      String what = "payment " + JobIds.format(p.getPaymentId()) + " (" + describe(p) + ")";
      JobRecord job = jobs.jobs().get(JobIds.format(p.getJobId()));
      if (job == null) {
        problems.add(what + ": its job is missing");
        continue;
      }
      if (!ENDED.contains(p.getStatus())) {
        problems.add(what + ": never released nor refunded; its job is " + job.getState());
        continue;
      }
      if (p.getStatus() == PaymentStatus.refunded) {
        refunded.merge(p.getVoidReason(), 1, Integer::sum);
        if (job.getState() == JobState.COMPLETED && p.getVoidReason() != VoidReason.refund) {
          problems.add(what + ": its job completed, but it was voided by " + p.getVoidReason());
        }
        continue;
      }
      String owner = ownerOf.apply(job.getWorkerId());
      released.merge(p.getWorkerOwnerId(), 1, Integer::sum);
      earned.merge(p.getWorkerOwnerId(), p.getAmount().subtract(p.getFeeAmount()), BigDecimal::add);
      if (job.getState() != JobState.COMPLETED) {
        problems.add(what + ": released, but its job is " + job.getState());
      } else if (!job.getWorkerId().equals(p.getWorkerId()) || !owner.equals(p.getWorkerOwnerId())) {
        problems.add(what + ": released to " + p.getWorkerOwnerId() + " for worker " + p.getWorkerId()
            + ", but " + job.getWorkerId() + " of " + owner + " completed its job (attempt " + job.getAttempt() + ")");
      }
    }
    var balances = grid.query(db -> db.select(ACCOUNT.OWNER_ID, ACCOUNT.BALANCE).from(ACCOUNT)
        .where(ACCOUNT.KIND.eq(AccountKind.worker_owner)).fetchMap(ACCOUNT.OWNER_ID, ACCOUNT.BALANCE));
    Set<String> owners = new HashSet<>(balances.keySet());
    owners.addAll(earned.keySet());
    for (String owner : owners) {
      BigDecimal has = balances.getOrDefault(owner, BigDecimal.ZERO);
      BigDecimal should = earned.getOrDefault(owner, BigDecimal.ZERO);
      if (has.compareTo(should) != 0) {
        problems.add("owner " + owner + " holds " + has.toPlainString() + ", its released payments earned "
            + should.toPlainString());
      }
    }
    return new Verdict(rows.size(), released, refunded, problems);
  }

  private static String describe(PaymentRecord p) {
    if (p == null) {
      return "not in the database";
    }
    return p.getStatus() + (p.getStatus() == PaymentStatus.refunded ? " by " + p.getVoidReason() : "")
        + (p.getStatus() == PaymentStatus.released ? " to " + p.getWorkerOwnerId() : "");
  }
}
