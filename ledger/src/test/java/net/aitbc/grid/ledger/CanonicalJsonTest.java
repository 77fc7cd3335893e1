package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.FloatNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Canonical JSON against Python's {@code json.dumps(sort_keys=True, separators=(",",":"),
 * ensure_ascii=True)}. The expected texts are worked out by hand from Python's rules: repr(float)
 * uses the shortest round-trip digits, fixed notation when the decimal exponent is in [-4, 16),
 * else d.ddde±XX; ensure_ascii escapes everything outside ' '..'~' as lowercase \\uXXXX.
 */
class CanonicalJsonTest {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
    "1e16                    | 1e+16",
    "1E16                    | 1e+16",
    "1.5e16                  | 1.5e+16",
    "1e15                    | 1000000000000000.0",
    "9999999999999998.0      | 9999999999999998.0",
    "1e-5                    | 1e-05",
    "1.2e-5                  | 1.2e-05",
    "-1.5e-7                 | -1.5e-07",
    "0.0001                  | 0.0001",
    "0.00012                 | 0.00012",
    "0.001                   | 0.001",
    "123456789012345.0       | 123456789012345.0",
    "1.5e300                 | 1.5e+300",
    "1e100                   | 1e+100",
    "1e23                    | 1e+23",
    "1.7976931348623157e308  | 1.7976931348623157e+308",
    "5e-324                  | 5e-324",
    "2.2250738585072014e-308 | 2.2250738585072014e-308",
    "-0.0                    | -0.0",
    "0.0                     | 0.0",
    "0e5                     | 0.0",
    "2.0                     | 2.0",
    "2.5                     | 2.5",
    "0.05                    | 0.05",
    "0.02                    | 0.02",
    "1E2                     | 100.0",
    "100.0                   | 100.0",
    "1234567.0               | 1234567.0",
    "0.1                     | 0.1",
    "0.30000000000000004     | 0.30000000000000004",
    "0                       | 0",
    "-0                      | 0",
    "42                      | 42",
    "-9223372036854775808    | -9223372036854775808",
    "9223372036854775808     | 9223372036854775808",
    "-9223372036854775809    | -9223372036854775809",
    "12345678901234567890123 | 12345678901234567890123",
    "true                    | true",
    "null                    | null",
  })
  void numbersAndScalarsAsPythonWritesThem(String json, String expected) {
    assertThat(CanonicalJson.canonicalize(json)).isEqualTo(expected);
  }

  @Test
  void numberNodesBuiltInJava() {
    assertThat(CanonicalJson.write(DoubleNode.valueOf(0.1 + 0.2))).isEqualTo("0.30000000000000004");
    assertThat(CanonicalJson.write(DoubleNode.valueOf(-0.0))).isEqualTo("-0.0");
    assertThat(CanonicalJson.write(DoubleNode.valueOf(Double.MIN_VALUE))).isEqualTo("5e-324");
    assertThat(CanonicalJson.write(DoubleNode.valueOf(3 * Double.MIN_VALUE))).isEqualTo("1.5e-323");
    assertThat(CanonicalJson.write(DoubleNode.valueOf(1e7))).isEqualTo("10000000.0");
    assertThat(CanonicalJson.write(JSON.numberNode(BigInteger.TWO.pow(70)))).isEqualTo("1180591620717411303424");
    assertThat(CanonicalJson.write(JSON.numberNode(Long.MAX_VALUE))).isEqualTo("9223372036854775807");
    assertThat(CanonicalJson.write(JSON.numberNode((short) -7))).isEqualTo("-7");
    // A BigDecimal is written as its double, the way Python would hold it.
    assertThat(CanonicalJson.write(DecimalNode.valueOf(new BigDecimal("2.50")))).isEqualTo("2.5");
    assertThat(CanonicalJson.write(DecimalNode.valueOf(new BigDecimal("1E+2")))).isEqualTo("100.0");
    assertThat(CanonicalJson.write(FloatNode.valueOf(0.5f))).isEqualTo("0.5");
  }

  @Test
  void nullsAreDroppedAtEveryDepthButEmptyContainersStay() {
    assertThat(CanonicalJson.canonicalize(
            "{\"a\":null,\"b\":{\"c\":null,\"d\":[1,null,{\"e\":null},[null]]},\"f\":[null,null]}"))
        .isEqualTo("{\"b\":{\"d\":[1,{},[]]},\"f\":[]}");
    ObjectNode built = JSON.objectNode();
    built.putNull("x");
    built.putArray("y").addNull().add(2.0).addNull();
    assertThat(CanonicalJson.write(built)).isEqualTo("{\"y\":[2.0]}");
  }

  @Test
  void keysAreSortedByCodePoint() {
    assertThat(CanonicalJson.canonicalize("{\"b\":1,\"a\":2,\"A\":3,\"aa\":4,\"\":5,\"a\\u0000\":6}"))
        .isEqualTo("{\"\":5,\"A\":3,\"a\":2,\"a\\u0000\":6,\"aa\":4,\"b\":1}");
    // Java's String.compareTo puts U+1F600 (surrogates D83D DE00) before U+FFFF and U+E000; Python after.
    ObjectNode keys = JSON.objectNode();
    keys.put("\uD83D\uDE00", 1);
    keys.put("\uFFFF", 2);
    keys.put("\uE000", 3);
    keys.put("\uD7FF", 4);
    keys.put("\uD83D\uDE00a", 5);
    keys.put("\uD800\uDC00", 6);
    assertThat(CanonicalJson.write(keys))
        .isEqualTo("{\"\\ud7ff\":4,\"\\ue000\":3,\"\\uffff\":2,\"\\ud800\\udc00\":6,"
            + "\"\\ud83d\\ude00\":1,\"\\ud83d\\ude00a\":5}");
  }

  @Test
  void stringsAreEscapedAsEnsureAsciiDoes() {
    String raw = "q\" b\\ n\n r\r t\t b\b f\f nul\u0000 us\u001f sp / ~ del\u007f e\u00e9 z\u4e2d smile\uD83D\uDE00 lone\uD800";
    assertThat(CanonicalJson.write(JSON.textNode(raw)))
        .isEqualTo("\"q\\\" b\\\\ n\\n r\\r t\\t b\\b f\\f nul\\u0000 us\\u001f sp / ~ del\\u007f"
            + " e\\u00e9 z\\u4e2d smile\\ud83d\\ude00 lone\\ud800\"");
    assertThat(CanonicalJson.canonicalize("\"\\u00E9\\/\"")).isEqualTo("\"\\u00e9/\"");
    assertThat(CanonicalJson.bytes(JSON.textNode("\u00e9"))).containsExactly("\"\\u00e9\"".getBytes());
  }

  @Test
  void nonFiniteNumbersAndBadJsonAreRejected() {
    assertThatThrownBy(() -> CanonicalJson.parse("NaN")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CanonicalJson.parse("[Infinity]")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CanonicalJson.parse("{\"a\":-Infinity}")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CanonicalJson.write(DoubleNode.valueOf(Double.NaN)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NaN");
    assertThatThrownBy(() -> CanonicalJson.write(JSON.arrayNode().add(Double.POSITIVE_INFINITY)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Infinity");
    // Overflows to infinity when read, so it cannot be written back.
    assertThatThrownBy(() -> CanonicalJson.canonicalize("1e400")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CanonicalJson.parse("{\"a\":1")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("not valid JSON");
    assertThatThrownBy(() -> CanonicalJson.parse(" ")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("not valid JSON: no content");
    assertThatThrownBy(() -> CanonicalJson.parse("{} []")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Trailing");
    assertThatThrownBy(() -> CanonicalJson.parse("{\"a\":1,\"a\":2}")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Duplicate");
    assertThatThrownBy(() -> CanonicalJson.write(JSON.binaryNode(new byte[] {1})))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void hashesAreOfTheCanonicalBytes() {
    assertThat(CanonicalJson.sha256Hex(CanonicalJson.parse("{\"b\": 1, \"a\": null}")))
        .isEqualTo(Hex.encode(CanonicalJson.sha256("{\"b\":1}".getBytes())));
    assertThat(Hex.encode(CanonicalJson.sha256(new byte[0])))
        .isEqualTo("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }

  @Test
  void canonicalizeIsIdempotentOnRandomTrees() {
    Random random = new Random(20260305);
    for (int i = 0; i < 2000; i++) {
      JsonNode tree = randomValue(random, 0);
      String once = CanonicalJson.write(tree);
      assertThat(CanonicalJson.canonicalize(once)).isEqualTo(once);
      assertThat(once.chars().allMatch(c -> c >= 0x20 && c < 0x7f)).as("pure printable ASCII: %s", once).isTrue();
    }
  }

  @Test
  void randomDoublesRoundTripInPythonLayout() {
    Random random = new Random(7);
    List<String> wrong = new ArrayList<>();
    for (int i = 0; i < 100_000 && wrong.size() < 10; i++) {
      double value = switch (i % 3) {
        case 0 -> Double.longBitsToDouble(random.nextLong());
        case 1 -> random.nextDouble() * Math.pow(10, random.nextInt(44) - 22);
        default -> Math.round(random.nextDouble() * 1e6) / 100.0;
      };
      if (!Double.isFinite(value)) {
        continue;
      }
      String text = CanonicalJson.write(DoubleNode.valueOf(value));
      if (Double.parseDouble(text) != value) {
        wrong.add(text + " does not read back as " + value);
      }
      if (!text.contains(".") && !text.contains("e")) {
        wrong.add(text + " has neither a point nor an exponent");
      }
      BigDecimal shortest = new BigDecimal(Double.toString(Math.abs(value))).stripTrailingZeros();
      int exponent = shortest.precision() - shortest.scale() - 1;
      if (value != 0 && text.contains("e") != (exponent < -4 || exponent >= 16)) {
        wrong.add(text + " has decimal exponent " + exponent);
      }
      // Subnormals may have fewer digits than Double.toString gives (5e-324, not 4.9E-324).
      if (Math.abs(value) >= Double.MIN_NORMAL && significantDigits(text) != shortest.precision()) {
        wrong.add(text + " is not in the shortest digits of " + shortest);
      }
    }
    assertThat(wrong).isEmpty();
  }

  /** The digits of a number's text from its first non-zero digit to its last, e.g. 3 for "0.0123e+05". */
  private static int significantDigits(String text) {
    int end = text.indexOf('e') < 0 ? text.length() : text.indexOf('e');
    String digits = text.substring(0, end).replace("-", "").replace(".", "");
    int first = 0;
    while (first < digits.length() && digits.charAt(first) == '0') {
      first++;
    }
    int last = digits.length();
    while (last > first && digits.charAt(last - 1) == '0') {
      last--;
    }
    return last - first;
  }

  private static JsonNode randomValue(Random random, int depth) {
    int kind = random.nextInt(depth > 3 ? 7 : 9);
    return switch (kind) {
      case 0 -> JSON.nullNode();
      case 1 -> JSON.booleanNode(random.nextBoolean());
      case 2 -> JSON.numberNode(random.nextInt(2000) - 1000);
      case 3 -> JSON.numberNode(random.nextLong());
      case 4 -> JSON.numberNode(new BigInteger(90, random).negate());
      case 5 -> JSON.numberNode(randomDouble(random));
      case 6 -> JSON.textNode(randomString(random));
      case 7 -> {
        ArrayNode array = JSON.arrayNode();
        for (int i = random.nextInt(5); i > 0; i--) {
          array.add(randomValue(random, depth + 1));
        }
        yield array;
      }
      default -> {
        ObjectNode object = JSON.objectNode();
        for (int i = random.nextInt(5); i > 0; i--) {
          object.set(randomString(random), randomValue(random, depth + 1));
        }
        yield object;
      }
    };
  }

  private static double randomDouble(Random random) {
    double value;
    do {
      value = random.nextBoolean()
          ? Double.longBitsToDouble(random.nextLong())
          : (random.nextDouble() - 0.5) * Math.pow(10, random.nextInt(40) - 20);
    } while (!Double.isFinite(value));
    return value;
  }

  private static String randomString(Random random) {
    StringBuilder s = new StringBuilder();
    for (int i = random.nextInt(6); i > 0; i--) {
      switch (random.nextInt(5)) {
        case 0 -> s.append((char) random.nextInt(0x80));
        case 1 -> s.append((char) ('a' + random.nextInt(26)));
        case 2 -> s.append((char) random.nextInt(0x10000)); // lone surrogates included
        case 3 -> s.appendCodePoint(0x10000 + random.nextInt(0x100000));
        default -> s.append("\"\\/\u007f");
      }
    }
    return s.toString();
  }
}
