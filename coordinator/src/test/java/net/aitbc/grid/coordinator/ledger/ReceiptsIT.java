package net.aitbc.grid.coordinator.ledger;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.VerifyingKey;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import net.aitbc.grid.v1.ExplorerServiceGrpc.ExplorerServiceBlockingStub;
import net.aitbc.grid.v1.GetBlockRequest;
import net.aitbc.grid.v1.GetConsistencyProofRequest;
import net.aitbc.grid.v1.GetInclusionProofRequest;
import net.aitbc.grid.v1.GetInclusionProofResponse;
import net.aitbc.grid.v1.GetJobReceiptRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.GetReceiptRequest;
import net.aitbc.grid.v1.GetSyncStatusRequest;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.ListLeavesRequest;
import net.aitbc.grid.v1.ListReceiptsRequest;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.ReceiptServiceGrpc.ReceiptServiceBlockingStub;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.VerifyReceiptRequest;
import net.aitbc.grid.v1.WorkerCapabilities;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Receipts and the ledger over a real coordinator: each completed job's receipt is the contract's,
 * signed by the coordinator and countersigned by its worker, sealed into signed blocks with proofs
 * that verify; a worker with another key than its pinned one, or a completion it did not sign, is
 * refused.
 */
class ReceiptsIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static final VerifyingKey COORDINATOR = TestConfigs.SIGNING_KEY.verifyingKey();

  @Test
  void aCompletedJobHasTheContractsReceiptSignedByTheCoordinatorAndItsWorker() {
    JobServiceBlockingStub client = grid.client("receipt-client");
    String jobId = submit(client, "{\"type\":\"t-receipt\",\"prompt\":\"hi\",\"model\":\"m\"}");
    try (TestWorker w = TestWorker.connect(grid.coordinator().grpcPort(), grid.workerKey(), register("w-receipt",
        "t-receipt", 0.5))) {
      assertThat(w.registered().getSignOutcomes()).isTrue();
      complete(w, "{\"output\":\"hello\",\"n\":2.0}", "{\"duration_ms\":2500,\"output_tokens\":7}");
    }
    String json = client.getJobResult(GetJobResultRequest.newBuilder().setJobId(jobId).build()).getReceiptJson();
    ObjectNode receipt = (ObjectNode) CanonicalJson.parse(json);

    assertThat(Receipts.check(receipt, COORDINATOR)).isEmpty();
    assertThat(json).isEqualTo(CanonicalJson.write(receipt));
    assertThat(receipt.get("version").asText()).isEqualTo("1.0");
    assertThat(receipt.get("receipt_id").asText()).matches("[0-9a-f]{32}");
    assertThat(receipt.get("job_id").asText()).isEqualTo(jobId);
    assertThat(receipt.get("client").asText()).isEqualTo("receipt-client");
    assertThat(receipt.get("provider").asText()).isEqualTo("w-receipt");
    assertThat(receipt.get("status").asText()).isEqualTo("COMPLETED");
    assertThat(receipt.get("units").doubleValue()).isEqualTo(2.5);
    assertThat(receipt.get("unit_type").asText()).isEqualTo("gpu_seconds");
    assertThat(receipt.get("unit_price").doubleValue()).isEqualTo(0.5);
    assertThat(receipt.get("price").doubleValue()).isEqualTo(1.25);
    assertThat(receipt.get("started_at").isIntegralNumber()).isTrue();
    assertThat(receipt.get("completed_at").asLong()).isGreaterThanOrEqualTo(receipt.get("started_at").asLong());
    ObjectNode metadata = (ObjectNode) receipt.get("metadata");
    assertThat(metadata.get("job_payload").get("prompt").asText()).isEqualTo("hi");
    assertThat(metadata.get("result").get("n").isDouble()).isTrue();
    assertThat(metadata.get("metrics").get("output_tokens").asInt()).isEqualTo(7);
    assertThat(metadata.get("worker").get("key_id").asText())
        .isEqualTo(TestWorker.keyFor("w-receipt").keyId());
    assertThat(metadata.get("worker").get("statement").get("result_sha256").asText())
        .isEqualTo(CanonicalJson.sha256Hex(metadata.get("result")));

    // The same receipt on every path, signed once.
    Receipt viaJob = client.getJobReceipt(GetJobReceiptRequest.newBuilder().setJobId(jobId).build()).getReceipt();
    assertThat(viaJob.getReceiptJson()).isEqualTo(json);
    assertThat(viaJob.getClient()).isEqualTo("receipt-client");
    ReceiptServiceBlockingStub receipts = receipts(grid.clientKey("receipt-client"));
    assertThat(receipts.listReceipts(ListReceiptsRequest.newBuilder().setJobId(jobId).build()).getReceiptsList())
        .extracting(Receipt::getReceiptJson).containsExactly(json);
    assertThat(receipts.getReceipt(GetReceiptRequest.newBuilder().setLeafHash(viaJob.getLeafHash()).build())
        .getReceipt().getReceiptJson()).isEqualTo(json);
    assertThat(receipts.verifyReceipt(VerifyReceiptRequest.newBuilder().setReceiptJson(json).build()).getValid())
        .isTrue();
    String altered = json.replace("\"units\":2.5", "\"units\":25.0");
    assertThat(receipts.verifyReceipt(VerifyReceiptRequest.newBuilder().setReceiptJson(altered).build())
        .getProblemsList()).isNotEmpty();
  }

  @Test
  void anotherClientSeesNoReceiptAndAnUnfinishedJobHasNone() {
    JobServiceBlockingStub owner = grid.client("receipt-owner");
    JobServiceBlockingStub stranger = grid.client("receipt-stranger");
    String queued = submit(owner, "{\"type\":\"t-unfinished\"}");
    assertThatThrownBy(() -> owner.getJobReceipt(GetJobReceiptRequest.newBuilder().setJobId(queued).build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND))
        .hasMessageContaining("receipt not available");
    String done = submit(owner, "{\"type\":\"t-owned\"}");
    try (TestWorker w = grid.worker("w-owned", "t-owned")) {
      complete(w, "{}", "{}");
    }
    assertThat(owner.getJobReceipt(GetJobReceiptRequest.newBuilder().setJobId(done).build()).hasReceipt()).isTrue();
    assertThatThrownBy(() -> stranger.getJobReceipt(GetJobReceiptRequest.newBuilder().setJobId(done).build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
    ReceiptServiceBlockingStub strangerReceipts = receipts(grid.clientKey("receipt-stranger"));
    assertThat(strangerReceipts.listReceipts(ListReceiptsRequest.newBuilder().setJobId(done).build())
        .getReceiptsCount()).isZero();
    // Blocks reveal no content: a worker key reads them too.
    await().atMost(Duration.ofSeconds(10)).until(() -> explorer(grid.workerKey())
        .getSyncStatus(GetSyncStatusRequest.getDefaultInstance()).getUnsealed() == 0);
  }

  @Test
  void receiptsAreSealedIntoSignedBlocksWithProofsThatVerify() {
    JobServiceBlockingStub client = grid.client("sealed-client");
    List<String> jobs = new ArrayList<>();
    try (TestWorker w = grid.worker("w-sealed", "t-sealed")) {
      for (int i = 0; i < 25; i++) {
        jobs.add(submit(client, "{\"type\":\"t-sealed\",\"i\":" + i + "}"));
        complete(w, "{\"i\":" + i + "}", "{}");
      }
    }
    ExplorerServiceBlockingStub explorer = explorer(grid.clientKey("sealed-client"));
    await().atMost(Duration.ofSeconds(10))
        .until(() -> explorer.getSyncStatus(GetSyncStatusRequest.getDefaultInstance()).getUnsealed() == 0);
    var status = explorer.getSyncStatus(GetSyncStatusRequest.getDefaultInstance());
    assertThat(status.getKeyId()).isEqualTo(COORDINATOR.keyId());
    var head = explorer.getBlock(GetBlockRequest.newBuilder().setHeight(status.getHeight()).build()).getBlock();
    ObjectNode header = (ObjectNode) CanonicalJson.parse(head.getHeaderJson());
    assertThat(Blocks.check(header, COORDINATOR)).isEmpty();
    assertThat(head.getHash().toByteArray()).isEqualTo(Blocks.hash(header));
    assertThat(head.getTreeSize()).isEqualTo(status.getTreeSize());

    ReceiptServiceBlockingStub receipts = receipts(grid.clientKey("sealed-client"));
    for (String job : jobs) {
      Receipt r = client.getJobReceipt(GetJobReceiptRequest.newBuilder().setJobId(job).build()).getReceipt();
      GetInclusionProofResponse proof = receipts.getInclusionProof(GetInclusionProofRequest.newBuilder()
          .setReceiptId(r.getReceiptId()).build());
      assertThat(proof.getTreeSize()).isEqualTo(head.getTreeSize());
      byte[] leaf = Receipts.leafHash((ObjectNode) CanonicalJson.parse(r.getReceiptJson()));
      assertThat(leaf).isEqualTo(r.getLeafHash().toByteArray());
      assertThat(Merkle.verifyInclusion(proof.getLeafIndex(), proof.getTreeSize(), leaf,
          proof.getHashesList().stream().map(ByteString::toByteArray).toList(), head.getRoot().toByteArray())).isTrue();
    }
    // Every earlier block's tree is a prefix of the head's.
    for (long h = 1; h < head.getHeight(); h++) {
      var block = explorer.getBlock(GetBlockRequest.newBuilder().setHeight(h).build()).getBlock();
      var consistency = explorer.getConsistencyProof(GetConsistencyProofRequest.newBuilder()
          .setFirstSize(block.getTreeSize()).setSecondSize(head.getTreeSize()).build());
      assertThat(Merkle.verifyConsistency(block.getTreeSize(), head.getTreeSize(), block.getRoot().toByteArray(),
          head.getRoot().toByteArray(), consistency.getHashesList().stream().map(ByteString::toByteArray).toList()))
          .as("consistency of block %d with the head", h).isTrue();
    }
    // Leaves are dense, each one receipt, as stored.
    var leaves = explorer.listLeaves(ListLeavesRequest.newBuilder().setPageSize(10_000).build()).getLeavesList();
    assertThat(leaves).hasSize((int) head.getTreeSize());
    for (int i = 0; i < leaves.size(); i++) {
      assertThat(leaves.get(i).getIndex()).isEqualTo(i);
      assertThat(leaves.get(i).getEntryHash()).isEqualTo(leaves.get(i).getLeafHash());
    }
    int completed = grid.query(db -> db.fetchCount(JOB, JOB.STATE.eq(JobState.COMPLETED)));
    int receiptRows = grid.query(db -> db.fetchCount(RECEIPT));
    assertThat(receiptRows).isEqualTo(completed).isEqualTo((int) head.getTreeSize());
  }

  @Test
  void aWorkerWithAnotherKeyThanItsPinnedOneIsRefused() {
    try (TestWorker first = grid.worker("w-pinned", "t-pinned")) {
      assertThat(first.registered().getSignOutcomes()).isTrue();
    }
    TestWorker impostor = TestWorker.open(grid.coordinator().grpcPort(), grid.workerKey());
    impostor.send(ConnectRequest.newBuilder().setRegister(register("w-pinned", "t-pinned", 0).toBuilder()
        .setPublicKey(ByteString.copyFrom(TestWorker.keyFor("someone else").verifyingKey().raw()))).build());
    Status status = impostor.closed().join();
    assertThat(status.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(status.getDescription()).contains("w-pinned is pinned to public key");
    impostor.close();

    TestWorker keyless = TestWorker.open(grid.coordinator().grpcPort(), grid.workerKey());
    keyless.send(ConnectRequest.newBuilder().setRegister(register("w-keyless", "t-pinned", 0)).build());
    assertThat(keyless.closed().join().getDescription()).contains("public_key is required");
    keyless.close();
  }

  @Test
  void aCompletionSignedWithAnotherKeyOrNotAtAllFailsItsAttempt() {
    JobServiceBlockingStub client = grid.client("forged-client");
    String jobId = submit(client, "{\"type\":\"t-forged\"}");
    try (TestWorker w = grid.worker("w-forged", "t-forged")) {
      w.credit(1);
      Assignment a = w.nextAssignment();
      w.send(ConnectRequest.newBuilder().setCompleted(JobCompleted.newBuilder().setJobId(a.getJobId())
          .setAttempt(a.getAttempt()).setResultJson("{\"forged\":true}").setMetricsJson("{}")
          .setAttestation(TestWorker.attestation(TestWorker.keyFor("not w-forged"), "w-forged", a.getJobId(),
              a.getAttempt(), "{\"forged\":true}", "{}"))).build());
      assertThat(ack(w).getOutcomeAck().getAccepted()).isTrue();
      w.credit(1);
      Assignment second = w.nextAssignment();
      assertThat(second.getAttempt()).isEqualTo(a.getAttempt() + 1);
      w.send(ConnectRequest.newBuilder().setCompleted(JobCompleted.newBuilder().setJobId(second.getJobId())
          .setAttempt(second.getAttempt()).setResultJson("{\"unsigned\":true}")).build());
      ack(w);
      var job = client.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob();
      assertThat(job.getAttemptsList()).extracting(at -> at.getError())
          .anySatisfy(e -> assertThat(e).contains("signed its outcome with a key other than its pinned one"))
          .anySatisfy(e -> assertThat(e).contains("without its signature"));
      w.credit(1);
      Assignment third = w.nextAssignment();
      w.complete(third.getJobId(), third.getAttempt(), "{\"honest\":true}");
      ack(w);
    }
    ObjectNode receipt = (ObjectNode) CanonicalJson.parse(client.getJobResult(GetJobResultRequest.newBuilder()
        .setJobId(jobId).build()).getReceiptJson());
    assertThat(receipt.get("metadata").get("result").get("honest").asBoolean()).isTrue();
    assertThat(Receipts.check(receipt, COORDINATOR)).isEmpty();
  }

  @Test
  void anAdminReadsEveryReceiptAClientOnlyItsOwn() {
    JobServiceBlockingStub client = grid.client("listed-client");
    String jobId = submit(client, "{\"type\":\"t-listed\"}");
    try (TestWorker w = grid.worker("w-listed", "t-listed")) {
      complete(w, "{}", "{}");
    }
    ReceiptServiceBlockingStub admin = receipts(grid.coordinator().createKey(Role.ADMIN, "ops"));
    assertThat(admin.listReceipts(ListReceiptsRequest.newBuilder().setJobId(jobId).build()).getReceiptsCount())
        .isEqualTo(1);
    assertThatThrownBy(() -> receipts(grid.workerKey()).listReceipts(ListReceiptsRequest.getDefaultInstance()))
        .isInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    assertThatThrownBy(() -> admin.listReceipts(ListReceiptsRequest.newBuilder().setPageSize(201).build()))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  private static ConnectResponse ack(TestWorker w) {
    ConnectResponse r;
    do {
      r = w.next();
    } while (!r.hasOutcomeAck());
    return r;
  }

  private static void complete(TestWorker w, String result, String metrics) {
    w.credit(1);
    Assignment a = w.nextAssignment();
    w.complete(a.getJobId(), a.getAttempt(), result, metrics);
    assertThat(ack(w).getOutcomeAck().getAccepted()).isTrue();
  }

  private static String submit(JobServiceBlockingStub client, String payload) {
    return client.createJob(CreateJobRequest.newBuilder().setPayloadJson(payload).build()).getJob().getJobId();
  }

  private static Register register(String workerId, String type, double price) {
    return Register.newBuilder().setWorkerId(workerId).setVersion("test")
        .setCapabilities(WorkerCapabilities.newBuilder().addJobTypes(type).addModels("m").setConcurrency(1)
            .setPrice(price)).build();
  }

  private static ReceiptServiceBlockingStub receipts(String key) {
    return GrpcClients.withKey(ReceiptServiceGrpc.newBlockingStub(grid.channel()), key);
  }

  private static ExplorerServiceBlockingStub explorer(String key) {
    return GrpcClients.withKey(ExplorerServiceGrpc.newBlockingStub(grid.channel()), key);
  }
}
