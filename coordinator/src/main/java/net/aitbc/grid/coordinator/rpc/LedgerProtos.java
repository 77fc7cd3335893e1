package net.aitbc.grid.coordinator.rpc;

import com.google.protobuf.ByteString;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.StoredBlock;
import net.aitbc.grid.coordinator.store.StoredReceipt;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.v1.Block;
import net.aitbc.grid.v1.Receipt;

/** The one mapping from stored receipts and blocks to protocol messages. */
final class LedgerProtos {
  private LedgerProtos() {}

  /** A receipt, a job's, a payment's or an execution's, signed (the signature is made now if it was not yet). */
  static Receipt receipt(StoredReceipt r, Ledger ledger) {
    Receipt.Builder b = Receipt.newBuilder()
        .setReceiptId(JobIds.format(r.receiptId()))
        .setClient(r.clientId())
        .setIssueTime(JobProtos.timestamp(r.createdAt()))
        .setReceiptJson(ledger.signed(r))
        .setLeafHash(ByteString.copyFrom(r.leafHash()));
    if (r.jobId() != null) {
      b.setJobId(JobIds.format(r.jobId()));
    }
    if (r.workerId() != null) {
      b.setProvider(r.workerId());
    }
    if (r.paymentId() != null) {
      b.setPaymentId(JobIds.format(r.paymentId()));
    }
    if (r.executionId() != null) {
      b.setExecutionId(JobIds.format(r.executionId()));
    }
    if (r.swarmTaskId() != null) {
      b.setSwarmTaskId(JobIds.format(r.swarmTaskId()));
    }
    // A payment's (released or refunded) and an execution's (how it ended): what the signed body says.
    b.setStatus(r.ofJob() ? "COMPLETED" : CanonicalJson.parse(r.body()).path("status").asText());
    if (r.blockHeight() != null) {
      b.setLeafIndex(r.leafIndex()).setBlockHeight(r.blockHeight());
    }
    return b.build();
  }

  static Block block(StoredBlock b) {
    return Block.newBuilder()
        .setHeight(b.height())
        .setHash(ByteString.copyFrom(b.hash()))
        .setPrevHash(ByteString.copyFrom(b.prevHash()))
        .setTreeSize(b.treeSize())
        .setRoot(ByteString.copyFrom(b.root()))
        .setCount(b.count())
        .setSealTime(JobProtos.timestamp(b.sealedAt()))
        .setKeyId(b.keyId())
        .setHeaderJson(b.header())
        .build();
  }
}
