package net.aitbc.grid.coordinator.ledger;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.coordinator.store.StoredBlock;
import net.aitbc.grid.coordinator.store.StoredReceipt;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.ExecutionReceipts;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.SwarmReceipts;
import org.jspecify.annotations.Nullable;

/**
 * The coordinator's check of a receipt someone holds (ReceiptService.VerifyReceipt, and so the REST
 * verify routes): its signature and fields, that the ledger holds it, and once sealed that the
 * ledger's inclusion proof leads from it to the root its block's signed header states. An
 * execution's receipt also has each step job receipt it names checked: stored, that job's, with that
 * leaf hash, itself valid, and at verification level full (or zero-knowledge) countersigned by its
 * worker. A swarm task's receipt has each member job receipt it names checked alike.
 */
public final class ReceiptVerifier {
  private final ReceiptStore receipts;
  private final Ledger ledger;

  /** A verifier over these receipts and this ledger. */
  public ReceiptVerifier(ReceiptStore receipts, Ledger ledger) {
    this.receipts = requireNonNull(receipts, "receipts");
    this.ledger = requireNonNull(ledger, "ledger");
  }

  /**
   * What was found.
   *
   * @param problems what is wrong, each naming the field or part (empty: valid)
   * @param leafHash the receipt's leaf hash, computed from what was given
   * @param leafIndex its leaf once sealed, else null
   * @param block the block that sealed it, else null
   */
  public record Verdict(List<String> problems, byte[] leafHash, @Nullable Long leafIndex,
      @Nullable StoredBlock block) {}

  /** Checks a receipt as given. */
  public Verdict verify(ObjectNode receipt) {
    List<String> problems = new ArrayList<>(Receipts.check(receipt, ledger.verifyingKey()));
    byte[] leafHash = Receipts.leafHash(receipt);
    Optional<StoredReceipt> stored = receipts.byLeafHash(leafHash, null);
    Long leafIndex = null;
    StoredBlock block = null;
    if (stored.isEmpty()) {
      problems.add("the ledger holds no receipt with this content");
    } else if (stored.get().blockHeight() != null) {
      leafIndex = stored.get().leafIndex();
      block = ledger.block(stored.get().blockHeight()).orElse(null);
      if (block == null) {
        problems.add("block " + stored.get().blockHeight() + ": sealed it, but the ledger has no such block");
      } else {
        problems.addAll(inclusion(stored.get(), block, leafHash));
      }
    }
    if (ExecutionReceipts.isExecution(receipt)) {
      problems.addAll(steps(receipt));
    }
    if (SwarmReceipts.isSwarmTask(receipt)) {
      problems.addAll(members(receipt));
    }
    return new Verdict(problems, leafHash, leafIndex, block);
  }

  /** Problems with the proof that the block includes the receipt, against the root its signed header states. */
  private List<String> inclusion(StoredReceipt r, StoredBlock block, byte[] leafHash) {
    String at = "block " + block.height() + ": ";
    List<String> problems = new ArrayList<>();
    ObjectNode header = (ObjectNode) CanonicalJson.parse(block.header());
    Blocks.check(header, ledger.verifyingKey()).forEach(p -> problems.add(at + p));
    if (!problems.isEmpty()) {
      return problems;
    }
    try {
      Ledger.Inclusion proof = ledger.inclusion(r, block.treeSize());
      byte[] root = Hex.decode(header.get("root").asText());
      if (!Merkle.verifyInclusion(proof.leafIndex(), header.get("tree_size").asLong(), leafHash, proof.hashes(),
          root)) {
        problems.add("leaf " + r.leafIndex() + ": the ledger's inclusion proof does not lead to " + at.strip()
            + " the signed root");
      }
    } catch (Ledger.Damaged | IllegalArgumentException e) {
      problems.add("leaf " + r.leafIndex() + ": no inclusion proof in " + at.strip() + " " + e.getMessage());
    }
    return problems;
  }

  /** Problems with the step job receipts an execution's receipt names, each prefixed by its place. */
  private List<String> steps(ObjectNode receipt) {
    List<String> problems = new ArrayList<>();
    JsonNode steps = receipt.path("steps");
    boolean full = Set.of("full", "zero-knowledge").contains(receipt.path("verification_level").asText());
    Set<UUID> ids = new HashSet<>();
    steps.forEach(s -> JobIds.parse(s.path("receipt_id").asText()).ifPresent(ids::add));
    Map<UUID, StoredReceipt> stored = ids.isEmpty() ? Map.of() : receipts.byIds(ids);
    for (int i = 0; i < steps.size(); i++) {
      JsonNode step = steps.get(i);
      String at = "steps[" + i + "] (" + step.path("step").asText("?") + "#" + step.path("item").asText("?") + "): ";
      UUID id = JobIds.parse(step.path("receipt_id").asText()).orElse(null);
      if (id == null) {
        if (full && "COMPLETED".equals(step.path("state").asText())) {
          problems.add(at + "completed, but names no job receipt (verification level "
              + receipt.path("verification_level").asText() + " proves every completed step)");
        }
        continue;
      }
      StoredReceipt r = stored.get(id);
      if (r == null) {
        problems.add(at + "the ledger holds no job receipt " + JobIds.format(id));
        continue;
      }
      problems.addAll(step(at, step, r, full));
    }
    return problems;
  }

  /** Problems with the member job receipts a swarm task's receipt names, each prefixed by its place. */
  private List<String> members(ObjectNode receipt) {
    List<String> problems = new ArrayList<>();
    JsonNode members = receipt.path("members");
    Set<UUID> ids = new HashSet<>();
    members.forEach(m -> JobIds.parse(m.path("receipt_id").asText()).ifPresent(ids::add));
    Map<UUID, StoredReceipt> stored = ids.isEmpty() ? Map.of() : receipts.byIds(ids);
    for (int i = 0; i < members.size(); i++) {
      JsonNode m = members.get(i);
      UUID id = JobIds.parse(m.path("receipt_id").asText()).orElse(null);
      if (id == null) {
        continue;
      }
      String at = "members[" + i + "] (" + m.path("worker").asText("?") + ", slot " + m.path("slot").asText("?")
          + "): ";
      StoredReceipt r = stored.get(id);
      if (r == null) {
        problems.add(at + "the ledger holds no job receipt " + JobIds.format(id));
        continue;
      }
      problems.addAll(step(at, m, r, false));
    }
    return problems;
  }

  private List<String> step(String at, JsonNode step, StoredReceipt r, boolean full) {
    List<String> problems = new ArrayList<>();
    String id = JobIds.format(r.receiptId());
    if (!r.ofJob() || r.jobId() == null) {
      problems.add(at + "receipt " + id + " is not a job's receipt");
      return problems;
    }
    if (!JobIds.format(r.jobId()).equals(step.path("job_id").asText())) {
      problems.add(at + "job receipt " + id + " is job " + JobIds.format(r.jobId()) + "'s, not "
          + step.path("job_id").asText() + "'s");
    }
    if (!Hex.encode(r.leafHash()).equals(step.path("leaf_hash").asText())) {
      problems.add(at + "leaf_hash is not job receipt " + id + "'s leaf hash " + Hex.encode(r.leafHash()));
    }
    if (!Arrays.equals(Merkle.leafHash(r.body().getBytes(StandardCharsets.UTF_8)), r.leafHash())) {
      problems.add(at + "the stored job receipt " + id + " does not match its leaf hash (it was altered)");
      return problems;
    }
    ObjectNode signed = (ObjectNode) CanonicalJson.parse(ledger.signed(r));
    Receipts.check(signed, ledger.verifyingKey()).forEach(p -> problems.add(at + "job receipt " + id + ": " + p));
    if (full && !signed.path("metadata").path("worker").isObject()) {
      problems.add(at + "job receipt " + id + " carries no worker signature (verification level full proves "
          + "who ran each step)");
    }
    return problems;
  }
}
