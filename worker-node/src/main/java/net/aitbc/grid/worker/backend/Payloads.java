package net.aitbc.grid.worker.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jspecify.annotations.Nullable;

/**
 * Reading the inference payload fields the HTTP backends share, with clear errors for the client.
 */
final class Payloads {

  private Payloads() {}

  /** The {@code system} string, or null when there is none. */
  static @Nullable String system(ObjectNode payload) {
    JsonNode system = payload.path("system");
    return system.isTextual() ? system.asText() : null;
  }

  /** The non-blank {@code prompt} string. */
  static String prompt(ObjectNode payload) throws BackendException {
    JsonNode prompt = payload.path("prompt");
    if (!prompt.isTextual() || prompt.asText().isBlank()) {
      throw BackendException.invalid(
          "inference payload needs 'prompt' (a non-blank string) or 'messages' (an array)");
    }
    return prompt.asText();
  }

  /**
   * A copy of the non-empty {@code messages} array of objects, with {@code system} first when
   * given.
   */
  static ArrayNode messages(ObjectNode payload, @Nullable String system) throws BackendException {
    JsonNode messages = payload.path("messages");
    if (!messages.isArray() || messages.isEmpty()) {
      throw BackendException.invalid(
          "'messages' must be a non-empty array of {role, content} objects");
    }
    ArrayNode copy = JsonNodeFactory.instance.arrayNode();
    if (system != null) {
      copy.addObject().put("role", "system").put("content", system);
    }
    for (JsonNode message : messages) {
      if (!message.isObject() || !message.path("role").isTextual()) {
        throw BackendException.invalid(
            "every element of 'messages' must be an object with a 'role'");
      }
      copy.add(message.deepCopy());
    }
    return copy;
  }

  /**
   * The first of {@code fields} that holds a JSON object, or null; a non-object there is an error.
   */
  static @Nullable ObjectNode object(ObjectNode payload, String... fields) throws BackendException {
    for (String field : fields) {
      JsonNode node = payload.path(field);
      if (node.isObject()) {
        return (ObjectNode) node;
      }
      if (!node.isMissingNode() && !node.isNull()) {
        throw BackendException.invalid(
            "'" + field + "' must be an object, not " + node.getNodeType());
      }
    }
    return null;
  }
}
