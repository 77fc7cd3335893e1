package net.aitbc.grid.worker.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** The embedding payload and result shapes every backend shares. */
final class Embeddings {

  /**
   * The texts to embed; {@code batch} when the payload gave an array (the result then has one
   * vector each).
   */
  record Input(List<String> texts, boolean batch, JsonNode raw) {}

  private Embeddings() {}

  /** Reads {@code input} (a string or an array of strings) or else {@code prompt} (a string). */
  static Input input(ObjectNode payload) throws BackendException {
    String field = payload.hasNonNull("input") ? "input" : "prompt";
    JsonNode node = payload.path(field);
    if (node.isMissingNode() || node.isNull()) {
      throw BackendException.invalid(
          "embedding payload needs 'input' (a string or an array of strings) or 'prompt' (a"
              + " string)");
    }
    if (node.isTextual()) {
      if (node.asText().isBlank()) {
        throw BackendException.invalid("'" + field + "' must not be blank");
      }
      return new Input(List.of(node.asText()), false, node);
    }
    if (node.isArray() && field.equals("input")) {
      if (node.isEmpty()) {
        throw BackendException.invalid("'input' must not be an empty array");
      }
      List<String> texts = new ArrayList<>(node.size());
      for (int i = 0; i < node.size(); i++) {
        JsonNode item = node.get(i);
        if (!item.isTextual() || item.asText().isBlank()) {
          throw BackendException.invalid("'input[" + i + "]' must be a non-blank string");
        }
        texts.add(item.asText());
      }
      return new Input(List.copyOf(texts), true, node);
    }
    throw BackendException.invalid(
        "'"
            + field
            + "' must be a string"
            + (field.equals("input") ? " or an array of strings" : "")
            + ", not "
            + node.getNodeType());
  }

  /**
   * {@code {"embedding": [...]}} or {@code {"embeddings": [[...], ...]}}, plus dimensions and
   * model.
   */
  static ObjectNode result(
      ObjectNode result, List<ArrayNode> vectors, boolean batch, String model) {
    if (batch) {
      result.putArray("embeddings").addAll(vectors);
    } else {
      result.set("embedding", vectors.getFirst());
    }
    result.put("dimensions", vectors.getFirst().size());
    result.put("model", model);
    return result;
  }
}
