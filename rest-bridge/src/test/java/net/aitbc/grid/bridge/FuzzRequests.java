package net.aitbc.grid.bridge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.jspecify.annotations.Nullable;

/**
 * Generates bad HTTP/1.1 requests to the bridge, as raw bytes. Request {@code i} of a run depends
 * only on the run's seed and {@code i} (and on the keys and the port), so that a failure can be
 * replayed with {@code -Dfuzz.seed=S}. Most requests carry a valid client key, so that they get past
 * authentication into the routes, the JSON reading and the coordinator.
 */
final class FuzzRequests {
  /** One generated request: a label that says what is odd about it, its bytes, and whether it is a HEAD. */
  record Fuzzed(int index, String label, byte[] bytes, boolean head) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HexFormat HEX = HexFormat.of();

  /** Paths of the submit body whose values get replaced by values of the wrong type or range. */
  private static final List<String> FIELDS = List.of(
      "", "payload", "ttl_seconds", "timeout_seconds", "priority", "constraints", "constraints.gpu", "constraints.cuda",
      "constraints.min_vram_gb", "constraints.models", "constraints.models.0", "constraints.region",
      "constraints.max_price", "payment_amount", "payment_currency", "payload.type", "payload.model",
      "payload.priority", "payload.prompt", "payload.input", "payload.messages", "payload.parameters");

  /** JSON values of every type and odd ranges. */
  private static final List<String> VALUES = List.of(
      "null", "true", "false", "0", "-0", "-1", "1", "9", "10", "-2147483648", "2147483647", "2147483648",
      "-2147483649", "4294967301", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
      "123456789012345678901234567890", "1.5", "-0.0", "0.1e1", "5.0", "1e2", "1e308", "-1e308", "1e400",
      "-1e400", "1e-400", "1E+1000", "0.000000000000000000000000000001", "\"\"", "\" \"", "\"x\"", "\"9\"",
      "\"5\"", "\"high\"", "\"HIGH\"", "\"urgent\"", "\"inference\"", "\"embedding\"", "\"has space\"",
      "\"a/b\"", "\"../../etc/passwd\"", "\"'; DROP TABLE job; --\"", "\"\\u0000\"", "\"a\\u0000b\"",
      "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\ud800\"", "\"\\ud83d\\ude00\"", "\"\\u202e\"", "\"\\uffff\"",
      "\"\u00e9t\u00e9\"", "\"\u65e5\u672c\"", "\"\\n\\r\\t\"", "\"" + "y".repeat(300) + "\"",
      "\"" + "z".repeat(70_000) + "\"", "[]", "[1,2]", "[\"a\",1]", "[null]", "[[[]]]", "[\"m\",\"m\"]", "{}",
      "{\"a\":1}", "{\"type\":\"inference\"}", "{\"\":\"\"}", "{\"a\":{\"b\":{\"c\":[]}}}");

  /** Byte sequences that are not UTF-8 (and one that is, the BOM). */
  private static final List<byte[]> BAD_UTF8 = List.of(
      bytes(0xff), bytes(0xfe, 0xff), bytes(0x80), bytes(0xc3, 0x28), bytes(0xc3), bytes(0xe2, 0x82),
      bytes(0xe2, 0x28, 0xa1), bytes(0xed, 0xa0, 0x80), bytes(0xed, 0xbf, 0xbf), bytes(0xc0, 0xaf),
      bytes(0xe0, 0x80, 0xaf), bytes(0xf8, 0x88, 0x80, 0x80, 0x80), bytes(0xf4, 0x90, 0x80, 0x80),
      bytes(0xf0, 0x28, 0x8c, 0x28), bytes(0xef, 0xbb, 0xbf), bytes(0x00), bytes(0x1b, 0x5b, 0x33, 0x31, 0x6d));

  private static final List<String> CONTENT_TYPES = List.of(
      "application/json", "application/json; charset=utf-8", "application/json; charset=latin1",
      "application/json; charset=utf-16", "application/json; charset=ebcdic", "application/json;;;",
      "text/plain", "text/html", "application/xml", "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=xyz", "multipart/form-data", "application/octet-stream", "*/*", "",
      "json", "application/", "/json", "application/json\t", "application/vnd.api+json", "image/png");

  private final String host;
  private final String clientKey;
  private final String otherClientKey;
  private final String workerKey;
  private final String knownJobId;
  private final List<String> extraValues;

  /**
   * A generator for the bridge at {@code port}.
   *
   * @param knownJobId a job of {@code clientKey}'s client that has ended (its event stream ends at once)
   * @param extraValues more JSON values to put in submit bodies
   */
  FuzzRequests(int port, String clientKey, String otherClientKey, String workerKey, String knownJobId,
      List<String> extraValues) {
    this.host = "127.0.0.1:" + port;
    this.clientKey = clientKey;
    this.otherClientKey = otherClientKey;
    this.workerKey = workerKey;
    this.knownJobId = knownJobId;
    this.extraValues = extraValues;
  }

  /** Request {@code index} of the run with this seed. */
  Fuzzed generate(long seed, int index) {
    Random r = new Random(seed * 0x9E3779B97F4A7C15L + index);
    int pick = r.nextInt(100);
    Req req;
    if (pick < 28) {
      req = submitBody(r);
    } else if (pick < 34) {
      req = minerCall(r);
    } else if (pick < 52) {
      req = oddIdOrPath(r);
    } else if (pick < 64) {
      req = oddQuery(r);
    } else if (pick < 79) {
      req = oddHeaders(r);
    } else if (pick < 88) {
      req = oddMethodOrContentType(r);
    } else if (pick < 95) {
      req = malformedHttp(r);
    } else {
      req = hugeOrDeep(r);
    }
    if (r.nextInt(4) == 0) {
      // Some connections are left open for keep-alive: the server must still answer, not wait.
      req.headers.removeIf(h -> new String(h, StandardCharsets.ISO_8859_1).equals("Connection: close"));
    }
    return new Fuzzed(index, req.label, req.bytes(r), req.method.equals("HEAD"));
  }

  // ---- POST /v1/jobs bodies ----------------------------------------------------------------------

  private Req submitBody(Random r) {
    ObjectNode doc = goodDocument(r);
    Req req = post("/v1/jobs");
    switch (r.nextInt(9)) {
      case 0, 1 -> {
        String field = pick(r, FIELDS);
        String value = r.nextInt(10) == 0 && !extraValues.isEmpty() ? pick(r, extraValues) : pick(r, VALUES);
        req.label = "submit, " + (field.isEmpty() ? "body" : field) + " = " + abbreviate(value);
        req.body = utf8(field.isEmpty() ? value : text(setRaw(doc, field, value)));
      }
      case 2 -> {
        byte[] whole = utf8(text(doc));
        int cut = r.nextInt(whole.length);
        req.label = "submit, body cut at " + cut + " of " + whole.length;
        req.body = java.util.Arrays.copyOf(whole, cut);
      }
      case 3 -> {
        byte[] whole = utf8(text(doc));
        int flips = 1 + r.nextInt(5);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(whole);
        byte[] noisy = b.toByteArray();
        for (int i = 0; i < flips; i++) {
          noisy[r.nextInt(noisy.length)] = (byte) r.nextInt(256);
        }
        req.label = "submit, " + flips + " random bytes in " + abbreviate(new String(noisy, StandardCharsets.ISO_8859_1));
        req.body = noisy;
      }
      case 4 -> {
        byte[] bad = pick(r, BAD_UTF8);
        String marker = "\"@@BAD@@\"";
        String where = pick(r, List.of("payload.prompt", "payload.model", "payload.type", "constraints.gpu", "key"));
        String template = where.equals("key")
            ? text(doc).replaceFirst("\\{", "{\"k@@BAD@@y\":1,")
            : text(setRaw(doc, where, marker));
        byte[] body = splice(utf8(template), utf8("@@BAD@@"), bad);
        req.label = "submit, invalid UTF-8 " + HEX.formatHex(bad) + " in " + where;
        req.body = body;
      }
      case 5 -> {
        String keys = pick(r, List.of(
            "{\"ttl_seconds\": 900}", "{\"Payload\": {\"type\": \"inference\"}}", "{\"payload \": {}}",
            "{\"pay\\u0000load\": {}}", "{\"payload\": {}, \"payload\": {}}", "{\"payload\": {\"a\": 1, \"a\": 2}}",
            "{\"payload\": {\"type\": \"inference\", \"type\": \"embedding\"}}", "{\"\": {}}",
            "{\"payload\": {}, \"ttl_seconds\": 1, \"ttl_seconds\": 2}", "{\"payload\": {}, \"constraints\": {\"gpu\": \"a\", \"gpu\": \"b\"}}",
            "{\"payload\": {\"\\ud800\": 1}}", "{\"payload\": {\"\\u0000\": 1}}", "{\"payload\": {}, \"extra\": " + "[".repeat(5) + "]".repeat(5) + "}",
            "{\"PAYLOAD\": {}}", "{\"payload\": {}, \"ttl\": 5}", "{\"payload\": {\"type\": null, \"model\": null, \"priority\": null}}"));
        req.label = "submit, keys " + abbreviate(keys);
        req.body = utf8(keys);
      }
      case 6 -> {
        String junk = pick(r, List.of(
            "[]", "[{\"payload\": {}}]", "\"payload\"", "1", "-0", "null", "true", "{}", "{} {}", "{}{}", "{\"payload\": {}}x",
            "\uFEFF{\"payload\": {}}", "/* c */ {\"payload\": {}}", "{'payload': {}}", "{payload: {}}",
            "{\"payload\": {},}", "{\"payload\": {\"n\": NaN}}", "{\"payload\": {\"n\": Infinity}}",
            "{\"payload\": {\"n\": 01}}", "{\"payload\": {\"n\": 1.}}", "{\"payload\": {\"n\": .5}}",
            "{\"payload\": {\"s\": \"\\x41\"}}", "{\"payload\": {\"s\": \"\\u12\"}}", "{\"payload\": {\"s\": \"tab\tin\"}}",
            "{\"payload\": {\"s\": \"nl\nin\"}}", "{\"payload\": {\"s\": \"\u0000raw\"}}", "{\"payload\": [}",
            "{", "}", "\"", "[", "\\", ":", ",", "{\"payload\"}", "{\"payload\":}", "{\"payload\" {}}",
            "{\"payload\": {\"type\": \"inference\"}} // trailing", "\u0000", "  \r\n\t  ", "undefined",
            "{\"payload\": {\"type\": \"inference\"}}\u0000", "{\"payload\": {\"x\": " + "1".repeat(2000) + "}}",
            "{\"payload\": {\"x\": 1" + "0".repeat(1100) + ".5}}", "{\"payload\": {\"x\": 1e" + "9".repeat(20) + "}}"));
        req.label = "submit, body " + abbreviate(junk);
        req.body = utf8(junk);
      }
      case 7 -> {
        ObjectNode payload = JSON.createObjectNode().put("type", "inference");
        String what;
        switch (r.nextInt(6)) {
          case 0 -> {
            what = "a 50 KB prompt";
            payload.put("prompt", "p".repeat(50_000));
          }
          case 1 -> {
            what = "2,000 keys";
            for (int i = 0; i < 2_000; i++) {
              payload.put("k" + i, i);
            }
          }
          case 2 -> {
            what = "a 5,000-element array";
            ArrayNode a = payload.putArray("input");
            for (int i = 0; i < 5_000; i++) {
              a.add(i % 7);
            }
          }
          case 3 -> {
            what = "control characters";
            StringBuilder s = new StringBuilder();
            for (char c = 1; c < 32; c++) {
              s.append(c);
            }
            payload.put("prompt", s.toString()).put("model", "\u0007\u001b[2J");
          }
          case 4 -> {
            what = "odd model names";
            payload.put("model", pick(r, List.of(" ", "M".repeat(201), "m".repeat(200), "\u00c5ngstr\u00f6m", "../m", "a\tb")));
          }
          default -> {
            what = "odd type names";
            payload.put("type", pick(r, List.of(" ", "A".repeat(64), "a".repeat(65), "-x", ".x", "x y", "INFERENCE",
                "\u0131nference", "embedding\n", "noop")));
          }
        }
        doc.set("payload", payload);
        req.label = "submit, payload with " + what;
        req.body = utf8(text(doc));
      }
      default -> {
        req.body = utf8(text(doc));
        String idem = pick(r, List.of("x".repeat(201), "x".repeat(5000), " ", "\u00e9", "a\tb", "id-" + r.nextInt(50)));
        if (r.nextBoolean()) {
          req.header("Idempotency-Key", idem).header("Idempotency-Key", "second-" + r.nextInt(5));
          req.label = "submit, two Idempotency-Keys, the first " + abbreviate(idem);
        } else {
          req.header("Idempotency-Key", idem);
          req.label = "submit, Idempotency-Key " + abbreviate(idem);
        }
      }
    }
    return req;
  }

  // ---- the miner routes ------------------------------------------------------------------------

  private static final List<String> MINER_BODIES = List.of(
      "{\"capabilities\": {\"gpu\": {\"model\": \"RTX4090\", \"memory_gb\": 24, \"cuda_cores\": 16384}, \"job_types\": [\"fuzz\"]}}",
      "{\"capabilities\": {\"cpu\": {\"cores\": 4}, \"memory\": {\"gb\": 16}, \"job_types\": [\"fuzz\"]}}",
      "{\"capabilities\": {\"gpu\": {\"memory_gb\": 1e400}}}", "{\"capabilities\": {\"gpu\": {\"memory_gb\": -1e30}}}",
      "{\"capabilities\": {\"gpu\": {\"memory_mb\": 1e30}}}", "{\"capabilities\": {\"gpu\": [1]}}",
      "{\"capabilities\": {\"gpus\": [1, \"x\", null, {\"name\": 5}]}}", "{\"capabilities\": {\"cuda\": \"abc\"}}",
      "{\"capabilities\": {\"cuda\": 1e400}}", "{\"capabilities\": {\"price\": -1}}",
      "{\"capabilities\": {\"price\": 1e400}}", "{\"capabilities\": {\"models\": [\"\\u0000\"]}}",
      "{\"capabilities\": {\"job_types\": []}}", "{\"capabilities\": {\"job_types\": [\"" + "t".repeat(100) + "\"]}}",
      "{\"capabilities\": {\"job_types\": [\"\\ud800\"]}}", "{\"capabilities\": null}", "{\"capabilities\": []}",
      "{\"concurrency\": 1e10, \"capabilities\": {}}", "{\"concurrency\": -5, \"capabilities\": {}}",
      "{\"concurrency\": 2.5, \"capabilities\": {}}", "{\"region\": 5, \"capabilities\": {}}",
      "{\"max_wait_seconds\": 1e400}", "{\"max_wait_seconds\": -0.0}", "{\"max_wait_seconds\": 0.000000001}",
      "{\"max_wait_seconds\": \"5\"}", "{\"max_wait_seconds\": 0}", "{\"max_wait_seconds\": -1}",
      "{\"result\": {\"o\": 1}, \"metrics\": 5}", "{\"result\": \"x\"}", "{\"result\": {\"\\u0000\": 1}}",
      "{\"attempt\": -1, \"result\": {}}", "{\"attempt\": 99999999999, \"result\": {}}", "{\"result\": {\"n\": 1e400}}",
      "{\"retryable\": 1}", "{\"error_code\": 5}", "{\"error_message\": \"" + "m".repeat(10_000) + "\"}",
      "{\"inflight\": \"x\"}", "{\"metadata\": []}", "{\"status\": \"\\u0000\"}", "", "[]", "null", "{",
      "{\"capabilities\": {}}x", "{\"capabilities\": {}, \"capabilities\": {}}");

  /** One of the miner routes, as the CLI or a broken script sends it, with odd miner ids, keys and bodies. */
  private Req minerCall(Random r) {
    String job = pick(r, List.of(knownJobId, "0".repeat(32), "not-a-job", "%00", "..", "x".repeat(300)));
    String miner = pick(r, List.of("fuzz-miner", "m1", "cli-miner", "x".repeat(300), "%C3%A9", "a%09b"));
    String query = pick(r, List.of("", "?limit=5&miner_id=" + miner, "?limit=0", "?limit=-1", "?limit=1e3",
        "?status=bogus", "?status=completed,pending", "?min_reward=abc", "?min_reward=-1", "?min_reward=1e400",
        "?type=" + "t".repeat(100), "?offset=-5", "?miner_id=other"));
    Req req = switch (r.nextInt(8)) {
      case 0 -> new Req("miner register", "POST", utf8("/v1/miners/register"));
      case 1 -> new Req("miner heartbeat", "POST", utf8("/v1/miners/heartbeat"));
      case 2 -> new Req("miner poll", "POST", utf8("/v1/miners/poll"));
      case 3 -> new Req("miner result", "POST", utf8("/v1/miners/" + job + "/result"));
      case 4 -> new Req("miner fail", "POST", utf8("/v1/miners/" + job + "/fail"));
      case 5 -> new Req("miner jobs", pick(r, List.of("POST", "GET")), utf8("/v1/miners/" + miner + "/jobs" + query));
      case 6 -> new Req("miner capabilities", "PUT", utf8("/v1/miners/" + miner + "/capabilities"));
      default -> new Req("miner deregister", "DELETE", utf8("/v1/miners/" + miner + query));
    };
    req.key(pick(r, List.of(workerKey, workerKey, workerKey, clientKey, "")));
    String id = pick(r, List.of("fuzz-miner", "fuzz-miner", "m1", "", " ", "x".repeat(300), "\u00e9", "a\tb", "-"));
    if (!id.equals("-")) {
      req.header("X-Miner-ID", id);
    }
    String body = pick(r, MINER_BODIES);
    if (!body.isEmpty()) {
      req.json(body);
    }
    req.label = req.label + " as " + abbreviate(id) + ", body " + abbreviate(body);
    return req;
  }

  private ObjectNode goodDocument(Random r) {
    ObjectNode doc = JSON.createObjectNode();
    ObjectNode payload = doc.putObject("payload")
        .put("type", pick(r, List.of("inference", "embedding", "fuzz-nobody-runs-this")))
        .put("prompt", "hi");
    if (r.nextBoolean()) {
      payload.put("model", pick(r, List.of("m", "llama3.2", "all-minilm-l6-v2")));
    }
    if (r.nextInt(4) == 0) {
      payload.put("priority", pick(r, List.of("low", "normal", "high")));
    }
    if (r.nextInt(4) == 0) {
      payload.putObject("parameters").put("temperature", 0.5).put("max_tokens", 16);
    }
    if (r.nextInt(10) < 6) {
      doc.put("ttl_seconds", 900);
    }
    if (r.nextInt(10) < 3) {
      doc.put("priority", r.nextInt(10));
    }
    if (r.nextInt(10) < 3) {
      ObjectNode c = doc.putObject("constraints").put("gpu", "RTX").put("min_vram_gb", 8).put("region", "eu")
          .put("max_price", 1.5);
      c.putArray("models").add("m");
    }
    if (r.nextInt(10) == 0) {
      doc.put("payment_amount", 0).put("payment_currency", "AITBC");
    }
    return doc;
  }

  /** Replaces the value at a dotted path ({@code constraints.models.0}) with raw JSON text. */
  private static ObjectNode setRaw(ObjectNode doc, String path, String raw) {
    String[] parts = path.split("\\.");
    JsonNode node = doc;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonNode next = node.get(parts[i]);
      if (next == null || !(next.isObject() || next.isArray())) {
        next = parts[i + 1].chars().allMatch(Character::isDigit) ? JSON.createArrayNode() : JSON.createObjectNode();
        ((ObjectNode) node).set(parts[i], next);
      }
      node = next;
    }
    String last = parts[parts.length - 1];
    if (node instanceof ArrayNode a) {
      a.removeAll();
      a.addRawValue(new RawValue(raw));
    } else {
      ((ObjectNode) node).putRawValue(last, new RawValue(raw));
    }
    return doc;
  }

  // ---- ids and paths -------------------------------------------------------------------------------

  private Req oddIdOrPath(Random r) {
    if (r.nextInt(4) == 0) {
      String path = pick(r, List.of(
          "/", "/v1", "/v1/", "/v1/jobs/", "//v1/jobs", "/v1//jobs", "/V1/JOBS", "/v1/jobs/history", "/v1/jobs/../health",
          "/%2e%2e/health", "/v1/jobs%2F" + randomHex(r), "/v2/jobs", "/api/v1/blocks", "/v1/explorer/receipts",
          "/admin", "/.env", "/openapi.json/..", "/health/../v1/jobs", "/v1/health/", "/health%00", "/v1/jobs%00",
          "/v1/jobs;jsessionid=1", "/v1/jobs/" + randomHex(r) + "/result/extra", "/" + "a/".repeat(1500),
          "/" + "x".repeat(10_000), "/v1/jobs/%", "/%", "/%%%", "/v1/jobs/%G0", "/.%2e/.%2e/etc/passwd",
          "/v1/jobs/" + randomHex(r) + "%3Fx=1", "/v1/jobs/" + randomHex(r) + "%23frag", "/\\v1\\jobs",
          "/v1/explorer/receipts?limit=%FF", "/v1/explorer/receipts?offset=-1&job_id=%00", "/api/v1/blocks?limit=1e3",
          "/explorer/transactions/0x" + randomHex(r), "/explorer/transactions/%00", "/v1/ledger/blocks/-1",
          "/v1/ledger/blocks/99999999999999999999", "/v1/ledger/proofs/inclusion?leaf_hash=0x&tree_size=x",
          "/v1/ledger/proofs/inclusion?receipt_id=" + randomHex(r) + "&tree_size=9223372036854775807",
          "/v1/ledger/proofs/consistency?first=5&second=1", "/v1/ledger/leaves?start=-1&limit=0", "/v1/receipts/verify",
          "/v1/sync-status?chain_id=%FF",
          "/v1/jobs\\" + randomHex(r), "/v1/jobs/" + randomHex(r) + "/cancel/", "/metrics", "/docs", "/internal/health"));
      String method = pick(r, List.of("GET", "GET", "POST", "DELETE", "PUT"));
      Req req = new Req("path " + abbreviate(path), method, utf8(path));
      req.key(clientKey);
      if (method.equals("POST") || method.equals("PUT")) {
        req.json("{\"payload\": {\"type\": \"inference\"}}");
      }
      return req;
    }
    byte[] id = pick(r, ids(r));
    String suffix = pick(r, List.of("", "", "/result", "/events", "/cancel", "/", "/result/", "//", "/receipt", "/../cancel",
        "/cancel?force=1", "/events?last_event_id=%FF"));
    String method = switch (suffix) {
      case "/cancel", "/../cancel", "/cancel?force=1" -> "POST";
      case "" -> r.nextInt(3) == 0 ? "DELETE" : "GET";
      default -> "GET";
    };
    if (r.nextInt(8) == 0) {
      method = pick(r, List.of("GET", "POST", "DELETE", "PUT", "PATCH"));
    }
    byte[] target = concat(utf8("/v1/jobs/"), id, utf8(suffix));
    String who = pick(r, List.of("client", "client", "client", "client", "client", "client", "other client", "worker", "none"));
    Req req = new Req(method + " job id " + abbreviate(new String(id, StandardCharsets.ISO_8859_1)) + suffix + " as " + who,
        method, target);
    req.key(switch (who) {
      case "client" -> clientKey;
      case "other client" -> otherClientKey;
      case "worker" -> workerKey;
      default -> null;
    });
    return req;
  }

  private List<byte[]> ids(Random r) {
    String hex = randomHex(r);
    List<byte[]> ids = new ArrayList<>();
    for (String s : List.of(
        "", "a", "0".repeat(31), "0".repeat(33), hex, hex.toUpperCase(Locale.ROOT), knownJobId.toUpperCase(Locale.ROOT),
        knownJobId + "%20", "%20" + knownJobId, knownJobId.substring(0, 31) + "g", knownJobId + "/" + knownJobId,
        "x".repeat(5000), "%C3%BC".repeat(10), "%FF%FE", "..", "%2e%2e", ".", "%00", knownJobId + "%00", "%2F", "a%2Fb",
        "%5C", "%", "%zz", "%%", "'%20OR%20'1'='1", "1;DROP%20TABLE%20job", "$(reboot)", "%7B%7B7*7%7D%7D",
        "%0d%0aX-Injected:%201", "null", "undefined", "-1", "0", "%F0%9F%98%80", "%ED%A0%80", "%C0%AF", "~", "%u0041",
        "0x" + hex.substring(2), "%20" + hex, "history", "HISTORY", "history%20", ";", "*", "%2A", hex + ";x=1", hex + "%3B", "%E2%80%AE" + hex)) {
      ids.add(utf8(s));
    }
    ids.add(concat(utf8(hex.substring(0, 16)), pick(r, BAD_UTF8), utf8(hex.substring(16))));
    ids.add(utf8("\u00fc\u00fc"));
    ids.add(bytes(0xff, 0xfe));
    ids.add(utf8("a\tb"));
    return ids;
  }

  // ---- list queries --------------------------------------------------------------------------------

  private Req oddQuery(Random r) {
    List<String> params = new ArrayList<>();
    int n = 1 + r.nextInt(4);
    for (int i = 0; i < n; i++) {
      params.add(queryParam(r));
    }
    String query = String.join("&", params);
    if (r.nextInt(20) == 0) {
      query = pick(r, List.of("&&&&", "=x", "%", "limit", "limit=", "?", "&limit=5&", "limit=5#frag",
          "x=" + "y".repeat(20_000), "limit=5&".repeat(2000) + "limit=6"));
    }
    String path = r.nextInt(3) == 0 ? "/v1/jobs/history" : "/v1/jobs";
    byte[] target = utf8(path + "?" + query);
    if (r.nextInt(15) == 0) {
      target = concat(utf8(path + "?status="), pick(r, BAD_UTF8), utf8("&limit=5"));
      query = "status=<raw bytes>&limit=5";
    }
    Req req = new Req("list " + path + "?" + abbreviate(query), "GET", target);
    req.key(r.nextInt(10) == 0 ? otherClientKey : clientKey);
    return req;
  }

  private static String queryParam(Random r) {
    List<String> numbers = List.of("-1", "0", "1", "20", "1000", "1001", "1000000000000", "abc", "", "%20" + "5",
        "5%20", "0x10", "1e3", "%00", "%FF", "9".repeat(400), "-0", "+5", "%D9%A3", "2147483647", "2147483648",
        "-2147483648", "1.0", "NaN", "%E2%88%9E");
    List<String> times = List.of("garbage", "", "2026-13-01", "99999-01-01T00:00:00Z", "-999999999-01-01T00:00:00Z",
        "%2B999999999-12-31T23:59:59Z", "2026-03-01%2000:00:00", "2026-03-01T00:00:00%2B25:00", "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "1970-01-01", "%00", "2026-03-01T00:00:00.1234567891Z",
        "T", "2026-03-01T24:00:00", "2026-02-30", "now", "1700000000", "2026-03-01T00:00:00Z%00", "%FF%FE",
        "2026-03-01T00:00:00-18:00", "2026-03-01T00:00:00%2B18:00", "2026-03-01T00:00:00[Europe/Paris]");
    List<String> states = List.of("garbage", "", ",", ",,,", "queued,garbage", "QUEUED", "%00", "%FF", "x".repeat(5000),
        "pending", "cancelled", "Completed", "queued,queued", "queued%2Crunning", "%20queued%20", "unspecified",
        "JOB_STATE_QUEUED", "1", "-1", "%E2%80%AEdeueuq");
    List<String> types = List.of("", "inference", "has%20space", "a".repeat(10_000), "%FF", "%ED%A0%80", "INFERENCE",
        "%27%20OR%201=1--", "..%2F..", "%0A", "%09");
    return switch (r.nextInt(10)) {
      case 0, 1 -> "limit=" + pick(r, numbers);
      case 2 -> "offset=" + pick(r, numbers);
      case 3 -> "status=" + pick(r, states);
      case 4 -> (r.nextBoolean() ? "type=" : "job_type=") + pick(r, types);
      case 5 -> "from_time=" + pick(r, times);
      case 6 -> "to_time=" + pick(r, times);
      case 7 -> pick(r, List.of("unknown=1", "limit", "status", "=", "%=%", "limit[]=5", "limit=5;offset=1", "a=%", "b=%%"));
      case 8 -> "include_results=" + pick(r, List.of("true", "TRUE", "1", "false", "0", "", "yes", "%00", "true,false"));
      default -> "status=" + pick(r, states) + "&status=" + pick(r, states);
    };
  }

  // ---- headers ------------------------------------------------------------------------------------

  private Req oddHeaders(Random r) {
    Req req = anyRoute(r, r.nextBoolean() ? "fuzz-" + r.nextInt(5) : randomHex(r));
    String what;
    switch (r.nextInt(14)) {
      case 0 -> {
        what = "no key";
      }
      case 1 -> {
        String key = pick(r, List.of("", " ", "\t", "wrong-key", "aitbc_c_" + "A".repeat(43), "aitbc_w_x", "null",
            "Bearer " + clientKey, clientKey.substring(0, clientKey.length() - 1), clientKey + "x",
            clientKey.toUpperCase(Locale.ROOT), "\"" + clientKey + "\"", clientKey + "," + clientKey));
        req.header("X-Api-Key", key);
        what = "key " + abbreviate(key.replace(clientKey, "<client key>"));
      }
      case 2 -> {
        byte[] bad = pick(r, BAD_UTF8);
        req.rawHeader(concat(utf8("X-Api-Key: aitbc_c_"), bad, utf8("rest")));
        what = "key with bytes " + HEX.formatHex(bad);
      }
      case 3 -> {
        int length = pick(r, List.of(300, 1000, 4000, 6000, 7000, 7900, 8100, 9000, 16_000, 30_000, 60_000));
        req.header("X-Api-Key", "k".repeat(length));
        what = "a " + length + "-character key";
      }
      case 4 -> {
        List<String> pair = pick(r, List.of(
            List.of(clientKey, "wrong"), List.of("wrong", clientKey), List.of(clientKey, clientKey),
            List.of(clientKey, workerKey), List.of(workerKey, clientKey), List.of("", clientKey), List.of(clientKey, "")));
        req.header("X-Api-Key", pair.get(0)).header("X-Api-Key", pair.get(1));
        what = "two keys";
      }
      case 5 -> {
        req.key(clientKey);
        req.header("Content-Type", "application/json").header("Content-Type", pick(r, CONTENT_TYPES));
        what = "two Content-Types";
      }
      case 6 -> {
        req.key(clientKey);
        int size = pick(r, List.of(8 * 1024, 16 * 1024, 64 * 1024, 100 * 1024));
        req.header(pick(r, List.of("X-Padding", "Cookie", "User-Agent", "Accept", "Referer")), "v".repeat(size));
        what = "a " + size / 1024 + " KiB header";
      }
      case 7 -> {
        req.key(clientKey);
        int count = pick(r, List.of(100, 200, 500, 2000));
        for (int i = 0; i < count; i++) {
          req.header("X-H-" + i, "v" + i);
        }
        what = count + " headers";
      }
      case 8 -> {
        req.key(clientKey);
        byte[] line = pick(r, List.of(
            utf8("NoColonHere"), utf8("Bad Name: v"), utf8(": empty name"), utf8(" leading-space: v"),
            utf8("X-Folded: a\r\n  continued"), utf8("X-Nul: a\u0000b"), utf8("X-Cr: a\rb"), utf8("X-\u00e9: v"),
            concat(utf8("X-Bytes: "), bytes(0xff, 0x80, 0x00)), utf8("X-Api-Key : " + clientKey),
            utf8("X-Api-Key:" + clientKey), utf8("x-api-key: " + clientKey), utf8("X-API-KEY: " + clientKey),
            utf8("Content-Length: abc"), utf8("Content-Length: -1"), utf8("Content-Length: 1, 2"),
            utf8("Transfer-Encoding: gzip"), utf8("Transfer-Encoding: chunked, identity"), utf8("Host: a, b"),
            utf8("Host:"), utf8("Host: " + "h".repeat(5000)), utf8("Connection: upgrade, close"),
            utf8("Accept-Encoding: " + "gzip, ".repeat(500)), utf8("Expect: something-else"), utf8("Range: bytes=0-1")));
        req.rawHeader(line);
        what = "header line " + abbreviate(new String(line, StandardCharsets.ISO_8859_1).replace(clientKey, "<client key>"));
      }
      case 9 -> {
        req.key(pick(r, List.of(otherClientKey, workerKey)));
        what = "another's key";
      }
      case 10 -> {
        req.key(clientKey);
        req.headers.removeIf(h -> new String(h, StandardCharsets.ISO_8859_1).startsWith("Host:"));
        if (r.nextBoolean()) {
          req.header("Host", "evil.example").header("Host", host);
        }
        what = "no or two Host headers";
      }
      case 11 -> {
        req.key(clientKey);
        req.header("Expect", "100-continue");
        what = "Expect: 100-continue";
      }
      case 12 -> {
        req.key(clientKey);
        req.header("Upgrade", pick(r, List.of("websocket", "h2c", "TLS/1.2", "x")));
        req.header("Connection", "Upgrade");
        req.header("HTTP2-Settings", pick(r, List.of("", "AAMAAABkAAQCAAAAAAIAAAAA", "!!!")));
        what = "an Upgrade";
      }
      default -> {
        req.key(clientKey);
        req.header("X-Forwarded-For", "' OR 1=1 --").header("Accept", "text/event-stream, */*;q=%%")
            .header("Accept-Charset", "ebcdic").header("Origin", "null").header("Cookie", "a=" + "\u00e9");
        what = "odd ordinary headers";
      }
    }
    req.label = req.label + " with " + what;
    return req;
  }

  /** A request to one of the bridge's routes, for a job id of this text, with no key yet. */
  private Req anyRoute(Random r, String id) {
    return switch (r.nextInt(9)) {
      case 0, 1 -> new Req("POST /v1/jobs", "POST", utf8("/v1/jobs")).json(
          "{\"payload\": {\"type\": \"inference\", \"prompt\": \"hi\"}, \"ttl_seconds\": 60}");
      case 2 -> r.nextBoolean() ? new Req("GET /v1/jobs", "GET", utf8("/v1/jobs?limit=5"))
          : new Req("GET /v1/jobs/history", "GET", utf8("/v1/jobs/history?limit=5&include_results=true"));
      case 3 -> new Req("GET job", "GET", utf8("/v1/jobs/" + id));
      case 4 -> new Req("GET result", "GET", utf8("/v1/jobs/" + id + "/result"));
      case 5 -> new Req("GET events", "GET", utf8("/v1/jobs/" + id + "/events"));
      case 6 -> new Req("POST cancel", "POST", utf8("/v1/jobs/" + id + "/cancel"));
      case 7 -> new Req("DELETE job", "DELETE", utf8("/v1/jobs/" + id));
      default -> new Req("GET health", "GET", utf8(pick(r, List.of("/health", "/v1/health", "/openapi.json"))));
    };
  }

  // ---- methods and content types --------------------------------------------------------------------

  private Req oddMethodOrContentType(Random r) {
    if (r.nextBoolean()) {
      String method = pick(r, List.of("PUT", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "FOO", "get", "Get",
          "PROPFIND", "M".repeat(100), "POST", "DELETE", "GET"));
      Req req = anyRoute(r, randomHex(r));
      req.method = method;
      req.key(clientKey);
      if (method.equals("CONNECT")) {
        req.target = utf8(host);
      }
      if (r.nextBoolean() && req.body == null) {
        req.json("{\"payload\": {}}");
      }
      req.label = method + " on " + req.label;
      return req;
    }
    String type = pick(r, CONTENT_TYPES);
    Req req = post("/v1/jobs");
    req.headers.removeIf(h -> new String(h, StandardCharsets.ISO_8859_1).startsWith("Content-Type:"));
    if (r.nextInt(5) > 0) {
      req.header("Content-Type", type);
    } else {
      type = "(none)";
    }
    String body = pick(r, List.of("{\"payload\": {\"type\": \"inference\"}}", "payload=x&ttl_seconds=5",
        "<job><payload/></job>", "--xyz\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n{}\r\n--xyz--", ""));
    if (type.contains("utf-16") && r.nextBoolean()) {
      req.body = "{\"payload\": {\"type\": \"inference\"}}".getBytes(StandardCharsets.UTF_16);
    } else {
      req.body = utf8(body);
    }
    req.label = "submit as Content-Type " + type + ": " + abbreviate(body);
    return req;
  }

  // ---- malformed HTTP ------------------------------------------------------------------------------

  private Req malformedHttp(Random r) {
    Req req = new Req("", "GET", utf8("/v1/jobs"));
    req.key(clientKey);
    switch (r.nextInt(12)) {
      case 0 -> {
        req.version = pick(r, List.of("HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "http/1.1", "HTTP/1.1.1", "HTTP/", "HTTPS/1.1",
            "HTTP/1.x", "HTTP/01.1"));
        req.label = "version " + req.version;
      }
      case 1 -> {
        req.target = utf8(pick(r, List.of("http://evil.example/v1/jobs", "http://" + host + "/v1/jobs", "*",
            "v1/jobs", "//evil.example/v1/jobs", "http:///v1/jobs", "/v1/jobs?" + "%".repeat(3))));
        req.label = "target " + new String(req.target, StandardCharsets.UTF_8);
      }
      case 2 -> {
        req.raw = pick(r, List.of(utf8("GET /v1/jobs\r\n\r\n"), utf8("GET\r\n\r\n"), utf8("/v1/jobs HTTP/1.1\r\n\r\n"),
            utf8("GET  /v1/jobs  HTTP/1.1\r\nHost: x\r\n\r\n"), utf8("GET /v1/jobs HTTP/1.1\nHost: x\nX-Api-Key: " + clientKey + "\n\n"),
            utf8("GET /v1/jobs HTTP/1.1\rHost: x\r\r\n\r\n"), utf8("\r\nGET /v1/jobs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            concat(bytes(0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03), utf8("\r\n\r\n")),
            utf8("GET /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
            utf8("G\u00c9T /v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n"), utf8("GET /v1/jobs HTTP/1.1\r\n" + "X: y\r\n".repeat(5) + "\r\n")));
        req.label = "raw " + abbreviate(new String(req.raw, StandardCharsets.ISO_8859_1));
      }
      case 3 -> {
        req.method = "POST";
        req.headers.add(utf8("Content-Type: application/json"));
        req.headers.add(utf8("Transfer-Encoding: chunked"));
        req.rawBody = pick(r, List.of(utf8("zz\r\nabc\r\n0\r\n\r\n"), utf8("-1\r\nabc\r\n0\r\n\r\n"),
            utf8("FFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n"), utf8("3\r\nabcdef\r\n0\r\n\r\n"), utf8("3;ext=\"x\r\nabc\r\n0\r\n\r\n"),
            utf8("0\r\nX-Trailer: " + "t".repeat(20_000) + "\r\n\r\n"), utf8("2\r\n{}\r\n0\r\nContent-Length: 5\r\n\r\n")));
        req.target = utf8("/v1/jobs");
        req.label = "chunked body " + abbreviate(new String(req.rawBody, StandardCharsets.ISO_8859_1));
      }
      case 4 -> {
        req.method = "POST";
        String body = "{\"payload\": {\"type\": \"inference\"}}";
        req.headers.add(utf8("Content-Type: application/json"));
        req.headers.add(utf8("Content-Length: " + body.length()));
        req.headers.add(utf8("Transfer-Encoding: chunked"));
        req.rawBody = utf8(Integer.toHexString(body.length()) + "\r\n" + body + "\r\n0\r\n\r\n");
        req.label = "both Content-Length and chunked";
      }
      case 5 -> {
        req.method = "POST";
        String first = "{\"payload\": {\"type\": \"inference\"}}";
        String body = first + "GET /v1/jobs HTTP/1.1\r\nHost: x\r\n\r\n";
        req.headers.add(utf8("Content-Type: application/json"));
        req.headers.add(utf8("Content-Length: " + first.length()));
        req.rawBody = utf8(body);
        req.label = "a body longer than its Content-Length (a smuggled second request)";
      }
      case 6 -> {
        req.method = "GET";
        req.body = utf8("{\"payload\": {}}");
        req.header("Content-Type", "application/json");
        req.label = "GET with a body";
      }
      case 7 -> {
        req.method = "POST";
        req.target = utf8("/v1/jobs");
        req.header("Content-Type", "application/json").header("Content-Encoding", pick(r, List.of("gzip", "br", "x")));
        req.body = r.nextBoolean() ? utf8("{\"payload\": {}}") : bytes(0x1f, 0x8b, 0x08, 0x00, 0xff, 0xff);
        req.label = "Content-Encoding the server does not decode";
      }
      case 8 -> {
        byte[] noise = new byte[1 + r.nextInt(2000)];
        r.nextBytes(noise);
        req.raw = concat(utf8("X"), noise, utf8("\r\n\r\n"));
        req.label = "random bytes (" + req.raw.length + ")";
      }
      case 9 -> {
        req.target = concat(utf8("/v1/jobs/"), pick(r, BAD_UTF8), utf8("/result"));
        req.label = "raw invalid UTF-8 in the path";
      }
      case 10 -> {
        req.target = utf8("/v1/jobs?limit=5 HTTP/1.1\r\nX-Injected: 1\r\nX: ");
        req.label = "header injection in the target";
      }
      default -> {
        req.target = utf8("/v1/jobs/" + randomHex(r) + "/events");
        req.header("Last-Event-ID", "\u00ff".repeat(10)).header("Accept", "text/event-stream");
        req.label = "events with odd Last-Event-ID";
      }
    }
    return req;
  }

  // ---- huge and deep bodies ------------------------------------------------------------------------

  private Req hugeOrDeep(Random r) {
    Req req = post("/v1/jobs");
    int limit = 1 << 20;
    switch (r.nextInt(8)) {
      case 0 -> {
        int size = limit + 1 + r.nextInt(64 * 1024);
        req.body = utf8("{\"payload\": {\"prompt\": \"" + "x".repeat(size) + "\"}}");
        req.label = "a body of " + req.body.length + " bytes";
      }
      case 1 -> {
        int size = limit + 1 + r.nextInt(64 * 1024);
        req.body = utf8("{\"payload\": {\"prompt\": \"" + "x".repeat(size) + "\"}}");
        req.chunked = true;
        req.label = "a chunked body of " + req.body.length + " bytes";
      }
      case 2 -> {
        // Just under the bridge's limit: it reads it; the coordinator counts the payload's characters.
        String head = "{\"payload\": {\"prompt\": \"";
        String tail = "\"}}";
        req.body = utf8(head + "x".repeat(limit - head.length() - tail.length() - r.nextInt(50)) + tail);
        req.label = "a body of " + req.body.length + " bytes (just under 1 MiB)";
      }
      case 3 -> {
        int depth = pick(r, List.of(1000, 1001, 5000, 10_000, 100_000));
        boolean closed = r.nextBoolean();
        String open = pick(r, List.of("[", "{\"a\":"));
        String close = open.equals("[") ? "]" : "}";
        req.body = utf8(open.repeat(depth) + (open.equals("[") ? "" : "1") + (closed ? close.repeat(depth) : ""));
        req.label = depth + " levels of " + open + (closed ? " (closed)" : " (open)");
      }
      case 4 -> {
        int depth = pick(r, List.of(10, 500, 990, 997, 998, 999, 1000, 2000));
        req.body = utf8("{\"payload\": {\"type\": \"inference\", \"deep\": " + "[".repeat(depth) + "]".repeat(depth) + "}}");
        req.label = "a payload nested " + depth + " levels deep";
      }
      case 5 -> {
        int depth = pick(r, List.of(500, 998, 999, 1000));
        req.body = utf8("{\"payload\": {\"type\": \"inference\"}, \"constraints\": {\"models\": " + "[".repeat(depth)
            + "]".repeat(depth) + "}}");
        req.label = "constraints.models nested " + depth + " levels deep";
      }
      case 6 -> {
        StringBuilder b = new StringBuilder("{\"payload\": {\"type\": \"inference\"}");
        int n = pick(r, List.of(2_000, 10_000));
        for (int i = 0; i < n; i++) {
          b.append(",\"k").append(i).append("\":").append(i);
        }
        req.body = utf8(b.append('}').toString());
        req.label = n + " top-level keys";
      }
      default -> {
        req.body = utf8("{\"payload\": {\"type\": \"inference\", \"prompt\": \"" + "\\u00e9".repeat(30_000) + "\"}}");
        req.label = "30,000 escaped characters";
      }
    }
    return req;
  }

  // ---- plumbing -------------------------------------------------------------------------------------

  private Req post(String path) {
    Req req = new Req("", "POST", utf8(path));
    req.key(clientKey);
    req.header("Content-Type", "application/json");
    return req;
  }

  /** A request under construction. */
  private final class Req {
    String label;
    String method;
    byte[] target;
    String version = "HTTP/1.1";
    final List<byte[]> headers = new ArrayList<>();
    byte @Nullable [] body;
    /** Sent after the headers as it is, with no Content-Length of ours. */
    byte @Nullable [] rawBody;
    /** The whole request, as it is. */
    byte @Nullable [] raw;
    boolean chunked;

    Req(String label, String method, byte[] target) {
      this.label = label;
      this.method = method;
      this.target = target;
      header("Host", host);
      header("Connection", "close");
    }

    Req key(@Nullable String key) {
      headers.removeIf(h -> new String(h, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT).startsWith("x-api-key:"));
      return key == null ? this : header("X-Api-Key", key);
    }

    Req header(String name, String value) {
      headers.add(utf8(name + ": " + value));
      return this;
    }

    Req rawHeader(byte[] line) {
      headers.add(line);
      return this;
    }

    Req json(String text) {
      header("Content-Type", "application/json");
      body = utf8(text);
      return this;
    }

    byte[] bytes(Random r) {
      if (raw != null) {
        return raw;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(utf8(method + " "));
      out.writeBytes(target);
      out.writeBytes(utf8(" " + version + "\r\n"));
      for (byte[] h : headers) {
        out.writeBytes(h);
        out.writeBytes(utf8("\r\n"));
      }
      if (rawBody != null) {
        out.writeBytes(utf8("\r\n"));
        out.writeBytes(rawBody);
      } else if (body != null && chunked) {
        out.writeBytes(utf8("Transfer-Encoding: chunked\r\n\r\n"));
        int at = 0;
        while (at < body.length) {
          int n = Math.min(body.length - at, 1 + r.nextInt(64 * 1024));
          out.writeBytes(utf8(Integer.toHexString(n) + "\r\n"));
          out.write(body, at, n);
          out.writeBytes(utf8("\r\n"));
          at += n;
        }
        out.writeBytes(utf8("0\r\n\r\n"));
      } else if (body != null) {
        out.writeBytes(utf8("Content-Length: " + body.length + "\r\n\r\n"));
        out.writeBytes(body);
      } else {
        if (method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
          out.writeBytes(utf8("Content-Length: 0\r\n"));
        }
        out.writeBytes(utf8("\r\n"));
      }
      return out.toByteArray();
    }
  }

  private static String text(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String randomHex(Random r) {
    return HEX.toHexDigits(r.nextLong()) + HEX.toHexDigits(r.nextLong());
  }

  private static <T> T pick(Random r, List<T> list) {
    return list.get(r.nextInt(list.size()));
  }

  static String abbreviate(String s) {
    String oneLine = s.replace("\r", "\\r").replace("\n", "\\n").replace("\u0000", "\\0");
    return oneLine.length() <= 80 ? oneLine : oneLine.substring(0, 80) + "…(" + s.length() + ")";
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] bytes(int... values) {
    byte[] b = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      b[i] = (byte) values[i];
    }
    return b;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** {@code haystack} with the first {@code needle} replaced by {@code replacement}. */
  private static byte[] splice(byte[] haystack, byte[] needle, byte[] replacement) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return concat(java.util.Arrays.copyOfRange(haystack, 0, i), replacement,
          java.util.Arrays.copyOfRange(haystack, i + needle.length, haystack.length));
    }
    return haystack;
  }
}
