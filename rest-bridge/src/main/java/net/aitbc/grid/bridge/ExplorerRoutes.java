package net.aitbc.grid.bridge;

import static java.util.Objects.requireNonNull;

import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import com.linecorp.armeria.common.RequestHeaders;
import com.linecorp.armeria.server.annotation.Get;
import com.linecorp.armeria.server.annotation.Param;
import com.linecorp.armeria.server.annotation.Path;
import net.aitbc.grid.bridge.HttpErrors.Call;
import net.aitbc.grid.v1.ExplorerServiceGrpc;
import net.aitbc.grid.v1.GetBlockRequest;
import net.aitbc.grid.v1.GetBlockResponse;
import net.aitbc.grid.v1.GetConsistencyProofRequest;
import net.aitbc.grid.v1.GetConsistencyProofResponse;
import net.aitbc.grid.v1.GetSyncStatusRequest;
import net.aitbc.grid.v1.ListBlocksRequest;
import net.aitbc.grid.v1.ListLeavesRequest;

/**
 * The ledger's blocks, leaves, consistency proofs and head over REST: the CLI's explorer routes and
 * our own {@code /v1/ledger} ones. Each is one call to the coordinator's ExplorerService; they
 * reveal no job's content, so any valid key reads them.
 */
final class ExplorerRoutes {
  private final CoordinatorClient coordinator;

  ExplorerRoutes(CoordinatorClient coordinator) {
    this.coordinator = requireNonNull(coordinator, "coordinator");
  }

  /**
   * {@code GET /api/v1/blocks} (the CLI's {@code client blocks}) and {@code GET /v1/explorer/blocks}:
   * block summaries, newest first; {@code chain_id} is ignored.
   */
  @Get
  @Path("/api/v1/blocks")
  @Path("/v1/explorer/blocks")
  public HttpResponse explorerBlocks(QueryParams query, RequestHeaders headers) {
    ListBlocksRequest list = LedgerRequests.blocks(query, LedgerRequests.EXPLORER_BLOCKS);
    return Json.reply(Call.BLOCKS, o -> explorer(headers).listBlocks(list, o), HttpStatus.OK,
        LedgerJson::explorerBlocks);
  }

  /** {@code GET /v1/ledger/blocks?limit=&offset=}: signed headers, newest first. */
  @Get("/v1/ledger/blocks")
  public HttpResponse ledgerBlocks(QueryParams query, RequestHeaders headers) {
    ListBlocksRequest list = LedgerRequests.blocks(query, LedgerRequests.LEDGER_BLOCKS);
    return Json.reply(Call.BLOCKS, o -> explorer(headers).listBlocks(list, o), HttpStatus.OK,
        LedgerJson::ledgerBlocks);
  }

  /** {@code GET /v1/ledger/blocks/{height}}: one signed header; 404 {@code block not found}. */
  @Get("/v1/ledger/blocks/{height}")
  public HttpResponse ledgerBlock(@Param("height") String height, RequestHeaders headers) {
    GetBlockRequest get = GetBlockRequest.newBuilder().setHeight(LedgerRequests.height(height)).build();
    return Json.reply(Call.BLOCK, o -> explorer(headers).getBlock(get, o), HttpStatus.OK,
        (GetBlockResponse r) -> LedgerJson.ledgerBlock(r.getBlock()));
  }

  /** {@code GET /v1/ledger/proofs/consistency?first=&second=}. */
  @Get("/v1/ledger/proofs/consistency")
  public HttpResponse consistencyProof(QueryParams query, RequestHeaders headers) {
    GetConsistencyProofRequest get = LedgerRequests.consistency(query);
    return Json.reply(Call.LEDGER, o -> explorer(headers).getConsistencyProof(get, o), HttpStatus.OK,
        (GetConsistencyProofResponse r) -> LedgerJson.consistency(get, r));
  }

  /** {@code GET /v1/ledger/leaves?start=&limit=}: sealed leaves in index order. */
  @Get("/v1/ledger/leaves")
  public HttpResponse leaves(QueryParams query, RequestHeaders headers) {
    ListLeavesRequest list = LedgerRequests.leaves(query);
    return Json.reply(Call.LEDGER, o -> explorer(headers).listLeaves(list, o), HttpStatus.OK, LedgerJson::leaves);
  }

  /** {@code GET /v1/sync-status} (the CLI's {@code blockchain sync-status}); {@code chain_id} is ignored. */
  @Get("/v1/sync-status")
  public HttpResponse syncStatus(RequestHeaders headers) {
    return Json.reply(Call.LEDGER,
        o -> explorer(headers).getSyncStatus(GetSyncStatusRequest.getDefaultInstance(), o), HttpStatus.OK,
        LedgerJson::syncStatus);
  }

  private ExplorerServiceGrpc.ExplorerServiceStub explorer(RequestHeaders headers) {
    return coordinator.explorer(ApiKey.of(headers));
  }
}
