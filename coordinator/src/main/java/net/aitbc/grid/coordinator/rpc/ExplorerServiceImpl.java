package net.aitbc.grid.coordinator.rpc;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.invalid;
import static net.aitbc.grid.coordinator.rpc.GrpcErrors.notFound;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import net.aitbc.grid.coordinator.ledger.Ledger;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.store.LedgerStore;
import net.aitbc.grid.coordinator.store.StoredBlock;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.v1.GetBlockRequest;
import net.aitbc.grid.v1.GetBlockResponse;
import net.aitbc.grid.v1.GetConsistencyProofRequest;
import net.aitbc.grid.v1.GetConsistencyProofResponse;
import net.aitbc.grid.v1.GetSyncStatusRequest;
import net.aitbc.grid.v1.GetSyncStatusResponse;
import net.aitbc.grid.v1.Leaf;
import net.aitbc.grid.v1.ListBlocksRequest;
import net.aitbc.grid.v1.ListBlocksResponse;
import net.aitbc.grid.v1.ListLeavesRequest;
import net.aitbc.grid.v1.ListLeavesResponse;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import org.jspecify.annotations.Nullable;

/** Blocks, leaves and consistency proofs: they reveal no content, so any key may read them. */
public final class ExplorerServiceImpl extends ExplorerServiceGrpc.ExplorerServiceImplBase {
  private static final int MAX_BLOCKS = 1000;
  private static final int MAX_LEAVES = 10_000;

  private final LedgerStore store;
  private final @Nullable Ledger ledger;

  /** The service over this ledger ({@code ledger} null: the coordinator signs nothing). */
  public ExplorerServiceImpl(LedgerStore store, @Nullable Ledger ledger) {
    this.store = requireNonNull(store, "store");
    this.ledger = ledger;
  }

  @Override
  public void listBlocks(ListBlocksRequest request, StreamObserver<ListBlocksResponse> out) {
    GrpcErrors.answer(out, () -> {
      int pageSize = request.getPageSize() == 0 ? 20 : request.getPageSize();
      if (pageSize < 1 || pageSize > MAX_BLOCKS) {
        throw invalid("page_size must be between 1 and " + MAX_BLOCKS + ", not " + request.getPageSize());
      }
      if (request.getOffset() < 0) {
        throw invalid("offset must not be negative, not " + request.getOffset());
      }
      List<StoredBlock> page = store.blocks(pageSize + 1, request.getOffset());
      ListBlocksResponse.Builder b = ListBlocksResponse.newBuilder();
      page.subList(0, Math.min(pageSize, page.size())).forEach(block -> b.addBlocks(LedgerProtos.block(block)));
      if (page.size() > pageSize) {
        b.setNextOffset(request.getOffset() + pageSize);
      }
      return b.build();
    });
  }

  @Override
  public void getBlock(GetBlockRequest request, StreamObserver<GetBlockResponse> out) {
    GrpcErrors.answer(out, () -> GetBlockResponse.newBuilder()
        .setBlock(LedgerProtos.block(store.block(request.getHeight())
            .orElseThrow(() -> notFound("block " + request.getHeight() + " not found"))))
        .build());
  }

  @Override
  public void getConsistencyProof(GetConsistencyProofRequest request,
      StreamObserver<GetConsistencyProofResponse> out) {
    GrpcErrors.answer(out, () -> {
      Ledger l = ledger;
      if (l == null) {
        throw notFound("this coordinator keeps no ledger");
      }
      List<byte[]> proof;
      try {
        proof = l.consistency(request.getFirstSize(), request.getSecondSize());
      } catch (IllegalArgumentException e) {
        throw invalid(e.getMessage());
      }
      GetConsistencyProofResponse.Builder b = GetConsistencyProofResponse.newBuilder();
      proof.forEach(h -> b.addHashes(ByteString.copyFrom(h)));
      return b.build();
    });
  }

  @Override
  public void listLeaves(ListLeavesRequest request, StreamObserver<ListLeavesResponse> out) {
    GrpcErrors.answer(out, () -> {
      int pageSize = request.getPageSize() == 0 ? 1000 : request.getPageSize();
      if (pageSize < 1 || pageSize > MAX_LEAVES) {
        throw invalid("page_size must be between 1 and " + MAX_LEAVES + ", not " + request.getPageSize());
      }
      if (request.getStart() < 0) {
        throw invalid("start must not be negative, not " + request.getStart());
      }
      ListLeavesResponse.Builder b = ListLeavesResponse.newBuilder();
      for (LedgerStore.Leaf leaf : store.leaves(request.getStart(), pageSize)) {
        // The entry hash is recomputed from the body stored now: an auditor sees a receipt altered after sealing.
        b.addLeaves(Leaf.newBuilder().setIndex(leaf.index()).setLeafHash(ByteString.copyFrom(leaf.leafHash()))
            .setEntryHash(ByteString.copyFrom(Merkle.leafHash(leaf.body().getBytes(StandardCharsets.UTF_8))))
            .setReceiptId(JobIds.format(leaf.receiptId())));
      }
      return b.build();
    });
  }

  @Override
  public void getSyncStatus(GetSyncStatusRequest request, StreamObserver<GetSyncStatusResponse> out) {
    GrpcErrors.answer(out, () -> {
      LedgerStore.Head head = store.head();
      LedgerStore.Unsealed unsealed = store.unsealed();
      GetSyncStatusResponse.Builder b = GetSyncStatusResponse.newBuilder()
          .setHeight(head.height())
          .setHeadHash(ByteString.copyFrom(head.hash()))
          .setTreeSize(head.treeSize())
          .setUnsealed(unsealed.count());
      if (head.sealedAt() != null) {
        b.setLastSealTime(JobProtos.timestamp(head.sealedAt()));
      }
      Duration lag = unsealed.oldest() == null ? Duration.ZERO
          : Duration.between(unsealed.oldest(), OffsetDateTime.now(ZoneOffset.UTC));
      if (lag.isNegative()) {
        lag = Duration.ZERO;
      }
      b.setLag(com.google.protobuf.Duration.newBuilder().setSeconds(lag.getSeconds()).setNanos(lag.getNano()));
      if (ledger != null) {
        b.setKeyId(ledger.keyId());
      }
      return b.build();
    });
  }
}
