package net.aitbc.grid.bridge;

import static net.aitbc.grid.bridge.HttpErrors.badRequest;
import static net.aitbc.grid.bridge.HttpErrors.unprocessable;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import java.io.IOException;
import java.util.HexFormat;
import java.util.Map;
import net.aitbc.grid.v1.GetConsistencyProofRequest;
import net.aitbc.grid.v1.GetInclusionProofRequest;
import net.aitbc.grid.v1.GetReceiptRequest;
import net.aitbc.grid.v1.ListBlocksRequest;
import net.aitbc.grid.v1.ListLeavesRequest;
import net.aitbc.grid.v1.ListReceiptsRequest;
import org.jspecify.annotations.Nullable;

/**
 * Reads the receipt and ledger routes' queries and bodies into gRPC requests, or says why not: 422
 * for a query value that is not a whole number in its range or not a hash (as the CLI's server
 * validates its explorer queries), 400 for a body that is not JSON. The ranges are the REST routes'
 * own (the explorer's blocks page holds at most 200, the ledger's 1000, over the same call), so the
 * bridge checks them; everything about what exists is the coordinator's.
 */
final class LedgerRequests {
  /** The gRPC fields whose REST names differ, as the coordinator's descriptions begin with them. */
  static final Map<String, String> FIELDS =
      Map.of("page_size", "limit", "first_size", "first", "second_size", "second");

  /** A SHA-256 in hex: 32 bytes. */
  private static final int HASH_BYTES = 32;
  private static final HexFormat HEX = HexFormat.of();

  private LedgerRequests() {}

  /** A page's size and offset bounds, and its size when none is asked for. */
  record Paging(int max, int byDefault) {}

  /** The explorer's receipt page: at most 200, 50 by default. */
  static final Paging RECEIPTS = new Paging(200, 50);
  /** The explorer's block page ({@code /v1/explorer/blocks}, {@code /api/v1/blocks}): at most 200, 20 by default. */
  static final Paging EXPLORER_BLOCKS = new Paging(200, 20);
  /** The ledger's block page: at most 1000, 100 by default. */
  static final Paging LEDGER_BLOCKS = new Paging(1000, 100);
  /** The ledger's leaves: at most 10,000, 1000 by default. */
  static final Paging LEAVES = new Paging(10_000, 1000);
  /** All of one job's receipts, as one page (a job has one receipt; a few if it was ever re-issued). */
  private static final int JOB_RECEIPTS = 200;

  /** {@code GET /v1/explorer/receipts?limit=&offset=&job_id=}; {@code status} is ignored, as the CLI's server does. */
  static ListReceiptsRequest receipts(QueryParams q) {
    ListReceiptsRequest.Builder b = ListReceiptsRequest.newBuilder()
        .setPageSize(Requests.limit(q, RECEIPTS.byDefault(), RECEIPTS.max()))
        .setOffset(Requests.offset(q));
    String job = jobId(q);
    if (job != null) {
      b.setJobId(job);
    }
    return b.build();
  }

  /** The {@code job_id} filter of the explorer's receipts, null when absent or blank. */
  static @Nullable String jobId(QueryParams q) {
    String job = q.get("job_id");
    return job == null || job.isBlank() ? null : job.strip();
  }

  /** {@code GET /v1/jobs/{job_id}/receipts}: that job's receipts. */
  static ListReceiptsRequest jobReceipts(String jobId) {
    return ListReceiptsRequest.newBuilder().setJobId(jobId).setPageSize(JOB_RECEIPTS).build();
  }

  /** A block page; {@code chain_id} is ignored (there is one ledger). */
  static ListBlocksRequest blocks(QueryParams q, Paging paging) {
    return ListBlocksRequest.newBuilder().setPageSize(Requests.limit(q, paging.byDefault(), paging.max()))
        .setOffset(Requests.offset(q)).build();
  }

  /** {@code GET /v1/ledger/leaves?start=&limit=}. */
  static ListLeavesRequest leaves(QueryParams q) {
    Long start = Requests.whole(q, "start", 0, Long.MAX_VALUE);
    return ListLeavesRequest.newBuilder().setStart(start == null ? 0 : start)
        .setPageSize(Requests.limit(q, LEAVES.byDefault(), LEAVES.max())).build();
  }

  /** A block height from the path; one that cannot be a height names no block. */
  static long height(String text) {
    try {
      long h = Long.parseLong(text.strip());
      if (h >= 1) {
        return h;
      }
    } catch (NumberFormatException e) {
      // Below: not a block.
    }
    throw new HttpErrors.ApiError(HttpStatus.NOT_FOUND, "block not found");
  }

  /** {@code GET /explorer/transactions/{hash}}: the receipt whose leaf hash this is. */
  static GetReceiptRequest transaction(String hash) {
    return GetReceiptRequest.newBuilder().setLeafHash(hash("hash", hash)).build();
  }

  /**
   * {@code GET /v1/ledger/proofs/inclusion?receipt_id=|leaf_hash=&tree_size=}: exactly one of the
   * two keys; without tree_size, against the latest block.
   */
  static GetInclusionProofRequest inclusion(QueryParams q) {
    String receiptId = q.get("receipt_id");
    String leafHash = q.get("leaf_hash");
    if ((receiptId == null) == (leafHash == null)) {
      throw unprocessable("give exactly one of receipt_id and leaf_hash");
    }
    GetInclusionProofRequest.Builder b = GetInclusionProofRequest.newBuilder();
    if (receiptId != null) {
      if (receiptId.isBlank()) {
        throw unprocessable("receipt_id is empty");
      }
      b.setReceiptId(receiptId.strip());
    } else {
      b.setLeafHash(hash("leaf_hash", leafHash));
    }
    // 0 would mean "the latest block's" to the coordinator: a tree size asked for is a block's, at least 1.
    Long treeSize = Requests.whole(q, "tree_size", 1, Long.MAX_VALUE);
    if (treeSize != null) {
      b.setTreeSize(treeSize);
    }
    return b.build();
  }

  /** {@code GET /v1/ledger/proofs/consistency?first=&second=}: both required. */
  static GetConsistencyProofRequest consistency(QueryParams q) {
    Long first = Requests.whole(q, "first", 0, Long.MAX_VALUE);
    Long second = Requests.whole(q, "second", 1, Long.MAX_VALUE);
    if (first == null || second == null) {
      throw unprocessable("first and second are required: the two tree sizes, e.g. ?first=10&second=20");
    }
    return GetConsistencyProofRequest.newBuilder().setFirstSize(first).setSecondSize(second).build();
  }

  /**
   * The body of {@code POST /v1/receipts/verify} as JSON text for the coordinator: a signed receipt,
   * or an object that holds one under {@code receipt} (as {@code /result} prints it).
   */
  static String verifyBody(HttpData body) {
    if (body.isEmpty()) {
      throw badRequest("the request body is empty: send a signed receipt, or {\"receipt\": {...}}");
    }
    JsonNode root;
    try {
      root = Json.MAPPER.readTree(body.array());
    } catch (StreamConstraintsException e) {
      throw badRequest("the request body is too deeply nested or too large to read: " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw badRequest("the request body is not valid JSON: " + Requests.jacksonMessage(e));
    } catch (IOException e) {
      throw badRequest("the request body cannot be read: " + e.getMessage());
    }
    if (root == null || !root.isObject()) {
      throw unprocessable("the body must be a signed receipt (a JSON object), or {\"receipt\": {...}}");
    }
    if (root.has("receipt_id") || root.has("signature")) {
      // Itself a receipt: passed on as the client wrote it, every digit included.
      return body.toStringUtf8();
    }
    JsonNode inner = root.get("receipt");
    if (inner == null) {
      // Not wrapped either: the coordinator says which receipt fields are missing.
      return body.toStringUtf8();
    }
    if (inner.isNull()) {
      throw unprocessable("receipt is null: the job has no receipt to verify");
    }
    if (!inner.isObject()) {
      throw unprocessable("receipt must be a JSON object (a signed receipt)");
    }
    return Json.text(inner);
  }

  /** A 32-byte hash as 64 hex characters, with or without {@code 0x}. */
  static ByteString hash(String name, String text) {
    String hex = text.strip();
    if (hex.startsWith("0x") || hex.startsWith("0X")) {
      hex = hex.substring(2);
    }
    if (hex.length() == 2 * HASH_BYTES) {
      try {
        return ByteString.copyFrom(HEX.parseHex(hex));
      } catch (IllegalArgumentException e) {
        // Below.
      }
    }
    throw unprocessable(name + " must be a SHA-256 hash: 64 hex characters, optionally after 0x, not '"
        + Requests.abbreviate(text) + "'");
  }
}
