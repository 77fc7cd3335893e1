package net.aitbc.grid.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.common.HttpStatus;
import java.util.HexFormat;
import java.util.List;
import net.aitbc.grid.v1.Block;
import net.aitbc.grid.v1.GetConsistencyProofRequest;
import net.aitbc.grid.v1.GetConsistencyProofResponse;
import net.aitbc.grid.v1.GetInclusionProofResponse;
import net.aitbc.grid.v1.GetSyncStatusResponse;
import net.aitbc.grid.v1.Leaf;
import net.aitbc.grid.v1.ListBlocksResponse;
import net.aitbc.grid.v1.ListLeavesResponse;
import net.aitbc.grid.v1.ListReceiptsResponse;
import net.aitbc.grid.v1.Receipt;
import net.aitbc.grid.v1.VerifyReceiptResponse;
import org.jspecify.annotations.Nullable;

/**
 * The one JSON mapping of receipts, blocks and proofs. Hashes are lowercase hex; the explorer's
 * shapes (camelCase, as the CLI's server writes them) put {@code 0x} before theirs. Signed documents
 * (receipts, block headers) are embedded as JSON objects with the digits the coordinator signed.
 */
final class LedgerJson {
  private static final HexFormat HEX = HexFormat.of();

  private LedgerJson() {}

  /** A receipt's signed document; 404 {@code receipt not available} when it carries none. */
  static JsonNode signed(Receipt r) {
    JsonNode document = Json.parseStored(r.getReceiptJson());
    if (document == null) {
      throw new HttpErrors.ApiError(HttpStatus.NOT_FOUND, "receipt not available");
    }
    return document;
  }

  /** {@code GET /v1/jobs/{id}/receipts}: {@code {"items": [signed receipt...]}}. */
  static ObjectNode jobReceipts(ListReceiptsResponse r) {
    ObjectNode o = Json.object();
    ArrayNode items = o.putArray("items");
    for (Receipt receipt : r.getReceiptsList()) {
      items.add(Json.parseStored(receipt.getReceiptJson()));
    }
    return o;
  }

  /**
   * {@code GET /v1/explorer/receipts}: the CLI's server's shape ({@code miner} is the provider,
   * {@code coordinator} the client, as it labels them) plus where each sits in the ledger.
   */
  static ObjectNode explorerReceipts(ListReceiptsResponse r, @Nullable String jobId) {
    ObjectNode o = Json.object();
    o.put("jobId", jobId == null ? "all" : jobId);
    ArrayNode items = o.putArray("items");
    for (Receipt receipt : r.getReceiptsList()) {
      ObjectNode item = items.addObject();
      item.put("receiptId", receipt.getReceiptId());
      item.put("jobId", receipt.getJobId());
      item.put("miner", receipt.getProvider());
      item.put("coordinator", receipt.getClient());
      item.put("issuedAt", receipt.hasIssueTime() ? JobJson.time(receipt.getIssueTime()) : null);
      item.put("status", receipt.getStatus());
      item.set("payload", Json.parseStored(receipt.getReceiptJson()));
      item.put("leafHash", hex(receipt.getLeafHash()));
      item.put("leafIndex", receipt.hasLeafIndex() ? receipt.getLeafIndex() : null);
      item.put("blockHeight", receipt.hasBlockHeight() ? receipt.getBlockHeight() : null);
    }
    nextOffset(o, r.hasNextOffset() ? r.getNextOffset() : null);
    return o;
  }

  /** {@code GET /explorer/transactions/{hash}}: the receipt whose leaf hash that is. */
  static ObjectNode transaction(Receipt r) {
    ObjectNode o = Json.object();
    o.put("hash", prefixed(r.getLeafHash()));
    o.put("receiptId", r.getReceiptId());
    o.put("jobId", r.getJobId());
    o.put("status", r.getStatus());
    o.put("issuedAt", r.hasIssueTime() ? JobJson.time(r.getIssueTime()) : null);
    o.put("leafIndex", r.hasLeafIndex() ? r.getLeafIndex() : null);
    o.put("blockHeight", r.hasBlockHeight() ? r.getBlockHeight() : null);
    o.set("receipt", Json.parseStored(r.getReceiptJson()));
    return o;
  }

  /** {@code POST /v1/receipts/verify}: the verdict, 200 whether or not it is valid. */
  static ObjectNode verification(VerifyReceiptResponse r) {
    ObjectNode o = Json.object();
    o.put("valid", r.getValid());
    ArrayNode problems = o.putArray("problems");
    r.getProblemsList().forEach(problems::add);
    o.put("leaf_index", r.hasLeafIndex() ? r.getLeafIndex() : null);
    o.put("block_height", r.hasBlockHeight() ? r.getBlockHeight() : null);
    return o;
  }

  /** {@code GET /v1/explorer/blocks} and {@code /api/v1/blocks}: the explorer's summaries, newest first. */
  static ObjectNode explorerBlocks(ListBlocksResponse r) {
    ObjectNode o = Json.object();
    ArrayNode items = o.putArray("items");
    for (Block b : r.getBlocksList()) {
      ObjectNode item = items.addObject();
      item.put("height", b.getHeight());
      item.put("hash", prefixed(b.getHash()));
      item.put("timestamp", b.hasSealTime() ? JobJson.time(b.getSealTime()) : null);
      item.put("txCount", b.getCount());
      item.put("proposer", b.getKeyId());
      item.put("treeSize", b.getTreeSize());
      item.put("root", prefixed(b.getRoot()));
      item.put("prevHash", prefixed(b.getPrevHash()));
    }
    nextOffset(o, r.hasNextOffset() ? r.getNextOffset() : null);
    return o;
  }

  /** {@code GET /v1/ledger/blocks}: signed headers, newest first. */
  static ObjectNode ledgerBlocks(ListBlocksResponse r) {
    ObjectNode o = Json.object();
    ArrayNode items = o.putArray("items");
    r.getBlocksList().forEach(b -> items.add(ledgerBlock(b)));
    nextOffset(o, r.hasNextOffset() ? r.getNextOffset() : null);
    return o;
  }

  /** {@code GET /v1/ledger/blocks/{height}}: {@code {"height","hash","header"}}. */
  static ObjectNode ledgerBlock(Block b) {
    ObjectNode o = Json.object();
    o.put("height", b.getHeight());
    o.put("hash", hex(b.getHash()));
    o.set("header", Json.parseStored(b.getHeaderJson()));
    return o;
  }

  /** {@code GET /v1/ledger/proofs/inclusion}. */
  static ObjectNode inclusion(GetInclusionProofResponse r) {
    ObjectNode o = Json.object();
    o.put("leaf_index", r.getLeafIndex());
    o.put("tree_size", r.getTreeSize());
    o.put("leaf_hash", hex(r.getLeafHash()));
    hashes(o, r.getHashesList());
    o.put("block_height", r.getBlockHeight());
    o.put("root", hex(r.getRoot()));
    return o;
  }

  /** {@code GET /v1/ledger/proofs/consistency}: the sizes asked about and the proof. */
  static ObjectNode consistency(GetConsistencyProofRequest asked, GetConsistencyProofResponse r) {
    ObjectNode o = Json.object();
    o.put("first", asked.getFirstSize());
    o.put("second", asked.getSecondSize());
    hashes(o, r.getHashesList());
    return o;
  }

  /** {@code GET /v1/ledger/leaves}: sealed leaves in index order; the entry hash is recomputed from what is stored now. */
  static ObjectNode leaves(ListLeavesResponse r) {
    ObjectNode o = Json.object();
    ArrayNode items = o.putArray("items");
    for (Leaf leaf : r.getLeavesList()) {
      ObjectNode item = items.addObject();
      item.put("index", leaf.getIndex());
      item.put("leaf_hash", hex(leaf.getLeafHash()));
      item.put("entry_hash", leaf.getEntryHash().isEmpty() ? null : hex(leaf.getEntryHash()));
      item.put("receipt_id", leaf.getReceiptId().isEmpty() ? null : leaf.getReceiptId());
    }
    return o;
  }

  /** {@code GET /v1/sync-status}: the head, and how far sealing lags; synced when nothing waits for a block. */
  static ObjectNode syncStatus(GetSyncStatusResponse r) {
    ObjectNode o = Json.object();
    o.put("height", r.getHeight());
    // Before the first block there is no head hash.
    o.put("hash", r.getHeadHash().isEmpty() ? null : prefixed(r.getHeadHash()));
    o.put("tree_size", r.getTreeSize());
    o.put("last_sealed_at", r.hasLastSealTime() ? JobJson.time(r.getLastSealTime()) : null);
    o.put("unsealed", r.getUnsealed());
    o.put("lag_ms", r.getLag().getSeconds() * 1000 + r.getLag().getNanos() / 1_000_000);
    o.put("key_id", r.getKeyId().isEmpty() ? null : r.getKeyId());
    o.put("synced", r.getUnsealed() == 0);
    return o;
  }

  /** Lowercase hex of a hash. */
  static String hex(ByteString bytes) {
    return HEX.formatHex(bytes.toByteArray());
  }

  /** {@code 0x} and lowercase hex, as the explorer writes hashes. */
  static String prefixed(ByteString bytes) {
    return "0x" + hex(bytes);
  }

  private static void hashes(ObjectNode o, List<ByteString> hashes) {
    ArrayNode a = o.putArray("hashes");
    hashes.forEach(h -> a.add(hex(h)));
  }

  private static void nextOffset(ObjectNode o, @Nullable Integer next) {
    if (next == null) {
      o.putNull("next_offset");
    } else {
      o.put("next_offset", next.intValue());
    }
  }
}
