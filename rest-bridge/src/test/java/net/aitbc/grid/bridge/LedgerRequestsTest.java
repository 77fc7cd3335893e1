package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.QueryParams;
import java.util.HexFormat;
import net.aitbc.grid.v1.GetInclusionProofRequest;
import net.aitbc.grid.v1.ListReceiptsRequest;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The receipt and ledger routes' queries and bodies, read into gRPC requests or refused with what is wrong. */
class LedgerRequestsTest {
  private static final String HASH = "0a".repeat(32);

  @Test
  void explorerReceiptsTakeLimitOffsetAndJobIdAndIgnoreStatus() {
    ListReceiptsRequest r = LedgerRequests.receipts(QueryParams.of("limit", "5", "job_id", "J", "status", "weird"));
    assertThat(r.getPageSize()).isEqualTo(5);
    assertThat(r.getOffset()).isZero();
    assertThat(r.getJobId()).isEqualTo("J");

    ListReceiptsRequest defaults = LedgerRequests.receipts(QueryParams.of());
    assertThat(defaults.getPageSize()).isEqualTo(50);
    assertThat(defaults.getJobId()).isEmpty();
    assertThat(LedgerRequests.receipts(QueryParams.of("limit", "200", "offset", "400")).getOffset()).isEqualTo(400);
  }

  @Test
  void limitsAreEachRoutesOwn() {
    assertThat(LedgerRequests.blocks(QueryParams.of(), LedgerRequests.EXPLORER_BLOCKS).getPageSize()).isEqualTo(20);
    assertThat(LedgerRequests.blocks(QueryParams.of("limit", "3", "chain_id", "ait-devnet"),
        LedgerRequests.EXPLORER_BLOCKS).getPageSize()).isEqualTo(3);
    assertThat(LedgerRequests.blocks(QueryParams.of(), LedgerRequests.LEDGER_BLOCKS).getPageSize()).isEqualTo(100);
    assertThat(LedgerRequests.blocks(QueryParams.of("limit", "1000"), LedgerRequests.LEDGER_BLOCKS).getPageSize())
        .isEqualTo(1000);
    assertRefused(() -> LedgerRequests.blocks(QueryParams.of("limit", "201"), LedgerRequests.EXPLORER_BLOCKS),
        "limit must be between 1 and 200, not 201");
    assertRefused(() -> LedgerRequests.blocks(QueryParams.of("limit", "1001"), LedgerRequests.LEDGER_BLOCKS),
        "limit must be between 1 and 1000, not 1001");
    assertThat(LedgerRequests.leaves(QueryParams.of()).getPageSize()).isEqualTo(1000);
    assertThat(LedgerRequests.leaves(QueryParams.of("start", "7", "limit", "10000")).getStart()).isEqualTo(7);
    assertRefused(() -> LedgerRequests.leaves(QueryParams.of("limit", "10001")),
        "limit must be between 1 and 10000, not 10001");
    assertRefused(() -> LedgerRequests.leaves(QueryParams.of("start", "-1")), "start must be of at least 0, not -1");
  }

  @Test
  void badNumbersAre422NamingTheParameter() {
    assertRefused(() -> LedgerRequests.receipts(QueryParams.of("limit", "0")), "limit must be between 1 and 200, not 0");
    assertRefused(() -> LedgerRequests.receipts(QueryParams.of("limit", "-3")), "limit must be between 1 and 200, not -3");
    assertRefused(() -> LedgerRequests.receipts(QueryParams.of("limit", "ten")),
        "limit must be a whole number between 1 and 200, not 'ten'");
    assertRefused(() -> LedgerRequests.receipts(QueryParams.of("limit", "5.0")),
        "limit must be a whole number between 1 and 200, not '5.0'");
    assertRefused(() -> LedgerRequests.receipts(QueryParams.of("limit", "")),
        "limit must be a whole number between 1 and 200, not ''");
    assertRefused(() -> LedgerRequests.receipts(QueryParams.of("offset", "-1")), "offset must be of at least 0, not -1");
    assertRefused(() -> LedgerRequests.receipts(QueryParams.of("offset", "3000000000")),
        "offset must be of at least 0, not 3000000000");
    assertRefused(() -> LedgerRequests.receipts(QueryParams.of("offset", "99999999999999999999")),
        "offset must be a whole number of at least 0, not '99999999999999999999'");
  }

  @Test
  void hashesAre64HexWithOrWithout0x() {
    ByteString expected = ByteString.copyFrom(HexFormat.of().parseHex(HASH));
    assertThat(LedgerRequests.transaction(HASH).getLeafHash()).isEqualTo(expected);
    assertThat(LedgerRequests.transaction("0x" + HASH).getLeafHash()).isEqualTo(expected);
    assertThat(LedgerRequests.transaction("0X" + HASH.toUpperCase(java.util.Locale.ROOT)).getLeafHash())
        .isEqualTo(expected);
    for (String bad : new String[] {"", "0x", HASH.substring(2), HASH + "00", "zz" + HASH.substring(2), "0x0x" + HASH,
        "5b2f0c9e7a4d4e1f9c3b2a1d0e9f8a7b"}) {
      assertThatThrownBy(() -> LedgerRequests.transaction(bad)).as(bad)
          .isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> {
            assertThat(e.status().code()).isEqualTo(422);
            assertThat(e.getMessage()).startsWith("hash must be a SHA-256 hash: 64 hex characters");
          });
    }
  }

  @Test
  void anInclusionProofNamesOneReceiptAndOptionallyATreeSize() {
    GetInclusionProofRequest byId = LedgerRequests.inclusion(QueryParams.of("receipt_id", "abc"));
    assertThat(byId.getReceiptId()).isEqualTo("abc");
    assertThat(byId.getTreeSize()).isZero();
    GetInclusionProofRequest byHash = LedgerRequests.inclusion(QueryParams.of("leaf_hash", "0x" + HASH, "tree_size", "9"));
    assertThat(byHash.getKeyCase()).isEqualTo(GetInclusionProofRequest.KeyCase.LEAF_HASH);
    assertThat(byHash.getTreeSize()).isEqualTo(9);

    assertRefused(() -> LedgerRequests.inclusion(QueryParams.of()), "give exactly one of receipt_id and leaf_hash");
    assertRefused(() -> LedgerRequests.inclusion(QueryParams.of("receipt_id", "a", "leaf_hash", HASH)),
        "give exactly one of receipt_id and leaf_hash");
    assertRefused(() -> LedgerRequests.inclusion(QueryParams.of("receipt_id", "a", "tree_size", "0")),
        "tree_size must be of at least 1, not 0");
    assertThatThrownBy(() -> LedgerRequests.inclusion(QueryParams.of("leaf_hash", "nope")))
        .hasMessageStartingWith("leaf_hash must be a SHA-256 hash");
  }

  @Test
  void aConsistencyProofNeedsBothSizes() {
    var c = LedgerRequests.consistency(QueryParams.of("first", "0", "second", "5"));
    assertThat(c.getFirstSize()).isZero();
    assertThat(c.getSecondSize()).isEqualTo(5);
    assertRefused(() -> LedgerRequests.consistency(QueryParams.of("first", "2")),
        "first and second are required: the two tree sizes, e.g. ?first=10&second=20");
    assertRefused(() -> LedgerRequests.consistency(QueryParams.of("first", "x", "second", "5")),
        "first must be a whole number of at least 0, not 'x'");
  }

  @Test
  void aHeightThatIsNotOneNamesNoBlock() {
    assertThat(LedgerRequests.height("12")).isEqualTo(12);
    for (String bad : new String[] {"0", "-1", "x", "1.5", "", "99999999999999999999"}) {
      assertThatThrownBy(() -> LedgerRequests.height(bad)).as(bad)
          .isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> {
            assertThat(e.status().code()).isEqualTo(404);
            assertThat(e.getMessage()).isEqualTo("block not found");
          });
    }
  }

  @Test
  void verifyTakesAReceiptBareOrAsResultPrintsIt() {
    String receipt = "{\"receipt_id\":\"r\",\"units\":2.50,\"signature\":{\"alg\":\"Ed25519\"}}";
    // Bare: passed on exactly as written.
    assertThat(LedgerRequests.verifyBody(HttpData.ofUtf8(receipt))).isEqualTo(receipt);
    // Wrapped, as /result prints it: the receipt with its digits.
    String result = "{\"job_id\":\"j\",\"state\":\"COMPLETED\",\"result\":{},\"receipt\":" + receipt + "}";
    assertThat(LedgerRequests.verifyBody(HttpData.ofUtf8(result)))
        .isEqualTo("{\"receipt_id\":\"r\",\"units\":2.50,\"signature\":{\"alg\":\"Ed25519\"}}");
    // Neither: the coordinator names what is missing.
    assertThat(LedgerRequests.verifyBody(HttpData.ofUtf8("{\"a\":1}"))).isEqualTo("{\"a\":1}");

    assertRefused(() -> LedgerRequests.verifyBody(HttpData.ofUtf8("{\"receipt\":null}")),
        "receipt is null: the job has no receipt to verify");
    assertRefused(() -> LedgerRequests.verifyBody(HttpData.ofUtf8("{\"receipt\":\"x\"}")),
        "receipt must be a JSON object (a signed receipt)");
    assertRefused(() -> LedgerRequests.verifyBody(HttpData.ofUtf8("[1]")),
        "the body must be a signed receipt (a JSON object), or {\"receipt\": {...}}");
    assertThatThrownBy(() -> LedgerRequests.verifyBody(HttpData.ofUtf8("{\"a\":")))
        .isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> {
          assertThat(e.status().code()).isEqualTo(400);
          assertThat(e.getMessage()).startsWith("the request body is not valid JSON");
        });
    assertThatThrownBy(() -> LedgerRequests.verifyBody(HttpData.empty()))
        .hasMessageStartingWith("the request body is empty");
  }

  private static void assertRefused(ThrowingCallable call, String detail) {
    assertThatThrownBy(call).isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> {
      assertThat(e.status().code()).isEqualTo(422);
      assertThat(e.getMessage()).isEqualTo(detail);
    });
  }
}
