package net.aitbc.grid.bridge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.linecorp.armeria.common.HttpResponse;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.MediaType;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;
import net.aitbc.grid.bridge.HttpErrors.Call;
import org.jspecify.annotations.Nullable;

/** The bridge's one JSON configuration, and JSON responses. */
final class Json {
  /**
   * Strict where a client could be misread (duplicate keys, trailing garbage), and exact with
   * numbers: payloads and results keep the digits the client or worker wrote.
   */
  static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
      .build();

  private Json() {}

  /** A new empty object. */
  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  /** A JSON response. */
  static HttpResponse response(HttpStatus status, JsonNode body) {
    return HttpResponse.of(status, MediaType.JSON_UTF_8, bytes(body));
  }

  /**
   * One unary call to the coordinator, answered {@code status} with the JSON {@code body} made of its
   * response, or with the error it failed with (as {@link HttpErrors} maps it for {@code call}).
   */
  static <T> HttpResponse reply(Call call, Consumer<StreamObserver<T>> grpcCall, HttpStatus status,
      Function<T, ? extends JsonNode> body) {
    return reply(call, CoordinatorClient.unary(grpcCall), status, body);
  }

  /** {@link #reply(Call, Consumer, HttpStatus, Function)} for an answer made of several calls. */
  static <T> HttpResponse reply(Call call, CompletableFuture<T> answer, HttpStatus status,
      Function<T, ? extends JsonNode> body) {
    return HttpResponse.of(answer.handle((r, e) -> {
      if (e != null) {
        return HttpErrors.fromFailure(e, call);
      }
      try {
        return response(status, body.apply(r));
      } catch (HttpErrors.ApiError refused) {
        // The mapping found nothing to answer with (an empty receipt): the route's own 404.
        return HttpErrors.fromFailure(refused, call);
      }
    }));
  }

  /** The UTF-8 encoding of a tree. */
  static byte[] bytes(JsonNode body) {
    try {
      return MAPPER.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The compact text of a tree. */
  static String text(JsonNode body) {
    try {
      return MAPPER.writeValueAsString(body);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Stored JSON text (a result, metrics) as a tree: null when empty; the raw text as a string if
   * it is somehow not JSON, so that a client still sees it.
   */
  static @Nullable JsonNode parseStored(String text) {
    if (text.isBlank()) {
      return null;
    }
    try {
      return MAPPER.readTree(text);
    } catch (IOException e) {
      return TextNode.valueOf(text);
    }
  }
}
