package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.JOB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.Workflows;
import net.aitbc.grid.db.enums.ExecutionStatus;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.Execution;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.StepStatus;
import net.aitbc.grid.v1.WorkflowServiceGrpc.WorkflowServiceBlockingStub;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A three-step workflow on the real embedded model, through {@code grid coordinator} and a
 * {@code grid worker} process: embed a text, relay fields of that embedding through a noop step,
 * then embed a text built from what was relayed. Each step's input is the previous one's result,
 * and each embedding is the model's own for the text it was given.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class WorkflowEmbeddingIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TEXT = "Durable workflows keep their state in PostgreSQL.";
  private static final String EMBED_RELAY_EMBED = """
      {'inputs': {'text': null},
       'steps': {'embed': {'type': 'embedding', 'payload': {'input': '{{inputs.text}}'}},
                 'relay': {'type': 'noop', 'payload': {'echo': {'model': '{{steps.embed.result.model}}',
                           'first': '{{steps.embed.result.embedding.0}}', 'vector': '{{steps.embed.result.embedding}}'}}},
                 'again': {'type': 'embedding', 'payload': {'input':
                           '{{inputs.text}} ({{steps.relay.result.echo.model}}, first component {{steps.relay.result.echo.first}})'}}},
       'output': {'vector': '{{steps.embed.result.embedding}}', 'relayed': '{{steps.relay.result.echo.vector}}',
                  'again': '{{steps.again.result.embedding}}', 'dimensions': '{{steps.again.result.dimensions}}'}}""";

  @RegisterExtension final Grid grid = new Grid();

  @Test
  void stepsRunTheEmbeddedModelAndPassTheirResultsAlong() throws Exception {
    grid.withFreshDatabase().startCoordinator();
    grid.startEmbeddingWorker("embedder", 2);
    WorkflowServiceBlockingStub client = WorkflowChecks.client(grid);
    String workflow = Workflows.create(client, "embed-relay-embed", EMBED_RELAY_EMBED);
    String executionId = Workflows.execute(client, workflow, "{'text': '" + TEXT + "'}");

    UUID id = JobIds.parse(executionId).orElseThrow();
    Map<UUID, ExecutionStatus> status = WorkflowChecks.awaitEnded(grid, Set.of(id), Duration.ofSeconds(60));
    Execution e = Workflows.get(client, executionId);
    assertThat(status.get(id)).as("status; error: %s", e.getErrorMessage()).isEqualTo(ExecutionStatus.completed);
    assertThat(e.getProgress()).isEqualTo(100);
    assertThat(e.getStepsList()).extracting(s -> s.getName() + ":" + s.getStatus()).containsExactly(
        "embed:" + StepStatus.STEP_STATUS_COMPLETED, "relay:" + StepStatus.STEP_STATUS_COMPLETED,
        "again:" + StepStatus.STEP_STATUS_COMPLETED);

    JsonNode result = JSON.readTree(e.getFinalResultJson());
    JsonNode vector = result.get("vector");
    assertThat(vector).hasSize(384);
    assertThat(result.get("relayed")).as("the embedding as the noop step relayed it").isEqualTo(vector);
    assertThat(result.get("again")).hasSize(384).isNotEqualTo(vector);
    assertThat(result.get("dimensions").asInt()).isEqualTo(384);

    // The third step's text was built from the relayed fields of the first step's embedding.
    Map<UUID, List<JobRecord>> stepJobs = WorkflowChecks.stepJobs(grid);
    assertThat(WorkflowChecks.duplicatesOrGaps(stepJobs, Set.of(id), Set.of("embed#0", "relay#0", "again#0")))
        .isEmpty();
    JobRecord again = grid.query(db -> db.selectFrom(JOB).where(JOB.EXECUTION_ID.eq(id),
        JOB.REQUEST_ID.endsWith(":again#0")).fetchSingle());
    String built = JSON.readTree(again.getPayload().data()).get("input").asText();
    String prefix = TEXT + " (all-minilm-l6-v2, first component ";
    assertThat(built).startsWith(prefix).endsWith(")");
    assertThat(Double.parseDouble(built.substring(prefix.length(), built.length() - 1)))
        .isEqualTo(vector.get(0).asDouble());
    assertThat(stepJobs.get(id)).allSatisfy(j -> assertThat(j.getWorkerId()).isEqualTo("embedder"));

    // Each embedding is the model's for its text: the same as a plain job of that text.
    JobServiceBlockingStub jobs = GrpcClients.withKey(JobServiceGrpc.newBlockingStub(grid.channel()),
        grid.clientKey());
    assertThat(cosine(vector, embed(jobs, TEXT))).isGreaterThan(0.9999);
    assertThat(cosine(result.get("again"), embed(jobs, built))).isGreaterThan(0.9999);
    assertThat(cosine(vector, result.get("again"))).as("related texts").isGreaterThan(0.5).isLessThan(0.9999);
  }

  /** The embedding of {@code text} from a plain embedding job. */
  private static JsonNode embed(JobServiceBlockingStub jobs, String text) throws Exception {
    String payload = JSON.writeValueAsString(Map.of("type", "embedding", "input", text));
    String jobId = jobs.createJob(CreateJobRequest.newBuilder().setPayloadJson(payload).build()).getJob().getJobId();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() ->
        jobs.getJob(GetJobRequest.newBuilder().setJobId(jobId).build()).getJob().getState()
            == JobState.JOB_STATE_COMPLETED);
    return JSON.readTree(jobs.getJobResult(GetJobResultRequest.newBuilder().setJobId(jobId).build()).getResultJson())
        .get("embedding");
  }

  private static double cosine(JsonNode x, JsonNode y) {
    double dot = 0;
    double nx = 0;
    double ny = 0;
    for (int i = 0; i < x.size(); i++) {
      dot += x.get(i).asDouble() * y.get(i).asDouble();
      nx += x.get(i).asDouble() * x.get(i).asDouble();
      ny += y.get(i).asDouble() * y.get(i).asDouble();
    }
    return dot / Math.sqrt(nx * ny);
  }
}
