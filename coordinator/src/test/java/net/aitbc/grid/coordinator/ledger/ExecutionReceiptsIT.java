package net.aitbc.grid.coordinator.ledger;

import static net.aitbc.grid.coordinator.testing.Workflows.ended;
import static net.aitbc.grid.coordinator.testing.Workflows.execute;
import static net.aitbc.grid.coordinator.testing.Workflows.get;
import static net.aitbc.grid.coordinator.testing.Workflows.json;
import static net.aitbc.grid.coordinator.testing.Workflows.parse;
import static net.aitbc.grid.db.Tables.EXECUTION_WAKEUP;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.ExecutionInvariants;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Fail;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Hold;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Reply;
import net.aitbc.grid.coordinator.testing.TestConfigs;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.VerifyingKey;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelExecutionRequest;
import net.aitbc.grid.v1.CreateWorkflowRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.ExecutionStatus;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import net.aitbc.grid.v1.GetBlockRequest;
import net.aitbc.grid.v1.GetExecutionReceiptRequest;
import net.aitbc.grid.v1.GetInclusionProofRequest;
import net.aitbc.grid.v1.GetInclusionProofResponse;
import net.aitbc.grid.v1.GetJobReceiptRequest;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.ListReceiptsRequest;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.ReceiptServiceGrpc.ReceiptServiceBlockingStub;
import net.aitbc.grid.v1.VerificationLevel;
import net.aitbc.grid.v1.VerifyReceiptRequest;
import net.aitbc.grid.v1.VerifyReceiptResponse;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Executions' receipts over a real coordinator: an execution that ends (completed, failed or
 * cancelled) gets one receipt, signed by the coordinator's key (checked here with the JDK's Ed25519
 * and the public key alone), naming each step job's receipt by its leaf hash, sealed into a signed
 * block with an inclusion proof that verifies; nothing issues a second one.
 */
class ExecutionReceiptsIT {
  @RegisterExtension
  static final GridFixture grid = new GridFixture();

  private static final VerifyingKey COORDINATOR = TestConfigs.SIGNING_KEY.verifyingKey();
  /** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), before the 32 raw key bytes. */
  private static final byte[] ED25519_SPKI = HexFormat.of().parseHex("302a300506032b6570032100");
  /** Metrics whose receipt price is 10 × the default unit price 0.02 = 0.2. */
  private static final String UNITS = "{\"units\":10,\"unit_type\":\"tokens\"}";

  private WorkflowServiceBlockingStub workflows;
  private JobServiceBlockingStub jobs;
  private ReceiptServiceBlockingStub receipts;

  private void as(String client) {
    String key = grid.clientKey(client);
    workflows = Workflows.client(grid, key);
    jobs = grid.clientWithKey(key);
    receipts = GrpcClients.withKey(ReceiptServiceGrpc.newBlockingStub(grid.channel()), key);
  }

  @AfterEach
  void everyEndedExecutionHasExactlyOneReceipt() {
    grid.query(dsl -> {
      ExecutionInvariants.check(dsl);
      return null;
    });
  }

  static Reply echo(Assignment a) {
    String prompt = parse(a.getPayloadJson()).path("prompt").asText();
    return new Complete(JsonNodeFactory.instance.objectNode().put("output", prompt + "!").toString(), UNITS);
  }

  private String workflow(String name, String definition, VerificationLevel level) {
    return workflows.createWorkflow(CreateWorkflowRequest.newBuilder().setName(name).setDefinitionJson(json(definition))
        .setVerificationLevel(level).build()).getWorkflow().getWorkflowId();
  }

  private Receipt receiptOf(String executionId) {
    return workflows.getExecutionReceipt(GetExecutionReceiptRequest.newBuilder().setExecutionId(executionId).build())
        .getReceipt();
  }

  @Test
  void aCompletedExecutionsReceiptNamesEveryStepJobsReceiptByLeafHashAndIsProvedInABlock() throws Exception {
    as("exr-done");
    Execution e;
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-exr-done", 4, ExecutionReceiptsIT::echo, "t-exr-done")) {
      String wf = workflow("done", """
          {'inputs': {'items': ['x', 'y']},
           'steps': {'draft': {'type': 't-exr-done', 'payload': {'prompt': 'hi'}},
                     'each': {'type': 't-exr-done', 'for_each': '{{inputs.items}}',
                              'payload': {'prompt': '{{steps.draft.result.output}}{{item}}'}}},
           'output': {'all': '{{steps.each.result}}'}}""", VerificationLevel.VERIFICATION_LEVEL_FULL);
      e = ended(workflows, execute(workflows, wf, "{}"));
    }
    assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_COMPLETED);
    Receipt r = receiptOf(e.getExecutionId());
    ObjectNode receipt = (ObjectNode) CanonicalJson.parse(r.getReceiptJson());

    // The coordinator's signature, checked with the JDK and the public key alone.
    assertThat(verifiesWithJdk(receipt)).isTrue();
    assertThat(Receipts.check(receipt, COORDINATOR)).isEmpty();
    assertThat(e.getReceiptId()).isEqualTo(r.getReceiptId()).isEqualTo(receipt.get("receipt_id").asText());
    assertThat(r.getExecutionId()).isEqualTo(e.getExecutionId());
    assertThat(r.getJobId()).isEmpty();
    assertThat(r.getStatus()).isEqualTo("completed");
    assertThat(receipt.get("type").asText()).isEqualTo("execution");
    assertThat(receipt.get("execution_id").asText()).isEqualTo(e.getExecutionId());
    assertThat(receipt.get("workflow_id").asText()).isEqualTo(e.getWorkflowId());
    assertThat(receipt.get("client").asText()).isEqualTo("exr-done");
    assertThat(receipt.get("status").asText()).isEqualTo("completed");
    assertThat(receipt.get("verification_level").asText()).isEqualTo("full");
    assertThat(receipt.get("total_cost").asText()).isEqualTo("0.60000000");
    assertThat(receipt.get("started_at").asLong()).isEqualTo(e.getCreateTime().getSeconds());
    assertThat(receipt.get("completed_at").asLong()).isEqualTo(e.getEndTime().getSeconds());
    assertThat(receipt.get("result_sha256").asText())
        .isEqualTo(CanonicalJson.sha256Hex(CanonicalJson.parse(e.getFinalResultJson())));
    assertThat(receipt.has("error")).isFalse();

    // Every step job, in step then item order, named with its own receipt's id and leaf hash.
    List<String> stepJobs = new ArrayList<>();
    e.getStepsList().forEach(s -> stepJobs.addAll(s.getJobIdsList()));
    JsonNode steps = receipt.get("steps");
    assertThat(steps).extracting(s -> s.get("step").asText() + "#" + s.get("item").asInt())
        .containsExactly("draft#0", "each#0", "each#1");
    assertThat(steps).extracting(s -> s.get("job_id").asText()).containsExactlyElementsOf(stepJobs);
    for (JsonNode step : steps) {
      Receipt job = jobs.getJobReceipt(GetJobReceiptRequest.newBuilder().setJobId(step.get("job_id").asText())
          .build()).getReceipt();
      assertThat(step.get("state").asText()).isEqualTo("COMPLETED");
      assertThat(step.get("receipt_id").asText()).isEqualTo(job.getReceiptId());
      assertThat(step.get("leaf_hash").asText()).isEqualTo(Hex.encode(job.getLeafHash().toByteArray()))
          .isEqualTo(Hex.encode(Receipts.leafHash((ObjectNode) CanonicalJson.parse(job.getReceiptJson()))));
    }

    // Sealed like any receipt, with a proof against the signed block that verifies.
    await().atMost(Duration.ofSeconds(10)).until(() -> receiptOf(e.getExecutionId()).hasBlockHeight());
    GetInclusionProofResponse proof = receipts.getInclusionProof(GetInclusionProofRequest.newBuilder()
        .setReceiptId(r.getReceiptId()).build());
    var block = GrpcClients.withKey(ExplorerServiceGrpc.newBlockingStub(grid.channel()), grid.workerKey())
        .getBlock(GetBlockRequest.newBuilder().setHeight(proof.getBlockHeight()).build()).getBlock();
    ObjectNode header = (ObjectNode) CanonicalJson.parse(block.getHeaderJson());
    assertThat(Blocks.check(header, COORDINATOR)).isEmpty();
    byte[] leaf = Receipts.leafHash(receipt);
    assertThat(leaf).isEqualTo(r.getLeafHash().toByteArray()).isEqualTo(proof.getLeafHash().toByteArray());
    assertThat(Merkle.verifyInclusion(proof.getLeafIndex(), header.get("tree_size").asLong(), leaf,
        proof.getHashesList().stream().map(ByteString::toByteArray).toList(),
        HexFormat.of().parseHex(header.get("root").asText()))).isTrue();

    // The coordinator's own check agrees, and names what a changed copy breaks.
    VerifyReceiptResponse verdict = receipts.verifyReceipt(VerifyReceiptRequest.newBuilder()
        .setReceiptJson(r.getReceiptJson()).build());
    assertThat(verdict.getProblemsList()).isEmpty();
    assertThat(verdict.getValid()).isTrue();
    assertThat(verdict.getBlockHeight()).isEqualTo(proof.getBlockHeight());
    assertThat(verdict.getBlockHash()).isEqualTo(block.getHash());
    assertThat(verdict.getLeafHash().toByteArray()).isEqualTo(leaf);
    ObjectNode cheaper = receipt.deepCopy().put("total_cost", "0.10000000");
    assertThat(receipts.verifyReceipt(VerifyReceiptRequest.newBuilder().setReceiptJson(cheaper.toString()).build())
        .getProblemsList()).containsExactly("signature.sig: the signature does not verify",
        "the ledger holds no receipt with this content");

    // Job receipt lists stay the jobs'.
    assertThat(receipts.listReceipts(ListReceiptsRequest.newBuilder().setPageSize(200).build()).getReceiptsList())
        .extracting(Receipt::getExecutionId).containsOnly("");
    // Asked again, the same receipt.
    assertThat(receiptOf(e.getExecutionId()).getReceiptJson()).isEqualTo(r.getReceiptJson());
  }

  @Test
  void aFailedExecutionsReceiptListsTheFailedJobWithoutAReceipt() {
    as("exr-fail");
    Execution e;
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-exr-fail", 4,
        a -> parse(a.getPayloadJson()).path("prompt").asText().equals("bad") ? new Fail("model crashed", false)
            : echo(a), "t-exr-fail")) {
      String wf = workflow("fails", """
          {'steps': {'good': {'type': 't-exr-fail', 'payload': {'prompt': 'ok'}},
                     'bad': {'type': 't-exr-fail', 'payload': {'prompt': 'bad'}, 'depends_on': ['good']},
                     'never': {'type': 't-exr-fail', 'payload': {'prompt': 'x'}, 'depends_on': ['bad']}}}""",
          VerificationLevel.VERIFICATION_LEVEL_BASIC);
      e = ended(workflows, execute(workflows, wf, "{}"));
    }
    assertThat(e.getStatus()).isEqualTo(ExecutionStatus.EXECUTION_STATUS_FAILED);
    Receipt r = receiptOf(e.getExecutionId());
    ObjectNode receipt = (ObjectNode) CanonicalJson.parse(r.getReceiptJson());
    assertThat(Receipts.check(receipt, COORDINATOR)).isEmpty();
    assertThat(e.getReceiptId()).isEqualTo(r.getReceiptId());
    assertThat(receipt.get("status").asText()).isEqualTo("failed");
    assertThat(receipt.get("verification_level").asText()).isEqualTo("basic");
    assertThat(receipt.get("error").asText()).isEqualTo(e.getErrorMessage()).startsWith("step bad failed: ");
    assertThat(receipt.has("result_sha256")).isFalse();
    assertThat(receipt.get("total_cost").asText()).isEqualTo("0.20000000");
    JsonNode steps = receipt.get("steps");
    assertThat(steps).extracting(s -> s.get("step").asText() + ":" + s.get("state").asText())
        .containsExactly("good:COMPLETED", "bad:FAILED");
    assertThat(steps.get(0).has("leaf_hash")).isTrue();
    assertThat(steps.get(1).has("receipt_id")).isFalse();
    assertThat(steps.get(1).has("leaf_hash")).isFalse();
    assertThat(receipts.verifyReceipt(VerifyReceiptRequest.newBuilder().setReceiptJson(r.getReceiptJson()).build())
        .getValid()).isTrue();
  }

  @Test
  void aCancelledExecutionGetsItsReceiptWhenCancelledAndNoneWhileItRuns() {
    as("exr-cancel");
    try (ScriptedWorker w = ScriptedWorker.start(grid, "w-exr-cancel", 2, a -> new Hold(), "t-exr-cancel")) {
      String wf = workflow("cancel", """
          {'steps': {'only': {'type': 't-exr-cancel', 'payload': {}}}}""", VerificationLevel.VERIFICATION_LEVEL_BASIC);
      String id = execute(workflows, wf, "{}");
      await().atMost(Duration.ofSeconds(10)).until(() -> w.assignments().size() == 1);

      StatusRuntimeException running = catchThrowableOfType(StatusRuntimeException.class, () -> receiptOf(id));
      assertThat(running.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
      assertThat(running.getStatus().getDescription()).isEqualTo("execution " + id
          + " is running: its receipt is issued when it ends");
      assertThat(get(workflows, id).getReceiptId()).isEmpty();

      Execution cancelled = workflows.cancelExecution(CancelExecutionRequest.newBuilder().setExecutionId(id)
          .setReason("enough").build()).getExecution();
      assertThat(cancelled.getReceiptId()).matches("[0-9a-f]{32}");
      Receipt r = receiptOf(id);
      assertThat(r.getReceiptId()).isEqualTo(cancelled.getReceiptId());
      ObjectNode receipt = (ObjectNode) CanonicalJson.parse(r.getReceiptJson());
      assertThat(Receipts.check(receipt, COORDINATOR)).isEmpty();
      assertThat(receipt.get("status").asText()).isEqualTo("cancelled");
      assertThat(receipt.get("error").asText()).isEqualTo("cancelled by client: enough");
      assertThat(receipt.get("total_cost").asText()).isEqualTo("0.00000000");
      // The step job as it stood when the execution ended (it is canceled right after).
      JsonNode only = receipt.get("steps").get(0);
      assertThat(only.get("job_id").asText()).isEqualTo(w.assignments().getFirst().getJobId());
      assertThat(only.get("state").asText()).isEqualTo("RUNNING");
      assertThat(only.has("receipt_id")).isFalse();
      await().atMost(Duration.ofSeconds(10)).until(() -> w.revoked().containsKey(only.get("job_id").asText()));

      // Cancelled again: nothing changes and nothing more is issued.
      assertThat(workflows.cancelExecution(CancelExecutionRequest.newBuilder().setExecutionId(id).build())
          .getChanged()).isFalse();
      assertThat(receiptOf(id).getReceiptJson()).isEqualTo(r.getReceiptJson());
      assertThat(receiptRows(id)).isOne();
    }
  }

  @Test
  void anEndedExecutionWokenAgainIssuesNoSecondReceipt() {
    as("exr-again");
    // No steps: it completes at once, its inputs as its result.
    String wf = workflow("empty", "{}", VerificationLevel.VERIFICATION_LEVEL_BASIC);
    Execution e = ended(workflows, execute(workflows, wf, "{'a': 1}"));
    ObjectNode receipt = (ObjectNode) CanonicalJson.parse(receiptOf(e.getExecutionId()).getReceiptJson());
    assertThat(receipt.get("steps")).isEmpty();
    assertThat(receipt.get("result_sha256").asText())
        .isEqualTo(CanonicalJson.sha256Hex(CanonicalJson.parse("{\"a\":1}")));

    // A wake-up after its end (as a late step job's, or another coordinator's) changes nothing.
    var id = JobIds.parse(e.getExecutionId()).orElseThrow();
    grid.query(dsl -> dsl.insertInto(EXECUTION_WAKEUP, EXECUTION_WAKEUP.EXECUTION_ID, EXECUTION_WAKEUP.DUE_AT)
        .values(id, OffsetDateTime.now()).execute());
    await().atMost(Duration.ofSeconds(10)).until(() -> grid.query(dsl -> dsl.fetchCount(EXECUTION_WAKEUP,
        EXECUTION_WAKEUP.EXECUTION_ID.eq(id))) == 0);
    assertThat(receiptRows(e.getExecutionId())).isOne();
  }

  @Test
  void anotherClientGetsNoReceipt() {
    as("exr-owner");
    String id = ended(workflows, execute(workflows, workflow("mine", "{}", VerificationLevel.VERIFICATION_LEVEL_BASIC),
        "{}")).getExecutionId();
    as("exr-other");
    StatusRuntimeException other = catchThrowableOfType(StatusRuntimeException.class, () -> receiptOf(id));
    assertThat(other.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(other.getStatus().getDescription()).isEqualTo("execution " + id + " not found");
  }

  /** The JDK's own Ed25519 over the receipt without its signature, with the raw public key from the key id. */
  static boolean verifiesWithJdk(ObjectNode receipt) throws Exception {
    byte[] raw = Base64.getUrlDecoder().decode(receipt.get("signature").get("key_id").asText());
    assertThat(raw).isEqualTo(COORDINATOR.raw());
    byte[] spki = new byte[ED25519_SPKI.length + raw.length];
    System.arraycopy(ED25519_SPKI, 0, spki, 0, ED25519_SPKI.length);
    System.arraycopy(raw, 0, spki, ED25519_SPKI.length, raw.length);
    PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    ObjectNode body = receipt.deepCopy();
    body.remove("signature");
    Signature ed25519 = Signature.getInstance("Ed25519");
    ed25519.initVerify(key);
    ed25519.update(CanonicalJson.bytes(body));
    return ed25519.verify(Base64.getUrlDecoder().decode(receipt.get("signature").get("sig").asText()));
  }

  private static int receiptRows(String executionId) {
    return grid.query(db -> db.fetchCount(RECEIPT, RECEIPT.EXECUTION_ID.eq(JobIds.parse(executionId).orElseThrow())));
  }
}
