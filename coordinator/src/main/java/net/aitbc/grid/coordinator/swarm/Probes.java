package net.aitbc.grid.coordinator.swarm;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The fixed verification probes a bare job type runs as: the same input for every member, chosen so
 * that honest workers return comparable results (a fixed sentence; a fixed prompt sampled at
 * temperature 0 with a fixed seed; an echo).
 */
public final class Probes {
  /** The sentence the embedding probe embeds. */
  public static final String SENTENCE = "The AITBC grid verifies its workers by asking several of them the same question.";
  private static final Map<String, String> PAYLOADS = Map.of(
      "embedding", "{\"type\":\"embedding\",\"input\":\"" + SENTENCE + "\"}",
      "inference", "{\"type\":\"inference\",\"prompt\":\"List the first five prime numbers, separated by commas.\","
          + "\"parameters\":{\"temperature\":0,\"seed\":42,\"max_tokens\":64}}",
      "noop", "{\"type\":\"noop\",\"echo\":\"aitbc swarm probe\"}");

  private Probes() {}

  /** The probe payload (a JSON object) of a job type, if it has one. */
  public static Optional<String> payload(String type) {
    return Optional.ofNullable(PAYLOADS.get(type));
  }

  /** The types that have a probe, sorted. */
  public static Set<String> types() {
    return new TreeSet<>(PAYLOADS.keySet());
  }
}
