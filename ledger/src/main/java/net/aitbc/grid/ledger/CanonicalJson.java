package net.aitbc.grid.ledger;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.POJONode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The canonical JSON that receipts and blocks are signed over (contract §6): what Python's {@code
 * json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=True)} writes after nulls are
 * dropped, so that a Python verifier and this one hash the same bytes.
 */
public final class CanonicalJson {
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          // Two values for one key would let two verifiers read two different documents.
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** Python orders str keys by code point; UTF-16 order differs once a key has an astral character. */
  static final Comparator<String> CODE_POINT_ORDER = CanonicalJson::compareCodePoints;

  private CanonicalJson() {}

  /** Parses JSON into a Jackson tree (floats as doubles, integers as integers); IllegalArgumentException saying why it is not JSON. */
  public static JsonNode parse(String json) {
    try {
      JsonNode node = MAPPER.readTree(json);
      if (node.isMissingNode()) {
        throw new IllegalArgumentException("not valid JSON: no content");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** The canonical text of {@code node}; IllegalArgumentException for a non-finite number or a non-JSON node. */
  public static String write(JsonNode node) {
    StringBuilder out = new StringBuilder(2048);
    writeValue(node, out);
    return out.toString();
  }

  /** {@link #write} as UTF-8 bytes (the text is pure ASCII). */
  public static byte[] bytes(JsonNode node) {
    return write(node).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Text already in canonical form, which a tree holds (see {@link #fragment}) to have it written
   * as is: what was written once, to be hashed or checked, is not parsed and written again.
   *
   * @param text canonical JSON
   */
  public record Fragment(String text) {}

  /** A node that {@link #write} writes verbatim; {@code canonicalText} must be canonical already. */
  public static JsonNode fragment(String canonicalText) {
    return JsonNodeFactory.instance.pojoNode(new Fragment(canonicalText));
  }

  /** The canonical form of JSON text: {@code write(parse(json))}. */
  public static String canonicalize(String json) {
    return write(parse(json));
  }

  /** SHA-256 of {@code data}. */
  public static byte[] sha256(byte[] data) {
    return sha256().digest(data);
  }

  /** Hex SHA-256 of the canonical bytes of {@code node}. */
  public static String sha256Hex(JsonNode node) {
    return Hex.encode(sha256(bytes(node)));
  }

  /** A fresh SHA-256 digest: cloned from one looked up once (a provider lookup per hash costs more than the hash). */
  static MessageDigest sha256() {
    try {
      return (MessageDigest) SHA256.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("the JDK's SHA-256 is cloneable", e);
    }
  }

  private static final MessageDigest SHA256 = lookUpSha256();

  private static MessageDigest lookUpSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static void writeValue(JsonNode node, StringBuilder out) {
    switch (node.getNodeType()) {
      case OBJECT -> writeObject(node, out);
      case ARRAY -> writeArray(node, out);
      case STRING -> writeString(node.textValue(), out);
      case BOOLEAN -> out.append(node.booleanValue());
      case NULL -> out.append("null");
      case NUMBER -> writeNumber(node, out);
      case POJO -> {
        if (!(node instanceof POJONode pojo && pojo.getPojo() instanceof Fragment f)) {
          throw new IllegalArgumentException("a POJO node has no JSON form: " + node);
        }
        out.append(f.text());
      }
      default ->
          throw new IllegalArgumentException(
              "a " + node.getNodeType() + " node has no JSON form: " + node.getClass().getSimpleName());
    }
  }

  private static void writeObject(JsonNode node, StringBuilder out) {
    List<Map.Entry<String, JsonNode>> members = new ArrayList<>(node.size());
    for (Map.Entry<String, JsonNode> member : node.properties()) {
      if (!member.getValue().isNull()) {
        members.add(member);
      }
    }
    members.sort(Map.Entry.comparingByKey(CODE_POINT_ORDER));
    out.append('{');
    for (int i = 0; i < members.size(); i++) {
      if (i > 0) {
        out.append(',');
      }
      writeString(members.get(i).getKey(), out);
      out.append(':');
      writeValue(members.get(i).getValue(), out);
    }
    out.append('}');
  }

  private static void writeArray(JsonNode node, StringBuilder out) {
    out.append('[');
    boolean first = true;
    for (JsonNode element : node) {
      if (element.isNull()) {
        continue;
      }
      if (!first) {
        out.append(',');
      }
      first = false;
      writeValue(element, out);
    }
    out.append(']');
  }

  private static void writeNumber(JsonNode node, StringBuilder out) {
    if (node.isIntegralNumber()) {
      out.append(node.isBigInteger() ? node.bigIntegerValue().toString() : Long.toString(node.longValue()));
    } else {
      PythonFloat.append(node.doubleValue(), out);
    }
  }

  /** Appends {@code s} as a canonical JSON string. */
  static void writeString(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          // Python's ensure_ascii keeps only ' '..'~' as is: DEL (0x7f) is escaped too.
          if (c >= 0x20 && c < 0x7f) {
            out.append(c);
          } else {
            out.append("\\u").append(HEX[c >> 12]).append(HEX[(c >> 8) & 0xf])
                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
          }
        }
      }
    }
    out.append('"');
  }

  private static int compareCodePoints(String a, String b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char x = a.charAt(i);
      char y = b.charAt(i);
      if (x != y) {
        return liftSurrogates(x) - liftSurrogates(y);
      }
    }
    return a.length() - b.length();
  }

  /** Moves surrogates (astral code points) above U+E000..U+FFFF, as code point order has them. */
  private static int liftSurrogates(char c) {
    if (c < 0xd800) {
      return c;
    }
    return c >= 0xe000 ? c - 0x800 : c + 0x2000;
  }
}
