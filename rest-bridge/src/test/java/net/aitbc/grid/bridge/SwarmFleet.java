package net.aitbc.grid.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.testing.Embeddings;
import net.aitbc.grid.coordinator.testing.ScriptedWorker;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Complete;
import net.aitbc.grid.coordinator.testing.ScriptedWorker.Reply;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.v1.Assignment;

/**
 * Three scripted workers for the swarm routes' tests, each with its own worker key and owner (the
 * owner's id is the worker's with {@code owner-} before it), running {@code embedding} and {@code
 * noop}: {@code sw-1} and {@code sw-3} answer the same embedding (up to float rounding), {@code sw-2}
 * a subtly wrong one (cosine about 0.98); noop echoes its payload without its type.
 */
final class SwarmFleet implements AutoCloseable {
  static final List<String> IDS = List.of("sw-1", "sw-2", "sw-3");
  static final String BYZANTINE = "sw-2";
  private static final double[] HONEST = Embeddings.vector(42);

  private final List<ScriptedWorker> workers = new ArrayList<>();
  /** Each worker's key, by worker id. */
  final Map<String, String> keys = new LinkedHashMap<>();

  SwarmFleet(Grid grid) {
    for (String id : IDS) {
      String key = grid.coordinator.createKey(Role.WORKER, "owner-" + id);
      keys.put(id, key);
      TestWorker w = TestWorker.connect(grid.coordinator.grpcPort(), key, id, List.of("embedding", "noop"), List.of());
      workers.add(ScriptedWorker.over(w, 4, a -> answer(id, a)).heartbeating());
    }
  }

  private static Reply answer(String id, Assignment a) {
    if (a.getType().equals("noop")) {
      ObjectNode echo = (ObjectNode) Workflows.parse(a.getPayloadJson());
      echo.remove("type");
      return new Complete(echo.toString(), "{}");
    }
    double[] v = switch (id) {
      case BYZANTINE -> Embeddings.noisy(HONEST, 0.2, 7);
      case "sw-3" -> Embeddings.noisy(HONEST, 1e-4, 8);
      default -> HONEST;
    };
    return new Complete(Embeddings.result(v), "{}");
  }

  /** The workers' assignments so far, by worker id. */
  Map<String, List<Assignment>> assignments() {
    Map<String, List<Assignment>> m = new LinkedHashMap<>();
    for (int i = 0; i < IDS.size(); i++) {
      m.put(IDS.get(i), workers.get(i).assignments());
    }
    return m;
  }

  /** An object node, for building bodies. */
  static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  /** The honest vector's result, as {@code sw-1} returns it. */
  static JsonNode honestResult() {
    return Workflows.parse(Embeddings.result(HONEST));
  }

  @Override
  public void close() {
    workers.forEach(ScriptedWorker::close);
  }
}
