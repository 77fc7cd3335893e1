package net.aitbc.grid.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.linecorp.armeria.common.HttpData;
import com.linecorp.armeria.common.HttpStatus;
import com.linecorp.armeria.common.QueryParams;
import net.aitbc.grid.v1.ComputeConsensusRequest;
import net.aitbc.grid.v1.CoordinateRequest;
import net.aitbc.grid.v1.JoinRequest;
import net.aitbc.grid.v1.ListSwarmsRequest;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The swarm routes' bodies and queries, read into SwarmService requests or refused with what is wrong. */
class SwarmRequestsTest {
  private static HttpData body(String singleQuoted) {
    return HttpData.ofUtf8(singleQuoted.replace('\'', '"'));
  }

  private static CoordinateRequest coordinate(String singleQuoted) {
    return SwarmRequests.coordinate(body(singleQuoted), null);
  }

  private static void refused(ThrowingCallable call, HttpStatus status, String detail) {
    assertThatThrownBy(call).isInstanceOfSatisfying(HttpErrors.ApiError.class, e -> {
      assertThat(e.status()).isEqualTo(status);
      assertThat(e.getMessage()).isEqualTo(detail);
    });
  }

  @Test
  void theClisJoinBodyIsPassedOnAsItCame() {
    // swarm join --role task-coordinator --capability gpu --region eu --priority high
    JoinRequest j = SwarmRequests.join(body("{'role': 'task-coordinator', 'capability': 'gpu', 'priority': 'high', "
        + "'region': 'eu'}"));
    assertThat(j).isEqualTo(JoinRequest.newBuilder().setRole("task-coordinator").setCapability("gpu").setRegion("eu")
        .setPriority("high").build());
    // Without --region the field may be left out or null: no region.
    assertThat(SwarmRequests.join(body("{'role': 'monitor', 'capability': 'gpu', 'region': null}")).getRegion())
        .isEmpty();
    refused(() -> SwarmRequests.join(body("{'role': 'monitor', 'capability': 'gpu', 'priority': ''}")),
        HttpStatus.UNPROCESSABLE_ENTITY, "priority is an empty string: leave it out for the default, or give a value");
    refused(() -> SwarmRequests.join(body("{'role': ['monitor']}")), HttpStatus.UNPROCESSABLE_ENTITY,
        "role must be a string, not a list");
    refused(() -> SwarmRequests.join(HttpData.empty()), HttpStatus.BAD_REQUEST, "the request body is empty: send a "
        + "JSON object such as {\"role\": \"task-coordinator\", \"capability\": \"embedding\", \"priority\": \"normal\"}");
  }

  @Test
  void theClisCoordinateBodyAndTheOptionalFields() {
    // swarm coordinate --task inference --collaborators 3 --strategy consensus --timeout 600
    CoordinateRequest c = coordinate("{'task': 'inference', 'collaborators': 3, 'strategy': 'consensus', "
        + "'timeout_seconds': 600}");
    assertThat(c.getTask()).isEqualTo("inference");
    assertThat(c.getCollaborators()).isEqualTo(3);
    assertThat(c.getStrategy()).isEqualTo("consensus");
    assertThat(c.getTimeout().getSeconds()).isEqualTo(600);
    assertThat(c.hasConsensusThreshold()).isFalse();

    // A payload as an object is sent on as its text; the threshold, similarity and the rest pass through.
    CoordinateRequest full = coordinate("{'task': {'type': 'embedding', 'input': 'x'}, 'consensus_threshold': 0.6, "
        + "'similarity': 0.99, 'swarm_id': 'embedding-eu', 'request_id': 'r1', 'constraints': {'region': 'eu'}}");
    assertThat(full.getTask()).isEqualTo("{\"type\":\"embedding\",\"input\":\"x\"}");
    assertThat(full.getConsensusThreshold()).isEqualTo(0.6);
    assertThat(full.getSimilarity()).isEqualTo(0.99);
    assertThat(full.getSwarmId()).isEqualTo("embedding-eu");
    assertThat(full.getRequestId()).isEqualTo("r1");
    assertThat(full.getConstraints().getRegion()).isEqualTo("eu");
    // The Idempotency-Key header stands in for request_id.
    assertThat(SwarmRequests.coordinate(body("{'task': 'noop'}"), "k-1").getRequestId()).isEqualTo("k-1");
    assertThat(SwarmRequests.coordinate(body("{'task': 'noop', 'request_id': 'r2'}"), "k-1").getRequestId())
        .isEqualTo("r2");
  }

  @Test
  void whatWouldQuietlyBecomeADefaultIsRefused() {
    refused(() -> coordinate("{'task': 'noop', 'collaborators': 0}"), HttpStatus.UNPROCESSABLE_ENTITY,
        "collaborators must be at least 1, not 0");
    refused(() -> coordinate("{'task': 'noop', 'strategy': ''}"), HttpStatus.UNPROCESSABLE_ENTITY,
        "strategy is an empty string: leave it out for the default, or give a value");
    refused(() -> coordinate("{'task': 'noop', 'request_id': ''}"), HttpStatus.UNPROCESSABLE_ENTITY,
        "request_id is an empty string: leave it out, or give an idempotency key");
    refused(() -> coordinate("{'task': 'noop', 'consensus_threshold': true}"), HttpStatus.UNPROCESSABLE_ENTITY,
        "consensus_threshold must be a number such as 0.7, not a boolean");
    refused(() -> coordinate("{'task': 'noop', 'consensus_threshold': 1e400}"), HttpStatus.UNPROCESSABLE_ENTITY,
        "consensus_threshold is out of range: 1E+400");
    refused(() -> coordinate("{'task': ['noop']}"), HttpStatus.UNPROCESSABLE_ENTITY,
        "task must be a job type or a job payload (a JSON object, or its text), not a list");
    refused(() -> coordinate("{'task': 'noop', 'timeout': 5}"), HttpStatus.UNPROCESSABLE_ENTITY,
        "timeout is not a field of a coordinate request; it has collaborators, consensus_threshold, constraints, "
            + "request_id, similarity, strategy, swarm_id, task, timeout_seconds");
  }

  @Test
  void consensusAndListRequests() {
    assertThat(SwarmRequests.consensus("t", HttpData.empty())).isEqualTo(ComputeConsensusRequest.newBuilder()
        .setTaskId("t").build());
    assertThat(SwarmRequests.consensus("t", body("{'consensus_threshold': 0.8}")).getConsensusThreshold())
        .isEqualTo(0.8);
    assertThat(SwarmRequests.consensus("t", body("{'consensus_threshold': null}")).hasConsensusThreshold()).isFalse();
    refused(() -> SwarmRequests.consensus("t", body("{'threshold': 0.8}")), HttpStatus.UNPROCESSABLE_ENTITY,
        "threshold is not a field of a consensus request; it has consensus_threshold");

    // swarm list --swarm-id embedding-eu --status active --limit 5
    ListSwarmsRequest l = SwarmRequests.list(QueryParams.of("limit", "5", "swarm_id", "embedding-eu", "status",
        "active"));
    assertThat(l).isEqualTo(ListSwarmsRequest.newBuilder().setLimit(5).setSwarmId("embedding-eu").setStatus("active")
        .build());
    assertThat(SwarmRequests.list(QueryParams.of()).getLimit()).isEqualTo(20);
    refused(() -> SwarmRequests.list(QueryParams.of("limit", "500")), HttpStatus.UNPROCESSABLE_ENTITY,
        "limit must be between 1 and 200, not 500");
  }
}
