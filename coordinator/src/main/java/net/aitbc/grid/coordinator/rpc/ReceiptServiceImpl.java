package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.coordinator.auth.AuthInterceptor;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.ledger.ReceiptVerifier;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.coordinator.store.StoredReceipt;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.v1.GetInclusionProofRequest;
import net.aitbc.grid.v1.GetInclusionProofResponse;
import net.aitbc.grid.v1.GetReceiptRequest;
import net.aitbc.grid.v1.GetReceiptResponse;
import net.aitbc.grid.v1.ListReceiptsRequest;
import net.aitbc.grid.v1.ListReceiptsResponse;
import net.aitbc.grid.v1.ReceiptServiceGrpc;
import net.aitbc.grid.v1.VerifyReceiptRequest;
import net.aitbc.grid.v1.VerifyReceiptResponse;
import org.jspecify.annotations.Nullable;

/**
 * Receipts and their inclusion proofs. A client reads only its own receipts (another's is "not
 * found"); an admin reads all. A coordinator without a signing key has none.
 */
public final class ReceiptServiceImpl extends ReceiptServiceGrpc.ReceiptServiceImplBase {
  private static final int DEFAULT_PAGE = 50;
  private static final int MAX_PAGE = 200;
  private static final int MAX_RECEIPT_CHARS = 16 << 20;

  private final ReceiptStore receipts;
  private final @Nullable Ledger ledger;

  /** The service over these receipts; without a ledger there are none. */
  public ReceiptServiceImpl(ReceiptStore receipts, @Nullable Ledger ledger) {
    this.receipts = requireNonNull(receipts, "receipts");
    this.ledger = ledger;
  }

  @Override
  public void listReceipts(ListReceiptsRequest request, StreamObserver<ListReceiptsResponse> out) {
    GrpcErrors.answer(out, () -> {
      int pageSize = request.getPageSize() == 0 ? DEFAULT_PAGE : request.getPageSize();
      if (pageSize < 1 || pageSize > MAX_PAGE) {
        throw invalid("page_size must be between 1 and " + MAX_PAGE + ", not " + request.getPageSize());
      }
      if (request.getOffset() < 0) {
        throw invalid("offset must not be negative, not " + request.getOffset());
      }
      UUID job = null;
      if (!request.getJobId().isEmpty()) {
        job = JobIds.parse(request.getJobId()).orElse(null);
        if (job == null) {
          return ListReceiptsResponse.getDefaultInstance();
        }
      }
      ListReceiptsResponse.Builder b = ListReceiptsResponse.newBuilder();
      Ledger l = ledger;
      if (l == null) {
        return b.build();
      }
      List<StoredReceipt> page = receipts.list(readableBy(), job, pageSize + 1, request.getOffset());
      for (StoredReceipt r : page.subList(0, Math.min(pageSize, page.size()))) {
        b.addReceipts(LedgerProtos.receipt(r, l));
      }
      if (page.size() > pageSize) {
        b.setNextOffset(request.getOffset() + pageSize);
      }
      return b.build();
    });
  }

  @Override
  public void getReceipt(GetReceiptRequest request, StreamObserver<GetReceiptResponse> out) {
    GrpcErrors.answer(out, () -> {
      StoredReceipt r = find(request.getKeyCase() == GetReceiptRequest.KeyCase.LEAF_HASH, request.getReceiptId(),
          request.getLeafHash(), readableBy());
      return GetReceiptResponse.newBuilder().setReceipt(LedgerProtos.receipt(r, requireLedger())).build();
    });
  }

  @Override
  public void getInclusionProof(GetInclusionProofRequest request, StreamObserver<GetInclusionProofResponse> out) {
    GrpcErrors.answer(out, () -> {
      // A proof reveals no content (the leaves already show every receipt's id and hash): any caller.
      StoredReceipt r = find(request.getKeyCase() == GetInclusionProofRequest.KeyCase.LEAF_HASH,
          request.getReceiptId(), request.getLeafHash(), null);
      Ledger.Inclusion proof;
      try {
        proof = requireLedger().inclusion(r, request.getTreeSize());
      } catch (Ledger.NotSealed e) {
        throw notFound(e.getMessage());
      } catch (IllegalArgumentException e) {
        throw invalid(e.getMessage());
      }
      GetInclusionProofResponse.Builder b = GetInclusionProofResponse.newBuilder()
          .setLeafIndex(proof.leafIndex())
          .setTreeSize(proof.block().treeSize())
          .setLeafHash(ByteString.copyFrom(r.leafHash()))
          .setBlockHeight(proof.block().height())
          .setRoot(ByteString.copyFrom(proof.block().root()));
      proof.hashes().forEach(h -> b.addHashes(ByteString.copyFrom(h)));
      return b.build();
    });
  }

  @Override
  public void verifyReceipt(VerifyReceiptRequest request, StreamObserver<VerifyReceiptResponse> out) {
    GrpcErrors.answer(out, () -> {
      if (request.getReceiptJson().length() > MAX_RECEIPT_CHARS) {
        throw invalid("receipt_json is longer than " + MAX_RECEIPT_CHARS + " characters");
      }
      JsonNode parsed;
      try {
        parsed = CanonicalJson.parse(request.getReceiptJson());
      } catch (IllegalArgumentException e) {
        throw invalid("receipt_json is not JSON: " + e.getMessage());
      }
      if (!(parsed instanceof ObjectNode receipt)) {
        throw invalid("receipt_json must be a JSON object");
      }
      ReceiptVerifier.Verdict v = new ReceiptVerifier(receipts, requireLedger()).verify(receipt);
      VerifyReceiptResponse.Builder b = VerifyReceiptResponse.newBuilder()
          .setLeafHash(ByteString.copyFrom(v.leafHash()));
      if (v.leafIndex() != null && v.block() != null) {
        b.setLeafIndex(v.leafIndex()).setBlockHeight(v.block().height())
            .setBlockHash(ByteString.copyFrom(v.block().hash()));
      }
      return b.setValid(v.problems().isEmpty()).addAllProblems(v.problems()).build();
    });
  }

  private StoredReceipt find(boolean byHash, String receiptId, ByteString leafHash, @Nullable String reader) {
    Optional<StoredReceipt> found;
    if (byHash) {
      if (leafHash.size() != 32) {
        throw invalid("leaf_hash must be 32 bytes, not " + leafHash.size());
      }
      found = receipts.byLeafHash(leafHash.toByteArray(), reader);
    } else if (!receiptId.isEmpty()) {
      found = JobIds.parse(receiptId).flatMap(id -> receipts.byId(id, reader));
    } else {
      throw invalid("name a receipt_id or a leaf_hash");
    }
    return found.filter(r -> ledger != null)
        .orElseThrow(() -> notFound("receipt " + (byHash ? "with that leaf hash" : GrpcErrors.abbreviate(receiptId))
            + " not found"));
  }

  private Ledger requireLedger() {
    Ledger l = ledger;
    if (l == null) {
      throw Status.FAILED_PRECONDITION.withDescription("this coordinator issues no receipts (it has no signing key)")
          .asRuntimeException();
    }
    return l;
  }

  /** The client whose receipts the caller may read; null for an admin (all). */
  private static @Nullable String readableBy() {
    Principal p = AuthInterceptor.principal();
    return p.role() == Role.ADMIN ? null : p.clientId();
  }
}
