package net.aitbc.grid.ops.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import net.aitbc.grid.ledger.Attestations;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.MemoryTree;
import net.aitbc.grid.ledger.Receipts;
import net.aitbc.grid.ledger.Signatures;
import net.aitbc.grid.ledger.SigningKey;
import org.jspecify.annotations.Nullable;

/**
 * A ledger built with the ledger module as the coordinator builds one (worker-countersigned
 * receipts, blocks of RFC 9162 trees), whose stored parts a test may alter, served by a tiny HTTP
 * server that speaks the bridge's ledger routes (rest-ledger spec).
 */
final class TestLedger implements AutoCloseable {
  static final String API_KEY = "test-api-key";
  static final String WORKER = "worker-1";
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  final SigningKey coordinator = SigningKey.generate();
  final SigningKey workerKey = SigningKey.generate();
  /** The stored receipts, by leaf index (a test may alter or remove them). */
  final Map<Long, ObjectNode> receipts = new TreeMap<>();
  /** The sealed leaf hashes (level 0 of the ledger), by index (a test may alter or remove them). */
  final Map<Long, byte[]> sealed = new TreeMap<>();
  /** The stored signed headers, by height (a test may alter or remove them). */
  final Map<Long, ObjectNode> blocks = new TreeMap<>();
  /** Receipts issued but not sealed yet. */
  final List<ObjectNode> unsealed = new ArrayList<>();
  /** The tree as sealed, for proofs. */
  final MemoryTree tree = new MemoryTree();
  private final AtomicInteger jobs = new AtomicInteger();
  private final HttpServer server;

  /** A ledger of blocks that seal {@code counts[i]} receipts each. */
  TestLedger(int... counts) throws IOException {
    for (int count : counts) {
      List<ObjectNode> batch = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        batch.add(receipt());
      }
      seal(batch);
    }
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** A new job's receipt, countersigned by the worker and signed by the coordinator. */
  ObjectNode receipt() {
    int n = jobs.incrementAndGet();
    String jobId = String.format("%032x", n);
    ObjectNode result = NODES.objectNode().put("output", "answer " + n);
    ObjectNode metrics = NODES.objectNode().put("duration_ms", 2500);
    ObjectNode statement = Attestations.statement(WORKER, jobId, 1, result, metrics);
    Attestations.Attestation a = Attestations.signBatch(workerKey, WORKER, List.of(statement)).getFirst();
    ObjectNode body = NODES.objectNode();
    body.put("version", "1.0").put("receipt_id", String.format("%032x", 0xabc000L + n)).put("job_id", jobId)
        .put("provider", WORKER).put("client", "client-a").put("status", "COMPLETED").put("units", 2.5)
        .put("unit_type", "gpu_seconds").put("unit_price", 0.02).put("price", 0.05)
        .put("started_at", 1772712000L + n).put("completed_at", 1772712003L + n);
    ObjectNode metadata = body.putObject("metadata");
    metadata.putObject("job_payload").put("type", "inference").put("prompt", "hi " + n);
    metadata.putObject("job_constraints");
    metadata.set("result", result);
    metadata.set("metrics", metrics);
    metadata.set("worker", Attestations.toJson(workerKey.verifyingKey(), statement, a));
    return Signatures.sign(body, coordinator);
  }

  /** The signed receipt of a payment for {@code jobReceipt}'s job, released to its worker's owner. */
  ObjectNode paymentReceipt(ObjectNode jobReceipt) {
    int n = jobs.incrementAndGet();
    ObjectNode body = NODES.objectNode();
    body.put("version", "1.0").put("type", "payment").put("receipt_id", String.format("%032x", 0xdef000L + n))
        .put("payment_id", String.format("%032x", 0x9e000L + n)).put("job_id", jobReceipt.get("job_id").asText())
        .put("job_receipt_id", jobReceipt.get("receipt_id").asText()).put("client", "client-a")
        .put("status", "released").put("currency", "AITBC").put("amount", "1.50000000").put("fee", "0.03750000")
        .put("worker_owner", "owner-1").put("provider", WORKER).put("transfer_id", String.format("%032x", 0x70000L + n))
        .put("settled_at", 1772712100L + n);
    return Signatures.sign(body, coordinator);
  }

  /** The signed receipt of a completed execution whose step jobs are these job receipts' jobs. */
  ObjectNode executionReceipt(List<ObjectNode> stepReceipts) {
    int n = jobs.incrementAndGet();
    ObjectNode body = NODES.objectNode();
    body.put("version", "1.0").put("type", "execution").put("receipt_id", String.format("%032x", 0xe0e000L + n))
        .put("execution_id", String.format("%032x", 0xe1000L + n)).put("workflow_id", String.format("%032x", 0xaf000L))
        .put("client", "client-a").put("status", "completed").put("verification_level", "full")
        .put("total_cost", "0.10000000").put("started_at", 1772712200L + n).put("completed_at", 1772712209L + n)
        .put("result_sha256", CanonicalJson.sha256Hex(NODES.objectNode().put("answer", n)));
    ArrayNode steps = body.putArray("steps");
    for (int i = 0; i < stepReceipts.size(); i++) {
      ObjectNode r = stepReceipts.get(i);
      steps.addObject().put("step", "s" + i).put("item", 0).put("job_id", r.get("job_id").asText())
          .put("state", "COMPLETED").put("receipt_id", r.get("receipt_id").asText())
          .put("leaf_hash", Hex.encode(Receipts.leafHash(r)));
    }
    return Signatures.sign(body, coordinator);
  }

  /** Seals {@code batch} into the next block. */
  void seal(List<ObjectNode> batch) {
    long height = blocks.size() + 1;
    byte[] prev = height == 1 ? new byte[32] : Blocks.hash(blocks.get(height - 1));
    for (ObjectNode r : batch) {
      long index = tree.size();
      byte[] leaf = Receipts.leafHash(r);
      tree.append(leaf);
      receipts.put(index, r);
      sealed.put(index, leaf);
    }
    long size = tree.size();
    ObjectNode header = Blocks.header(height, prev, size, tree.root(size), batch.size(), 1772712000000L + height,
        coordinator.keyId());
    blocks.put(height, Signatures.sign(header, coordinator));
  }

  /** Signs a header again after a test changed it, as someone holding the key would. */
  void resign(long height) {
    blocks.put(height, Signatures.sign(blocks.get(height), coordinator));
  }

  @Override
  public void close() {
    server.stop(0);
  }

  // The server.

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!API_KEY.equals(ex.getRequestHeaders().getFirst("X-Api-Key"))) {
        send(ex, 401, NODES.objectNode().put("detail", "invalid api key"));
        return;
      }
      Map<String, String> q = query(ex.getRequestURI().getRawQuery());
      String path = ex.getRequestURI().getPath();
      JsonNode answer;
      if (path.equals("/v1/ledger/blocks")) {
        answer = blockPage(Integer.parseInt(q.getOrDefault("limit", "100")), Integer.parseInt(q.getOrDefault("offset", "0")));
      } else if (path.startsWith("/v1/ledger/blocks/")) {
        ObjectNode header = blocks.get(Long.parseLong(path.substring("/v1/ledger/blocks/".length())));
        answer = header == null ? null : blockItem(header);
      } else if (path.equals("/v1/ledger/leaves")) {
        answer = leaves(Long.parseLong(q.getOrDefault("start", "0")), Integer.parseInt(q.getOrDefault("limit", "1000")));
      } else if (path.equals("/v1/ledger/proofs/consistency")) {
        long first = Long.parseLong(q.get("first"));
        long second = Long.parseLong(q.get("second"));
        answer = NODES.objectNode().put("first", first).put("second", second)
            .set("hashes", hexList(tree.consistencyProof(first, second)));
      } else if (path.equals("/v1/ledger/proofs/inclusion")) {
        answer = inclusion(q.get("receipt_id"));
        if (answer == null) {
          send(ex, 404, NODES.objectNode().put("detail", "receipt not sealed yet"));
          return;
        }
      } else {
        answer = null;
      }
      if (answer == null) {
        send(ex, 404, NODES.objectNode().put("detail", "not found"));
      } else {
        send(ex, 200, answer);
      }
    }
  }

  private JsonNode blockPage(int limit, int offset) {
    List<ObjectNode> newestFirst = new ArrayList<>(blocks.values()).reversed();
    ArrayNode items = NODES.arrayNode();
    newestFirst.stream().skip(offset).limit(limit).forEach(h -> items.add(blockItem(h)));
    ObjectNode page = NODES.objectNode().set("items", items);
    if (offset + limit < newestFirst.size()) {
      page.put("next_offset", offset + limit);
    } else {
      page.putNull("next_offset");
    }
    return page;
  }

  private static ObjectNode blockItem(ObjectNode header) {
    ObjectNode item = NODES.objectNode();
    item.put("height", header.get("height").asLong()).put("hash", Hex.encode(Blocks.hash(header)));
    item.set("header", header);
    return item;
  }

  private JsonNode leaves(long start, int limit) {
    ArrayNode items = NODES.arrayNode();
    Map<Long, Object> indices = new TreeMap<>();
    sealed.keySet().forEach(i -> indices.put(i, i));
    receipts.keySet().forEach(i -> indices.put(i, i));
    indices.keySet().stream().filter(i -> i >= start).limit(limit).forEach(i -> {
      ObjectNode item = items.addObject().put("index", i);
      byte[] leaf = sealed.get(i);
      ObjectNode receipt = receipts.get(i);
      if (leaf != null) {
        item.put("leaf_hash", Hex.encode(leaf));
      }
      if (receipt != null) {
        item.put("entry_hash", Hex.encode(Receipts.leafHash(receipt))).put("receipt_id", receipt.get("receipt_id").asText());
      }
    });
    return NODES.objectNode().set("items", items);
  }

  private @Nullable JsonNode inclusion(String receiptId) {
    for (var e : receipts.entrySet()) {
      if (e.getValue().get("receipt_id").asText().equals(receiptId)) {
        ObjectNode head = blocks.get((long) blocks.size());
        long size = head.get("tree_size").asLong();
        ObjectNode proof = NODES.objectNode();
        proof.put("leaf_index", e.getKey()).put("tree_size", size).put("leaf_hash", Hex.encode(sealed.get(e.getKey())));
        proof.set("hashes", hexList(tree.inclusionProof(e.getKey(), size)));
        proof.put("block_height", head.get("height").asLong()).put("root", head.get("root").asText());
        return proof;
      }
    }
    return null;
  }

  /** The proof file of the receipt at {@code index}: the inclusion route's answer plus its block. */
  ObjectNode proofFile(long index) {
    ObjectNode proof = (ObjectNode) inclusion(receipts.get(index).get("receipt_id").asText());
    proof.set("block", blocks.get(proof.get("block_height").asLong()).deepCopy());
    return proof;
  }

  private static ArrayNode hexList(List<byte[]> hashes) {
    ArrayNode list = NODES.arrayNode();
    hashes.forEach(h -> list.add(Hex.encode(h)));
    return list;
  }

  private static Map<String, String> query(@Nullable String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        int eq = pair.indexOf('=');
        q.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return q;
  }

  private static void send(HttpExchange ex, int status, JsonNode body) throws IOException {
    byte[] bytes = CanonicalJson.write(body).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
  }
}
