package net.aitbc.grid.coordinator.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Duration;
import com.google.protobuf.Timestamp;
import com.zaxxer.hikari.HikariDataSource;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.aitbc.grid.coordinator.Coordinator;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.coordinator.testing.GrpcClients;
import net.aitbc.grid.coordinator.testing.GridFixture;
import net.aitbc.grid.coordinator.testing.TestWorker;
import net.aitbc.grid.v1.Assignment;
import net.aitbc.grid.v1.CancelJobRequest;
import net.aitbc.grid.v1.ConnectRequest;
import net.aitbc.grid.v1.ConnectResponse;
import net.aitbc.grid.v1.Constraints;
import net.aitbc.grid.v1.Credit;
import net.aitbc.grid.v1.CreateJobRequest;
import net.aitbc.grid.v1.GetJobRequest;
import net.aitbc.grid.v1.GetJobResultRequest;
import net.aitbc.grid.v1.Heartbeat;
import net.aitbc.grid.v1.Job;
import net.aitbc.grid.v1.JobCompleted;
import net.aitbc.grid.v1.JobProgress;
import net.aitbc.grid.v1.JobServiceGrpc;
import net.aitbc.grid.v1.JobServiceGrpc.JobServiceBlockingStub;
import net.aitbc.grid.v1.JobState;
import net.aitbc.grid.v1.ListJobsRequest;
import net.aitbc.grid.v1.OutcomeAck;
import net.aitbc.grid.v1.Register;
import net.aitbc.grid.v1.WatchJobRequest;
import net.aitbc.grid.v1.WatchJobResponse;
import net.aitbc.grid.v1.WorkerCapabilities;
import net.aitbc.grid.v1.WorkerServiceGrpc;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Invalid gRPC requests (a seeded few hundred) get INVALID_ARGUMENT naming the field, never INTERNAL;
 * protocol-breaking worker streams are refused cleanly; keys and roles stay apart and unlogged.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GrpcAbuseIT {
  private static final long DEFAULT_SEED = 0x6A_B05E_2026L;
  private static final int GENERATED = 300;
  private static final int MIB = 1 << 20;
  private static final HexFormat HEX = HexFormat.of();

  private static final ByteArrayOutputStream log = new ByteArrayOutputStream();
  private static PrintStream stderr;
  @RegisterExtension
  static final GridFixture grid = new GridFixture();
  private static Coordinator coordinator;
  private static HikariDataSource keysDb;
  private static ManagedChannel channel;
  private static String aliceKey;
  private static String bobKey;
  private static String adminKey;
  private static String workerKey;
  private static JobServiceBlockingStub alice;
  private static JobServiceBlockingStub bob;

  @BeforeAll
  static void start() {
    // slf4j-simple writes to whatever System.err is at the time: keep a copy to look for keys in.
    stderr = System.err;
    System.setErr(new PrintStream(new TeeStream(stderr, log), true, StandardCharsets.UTF_8));
    coordinator = grid.coordinator();
    keysDb = Database.pool(grid.db().url(), null, null, 2);
    channel = grid.channel();
    aliceKey = coordinator.createKey(Role.CLIENT, "alice");
    bobKey = coordinator.createKey(Role.CLIENT, "bob");
    adminKey = coordinator.createKey(Role.ADMIN, "root");
    workerKey = coordinator.createKey(Role.WORKER, "gpu-owner");
    alice = jobs(aliceKey);
    bob = jobs(bobKey);
  }

  @AfterAll
  static void stop() {
    keysDb.close();
    System.setErr(stderr);
  }

  // ---- invalid arguments ------------------------------------------------------------------------

  @Test
  void generatedBadCreateJobRequestsAreInvalidArgumentsThatNameTheField() {
    long seed = Long.getLong("grpc.fuzz.seed", DEFAULT_SEED);
    System.out.println("GrpcAbuseIT: seed " + seed + " (replay with -Dgrpc.fuzz.seed=" + seed + "), " + GENERATED
        + " generated CreateJob requests");
    Random r = new Random(seed);
    List<String> wrong = new ArrayList<>();
    for (int i = 0; i < GENERATED; i++) {
      BadCreate bad = badCreate(r);
      Status status = statusOf(() -> alice.withDeadlineAfter(10, TimeUnit.SECONDS).createJob(bad.request()));
      if (status.getCode() != Status.Code.INVALID_ARGUMENT || status.getDescription() == null
          || !status.getDescription().contains(bad.field())) {
        wrong.add("#" + i + " " + bad.what() + " -> " + status.getCode() + " " + abbreviate(status.getDescription())
            + " (expected INVALID_ARGUMENT naming " + bad.field() + ")");
      }
    }
    assertThat(wrong).as("seed %d:%n%s", seed, String.join("\n", wrong)).isEmpty();
    assertThat(alice.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList())
        .as("no invalid request created a job").noneMatch(j -> j.getType().equals("abuse-gen"));
  }

  /** One generated invalid CreateJob request and the field its error must name. */
  private record BadCreate(String what, CreateJobRequest request, String field) {}

  private static BadCreate badCreate(Random r) {
    String good = "{\"type\":\"abuse-gen\",\"prompt\":\"hi\",\"model\":\"m\",\"priority\":\"high\","
        + "\"parameters\":{\"a\":[1,2.50,{\"b\":null}],\"s\":\"\\u00e9\"}}";
    CreateJobRequest.Builder b = CreateJobRequest.newBuilder().setPayloadJson(good);
    String kind;
    String field;
    switch (r.nextInt(16)) {
      case 0 -> {
        int cut = r.nextInt(good.length());
        b.setPayloadJson(good.substring(0, cut));
        kind = "payload cut at " + cut;
        field = "payload_json";
      }
      case 1 -> {
        String text = pick(r, List.of("[]", "[1,2]", "\"text\"", "1", "-1.5e3", "true", "null", "  ", "{", "}", "{]",
            "{\"a\":1,}", "{'a':1}", "{a:1}", "{\"a\":NaN}", "{\"a\":01}", "{\"a\":\"\u0000\"}", "{\"a\":1,\"a\":2}",
            "{\"type\":\"x\",\"type\":\"y\"}", "\uFEFF{}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "/*c*/{}"));
        b.setPayloadJson(text);
        kind = "payload " + text;
        field = "payload_json";
      }
      case 2 -> {
        String v = pick(r, List.of("1", "-1", "1.5", "true", "false", "[]", "[\"embedding\"]", "{}", "{\"t\":1}"));
        b.setPayloadJson("{\"type\":" + v + "}");
        kind = "payload.type " + v;
        field = "payload.type";
      }
      case 3 -> {
        String v = pick(r, List.of("\"\"", "\" \"", "\"a b\"", "\"a/b\"", "\"\u00e9\"", "\"" + "x".repeat(65) + "\"", "\".x\"",
            "\"_x\"", "\"-x\"", "\"x\\ny\"", "\"\\t\"", "\"x;drop\""));
        b.setPayloadJson("{\"type\":" + v + "}");
        kind = "payload.type " + abbreviate(v);
        field = "type";
      }
      case 4 -> {
        String v = pick(r, List.of("1", "true", "[]", "[\"m\"]", "{}", "{\"name\":\"m\"}", "\"" + "m".repeat(201) + "\""));
        b.setPayloadJson("{\"type\":\"abuse-gen\",\"model\":" + v + "}");
        kind = "payload.model " + abbreviate(v);
        field = "payload.model";
      }
      case 5 -> {
        String v = pick(r, List.of("true", "1.5", "5.0", "1e0", "[]", "[5]", "{}", "\"urgent\"", "\"\"", "\"5\"", "-1", "10",
            "100", "-2147483648", "2147483647"));
        b.setPayloadJson("{\"type\":\"abuse-gen\",\"priority\":" + v + "}");
        kind = "payload.priority " + v;
        field = "priority";
      }
      case 6 -> {
        int p = pick(r, List.of(-1, 10, 11, 100, Integer.MIN_VALUE, Integer.MAX_VALUE));
        b.setPriority(p);
        kind = "priority " + p;
        field = "priority";
      }
      case 7 -> {
        long days = pick(r, List.of(31L, 365L, 100_000L, Long.MAX_VALUE / 86_400));
        b.setTtl(Duration.newBuilder().setSeconds(days * 86_400 + r.nextInt(1000)));
        kind = "ttl " + days + " days";
        field = "ttl";
      }
      case 8 -> {
        int m = pick(r, List.of(-1, -100, 101, 1000, Integer.MIN_VALUE, Integer.MAX_VALUE));
        b.setMaxAttempts(m);
        kind = "max_attempts " + m;
        field = "max_attempts";
      }
      case 9 -> {
        String where = pick(r, List.of("{\"type\":\"abuse-gen\",\"prompt\":\"a\\u0000b\"}", "{\"type\":\"abuse-gen\",\"a\\u0000\":1}",
            "{\"type\":\"abuse-gen\",\"list\":[\"ok\",\"\\u0000\"]}", "{\"type\":\"abuse-gen\",\"deep\":{\"deeper\":{\"x\":\"\\u0000\"}}}"));
        b.setPayloadJson(where);
        kind = "NUL in " + where;
        field = "payload_json";
      }
      case 10 -> {
        String where = pick(r, List.of("{\"type\":\"abuse-gen\",\"prompt\":\"\\ud800\"}", "{\"type\":\"abuse-gen\",\"prompt\":\"a\\udc00b\"}",
            "{\"type\":\"abuse-gen\",\"\\udfff\":1}", "{\"type\":\"abuse-gen\",\"p\":\"\\ud800\\ud800\"}",
            "{\"type\":\"abuse-gen\",\"p\":[\"\\ude00\\ud83d\"]}"));
        b.setPayloadJson(where);
        kind = "unpaired surrogate in " + where;
        field = "payload_json";
      }
      case 11 -> {
        if (r.nextInt(8) == 0) {
          int size = MIB + 1 + r.nextInt(64 * 1024);
          b.setPayloadJson("{\"type\":\"abuse-gen\",\"prompt\":\"" + "x".repeat(size - 30) + "\"}");
          kind = "a payload of " + b.getPayloadJson().length() + " characters";
        } else {
          int depth = pick(r, List.of(1001, 2000, 10_000));
          b.setPayloadJson("{\"type\":\"abuse-gen\",\"deep\":" + "[".repeat(depth) + "]".repeat(depth) + "}");
          kind = "a payload nested " + depth + " levels";
        }
        field = "payload_json";
      }
      case 12 -> {
        String id = pick(r, List.of("x".repeat(201), "a\u0000b", "\u0000"));
        b.setRequestId(id);
        kind = "request_id " + abbreviate(id);
        field = "request_id";
      }
      case 13 -> {
        Constraints.Builder c = Constraints.newBuilder();
        switch (r.nextInt(5)) {
          case 0 -> {
            c.setMinVramGb(pick(r, List.of(-1, Integer.MIN_VALUE)));
            field = "constraints.min_vram_gb";
          }
          case 1 -> {
            c.setMaxPrice(pick(r, List.of(-0.01, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)));
            field = "constraints.max_price";
          }
          case 2 -> {
            c.setCuda(pick(r, List.of("garbage", "12.x", "-1", "1000", "12.100", "v12")));
            field = "constraints.cuda";
          }
          case 3 -> {
            c.setGpu("RTX\u0000");
            field = "constraints";
          }
          default -> {
            c.addModels("ok").addModels("m\u0000");
            field = "constraints.models";
          }
        }
        b.setConstraints(c);
        kind = "constraints " + c.build().toString().replace('\n', ' ');
      }
      case 14 -> {
        b.setPayloadJson("");
        kind = "no payload";
        field = "payload_json";
      }
      default -> {
        String t = pick(r, List.of(" ", "has space", "a\u0000b", "x".repeat(65), "\u00e9", "../x"));
        b.setType(t);
        kind = "type " + abbreviate(t);
        field = "type";
      }
    }
    return new BadCreate(kind, b.build(), field);
  }

  @Test
  void badJobIdsAreInvalidArgumentsAndUnknownOnesNotFound() {
    List<String> malformed = List.of("", "a", "0".repeat(31), "0".repeat(33), "g".repeat(32), "../etc/passwd",
        " " + "0".repeat(31), "0".repeat(15) + "\u0000" + "0".repeat(16), "x".repeat(10_000), "\u00e9".repeat(32),
        "%2F", "' OR 1=1 --", "0x" + "0".repeat(30), "-" + "1".repeat(31), "0".repeat(31) + "\n");
    List<String> unknown = List.of(randomId(new Random(1)), randomId(new Random(2)).toUpperCase(Locale.ROOT));
    List<String> wrong = new ArrayList<>();
    for (String id : malformed) {
      for (var call : idCalls(alice)) {
        Status s = statusOf(() -> call.accept(id));
        if (s.getCode() != Status.Code.INVALID_ARGUMENT || !String.valueOf(s.getDescription()).contains("job_id")) {
          wrong.add("'" + abbreviate(id) + "' -> " + s.getCode() + " " + abbreviate(s.getDescription()));
        }
      }
    }
    for (String id : unknown) {
      for (var call : idCalls(alice)) {
        Status s = statusOf(() -> call.accept(id));
        if (s.getCode() != Status.Code.NOT_FOUND) {
          wrong.add("unknown '" + id + "' -> " + s.getCode() + " " + s.getDescription());
        }
      }
    }
    assertThat(wrong).as(String.join("\n", wrong)).isEmpty();
  }

  @Test
  void badListPagingIsInvalidArgument() {
    record Bad(ListJobsRequest request, String field) {}
    List<Bad> cases = new ArrayList<>();
    for (int size : List.of(-1, -1000, Integer.MIN_VALUE, 1001, Integer.MAX_VALUE)) {
      cases.add(new Bad(ListJobsRequest.newBuilder().setPageSize(size).build(), "page_size"));
    }
    for (int skip : List.of(-1, Integer.MIN_VALUE)) {
      cases.add(new Bad(ListJobsRequest.newBuilder().setSkip(skip).build(), "skip"));
    }
    for (String token : List.of("garbage!", "!!!", "o:5", "%%%", token("x:5"), token("o:-1"), token("o:abc"),
        token("o:99999999999"), token("o:"), "\u00e9", Base64.getUrlEncoder().encodeToString(new byte[] {-1, -2}))) {
      cases.add(new Bad(ListJobsRequest.newBuilder().setPageToken(token).build(), "page_token"));
    }
    cases.add(new Bad(ListJobsRequest.newBuilder().addStates(JobState.JOB_STATE_UNSPECIFIED).build(), "states"));
    cases.add(new Bad(ListJobsRequest.newBuilder().addStates(JobState.JOB_STATE_QUEUED).addStatesValue(99).build(), "states"));
    cases.add(new Bad(ListJobsRequest.newBuilder().addStatesValue(-1).build(), "states"));

    List<String> wrong = new ArrayList<>();
    for (Bad c : cases) {
      Status s = statusOf(() -> alice.withDeadlineAfter(10, TimeUnit.SECONDS).listJobs(c.request()));
      if (s.getCode() != Status.Code.INVALID_ARGUMENT || !String.valueOf(s.getDescription()).contains(c.field())) {
        wrong.add(c.request().toString().replace('\n', ' ') + " -> " + s.getCode() + " " + s.getDescription());
      }
    }
    assertThat(wrong).as(String.join("\n", wrong)).isEmpty();
    // Odd but valid filters match nothing rather than fail.
    for (ListJobsRequest ok : List.of(
        ListJobsRequest.newBuilder().setType("no such type").build(),
        ListJobsRequest.newBuilder().setType("\u00e9\u65e5").build(),
        ListJobsRequest.newBuilder().setCreateTimeFrom(Timestamp.newBuilder().setSeconds(253_402_300_799L)).build(),
        ListJobsRequest.newBuilder().setCreateTimeTo(Timestamp.newBuilder().setSeconds(-62_135_596_800L)).build(),
        ListJobsRequest.newBuilder().setPageToken(token("o:2147483647")).build())) {
      assertThat(alice.listJobs(ok).getJobsList()).as(ok.toString()).isEmpty();
    }
  }

  // ---- the worker stream ------------------------------------------------------------------------

  @Test
  void workerStreamThatBreaksTheProtocolIsRefusedWithInvalidArgument() {
    record Case(String what, List<ConnectRequest> messages, String expected) {}
    ConnectRequest register = register("w-1", List.of("abuse-stream"));
    List<Case> cases = List.of(
        new Case("heartbeat first", List.of(heartbeat()), "Register"),
        new Case("credit first", List.of(credit(1)), "Register"),
        new Case("completion first", List.of(ConnectRequest.newBuilder().setCompleted(
            JobCompleted.newBuilder().setJobId(randomId(new Random(3))).setResultJson("{}")).build()),
            "Register"),
        new Case("empty message first", List.of(ConnectRequest.getDefaultInstance()), "Register"),
        new Case("no job types", List.of(register("w-2", List.of())), "job_types"),
        new Case("blank worker id", List.of(register(" ", List.of("abuse-stream"))), "worker_id"),
        new Case("empty worker id", List.of(register("", List.of("abuse-stream"))), "worker_id"),
        new Case("long worker id", List.of(register("w".repeat(201), List.of("abuse-stream"))), "worker_id"),
        new Case("Register twice", List.of(register, register), "Register"),
        new Case("an empty message", List.of(register, ConnectRequest.getDefaultInstance()), "empty message"),
        new Case("negative credit", List.of(register, credit(-1)), "credit"),
        new Case("very negative credit", List.of(register, credit(Integer.MIN_VALUE)), "credit"));
    for (Case c : cases) {
      try (TestWorker w = TestWorker.open(coordinator.grpcPort(), workerKey)) {
        c.messages().forEach(w::send);
        Status closed = w.closed().orTimeout(10, TimeUnit.SECONDS).join();

        assertThat(closed.getCode()).as(c.what() + ": " + closed).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(closed.getDescription()).as(c.what()).contains(c.expected());
      }
    }
    assertCoordinatorServes();
  }

  @Test
  void outcomesForGarbageJobIdsAreDroppedAndTheStreamKeepsWorking() {
    String type = "abuse-garbage-ids";
    try (TestWorker w = TestWorker.connect(coordinator.grpcPort(), workerKey, "w-garbage", List.of(type), List.of())) {
      for (String id : List.of("", "garbage", "g".repeat(32), "0".repeat(31), "x".repeat(100_000), "a\u0000b")) {
        w.complete(id, 1, "{}");
        w.fail(id, 1, "bad", true);
        w.send(ConnectRequest.newBuilder().setProgress(JobProgress.newBuilder().setJobId(id).setAttempt(1)
            .setPercent(Double.NaN).setOutput("x")).build());
      }
      // A well-formed id of no job this worker holds: refused, with a reason.
      String stranger = randomId(new Random(4));
      w.complete(stranger, 1, "{}");
      OutcomeAck ack = nextAck(w);
      assertThat(ack.getJobId()).isEqualTo(stranger);
      assertThat(ack.getAccepted()).isFalse();
      assertThat(ack.getReason()).isNotBlank();
      w.heartbeat();
      w.credit(Integer.MAX_VALUE);

      // The same stream still runs a real job to the end.
      Job job = alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\"}").build()).getJob();
      Assignment a = nextAssignment(w);
      assertThat(a.getJobId()).isEqualTo(job.getJobId());
      w.complete(a.getJobId(), a.getAttempt(), "{\"ok\":true}");
      assertThat(nextAck(w).getAccepted()).isTrue();
      assertThat(w.closed()).isNotDone();
    }
    await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() -> assertThat(alice.listJobs(
        ListJobsRequest.newBuilder().setType(type).build()).getJobsList())
        .extracting(Job::getState).containsExactly(JobState.JOB_STATE_COMPLETED));
  }

  @Test
  void resultThatIsNotAJsonObjectFailsTheJobCleanly() {
    String type = "abuse-bad-result";
    List<String> results = List.of("[1,2]", "\"text\"", "not json", "", "{\"a\":\"\\u0000\"}", "{\"a\":\"\\ud800\"}",
        "{\"a\":1,\"a\":2}", "{\"a\":" + "[".repeat(2000) + "]".repeat(2000) + "}");
    try (TestWorker w = TestWorker.connect(coordinator.grpcPort(), workerKey, "w-bad-result", List.of(type), List.of())) {
      w.credit(results.size());
      for (String result : results) {
        Job job = alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + type + "\"}")
            .setMaxAttempts(1).build()).getJob();
        Assignment a = nextAssignment(w);
        assertThat(a.getJobId()).isEqualTo(job.getJobId());
        w.complete(a.getJobId(), a.getAttempt(), result);
        nextAck(w);

        Job ended = alice.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob();
        assertThat(ended.getState()).as(abbreviate(result)).isEqualTo(JobState.JOB_STATE_FAILED);
        assertThat(ended.getError()).as(abbreviate(result)).contains("result_json");
      }
      assertThat(w.closed()).isNotDone();
    }
    assertCoordinatorServes();
  }

  // ---- keys and roles ---------------------------------------------------------------------------

  @Test
  void everyMethodRefusesAMissingOrWrongKey() {
    Job job = alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse-keys\"}").build()).getJob();
    List<String> keys = new ArrayList<>(List.of("", " ", "wrong", "aitbc_c_" + "A".repeat(43),
        aliceKey.substring(0, aliceKey.length() - 1), aliceKey + "x", aliceKey.toUpperCase(Locale.ROOT)));
    keys.add(null);
    for (String key : keys) {
      JobServiceBlockingStub stub = key == null ? JobServiceGrpc.newBlockingStub(channel) : jobs(key);
      for (var call : allJobCalls(stub, job.getJobId())) {
        Status s = statusOf(call);
        assertThat(s.getCode()).as("key '%s'", key).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(String.valueOf(s.getDescription())).doesNotContain(aliceKey);
        if (key != null && !key.isBlank()) {
          assertThat(s.getDescription()).doesNotContain(key);
        }
      }
      assertThat(connect(key).getCode()).as("Connect with key '%s'", key).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
  }

  @Test
  void workerKeyCannotActAsClientAndClientKeysCannotOpenAWorkerStream() {
    Job job = alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse-roles\"}").build()).getJob();
    for (var call : allJobCalls(jobs(workerKey), job.getJobId())) {
      Status s = statusOf(call);
      assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(s.getDescription()).contains("worker").doesNotContain(workerKey);
    }
    for (String key : List.of(aliceKey, adminKey)) {
      Status s = connect(key);
      assertThat(s.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(s.getDescription()).doesNotContain(key);
    }
  }

  @Test
  void adminKeyActsAsAClientOfItsOwn() {
    JobServiceBlockingStub admin = jobs(adminKey);
    Job own = admin.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse-admin\"}").build()).getJob();
    Job alices = alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse-admin\"}").build()).getJob();

    // Current behaviour: an admin key is a client with its own client id, not a superuser.
    assertThat(own.getClientId()).isEqualTo("root");
    assertThat(admin.getJob(GetJobRequest.newBuilder().setJobId(own.getJobId()).build()).getJob().getState())
        .isEqualTo(JobState.JOB_STATE_QUEUED);
    assertThat(statusOf(() -> admin.getJob(GetJobRequest.newBuilder().setJobId(alices.getJobId()).build())).getCode())
        .isEqualTo(Status.Code.NOT_FOUND);
    assertThat(admin.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList()).extracting(Job::getJobId)
        .containsExactly(own.getJobId());
  }

  @Test
  void anotherClientsJobIsNotFoundOnEveryMethod() {
    Job job = alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse-private\"}").build()).getJob();
    for (String id : List.of(job.getJobId(), job.getJobId().toUpperCase(Locale.ROOT))) {
      for (var call : idCalls(bob)) {
        Status s = statusOf(() -> call.accept(id));
        assertThat(s.getCode()).isEqualTo(Status.Code.NOT_FOUND);
      }
    }
    assertThat(bob.listJobs(ListJobsRequest.newBuilder().setPageSize(1000).build()).getJobsList())
        .extracting(Job::getJobId).doesNotContain(job.getJobId());
    assertThat(bob.listJobs(ListJobsRequest.newBuilder().setType("abuse-private").build()).getJobsList()).isEmpty();
    // Bob's cancel did not touch it.
    assertThat(alice.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob().getState())
        .isEqualTo(JobState.JOB_STATE_QUEUED);
  }

  @Test
  void healthAndReflectionNeedNoKey() {
    assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> reflection = ServerReflectionGrpc.newStub(channel).serverReflectionInfo(
        new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse value) {
            answer.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            // The answer came in onNext.
          }
        });
    reflection.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    reflection.onCompleted();

    assertThat(answer.orTimeout(10, TimeUnit.SECONDS).join().getListServicesResponse().getServiceList())
        .extracting(ServiceResponse::getName)
        .contains(JobServiceGrpc.SERVICE_NAME, WorkerServiceGrpc.SERVICE_NAME);
  }

  @Test
  void revokedKeysAreRefusedWithinTheCacheTime() {
    String carolKey = coordinator.createKey(Role.CLIENT, "carol");
    String farmKey = coordinator.createKey(Role.WORKER, "farm");
    JobServiceBlockingStub carol = jobs(carolKey);
    Job job = carol.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse-revoked\"}").build()).getJob();
    try (TestWorker w = TestWorker.connect(coordinator.grpcPort(), farmKey, "w-farm", List.of("abuse-revoked"), List.of())) {
      assertThat(w.registered().getSessionId()).isNotEmpty();
    }

    KeyStore keys = new KeyStore(Database.dsl(keysDb));
    assertThat(keys.revoke(ApiKeys.id(carolKey))).isTrue();
    assertThat(keys.revoke(ApiKeys.id(farmKey))).isTrue();

    await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(statusOf(() -> carol.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build())).getCode())
            .isEqualTo(Status.Code.UNAUTHENTICATED));
    for (var call : allJobCalls(carol, job.getJobId())) {
      assertThat(statusOf(call).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(connect(farmKey).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
  }

  @Test
  @Order(Integer.MAX_VALUE)
  void coordinatorStillServesAndNoKeyWasLogged() {
    assertCoordinatorServes();
    String logged = log.toString(StandardCharsets.UTF_8);
    assertThat(logged).as("the log was captured").contains("registered");
    for (String key : List.of(aliceKey, bobKey, adminKey, workerKey)) {
      assertThat(logged).doesNotContain(key);
    }
  }

  /**
   * Inputs the coordinator once mishandled (found by this class): each now answers INVALID_ARGUMENT
   * with a bounded description, and nothing ends a worker stream or a connection.
   */
  @Test
  void onceMishandledInputsAreInvalidArguments() {
    record Bug(String what, Runnable call) {}
    String maxToken = token("o:2147483647");
    List<Bug> bugs = List.of(
        new Bug("payload number beyond jsonb's numeric range (1e200000) -> UNAVAILABLE 'the database is unavailable'",
            () -> alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse\",\"x\":1e200000}").build())),
        new Bug("payload number beyond jsonb's numeric range (1e-20000) -> UNAVAILABLE",
            () -> alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse\",\"x\":1e-20000}").build())),
        new Bug("payload.priority 4294967301 is accepted as priority 5 (int overflow)",
            () -> alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse\",\"priority\":4294967301}").build())),
        new Bug("payload_json with trailing garbage is accepted",
            () -> alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse\"} trailing").build())),
        new Bug("ttl {seconds: Long.MAX_VALUE, nanos: 2e9} -> INTERNAL (ArithmeticException)",
            () -> alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse\"}")
                .setTtl(Duration.newBuilder().setSeconds(Long.MAX_VALUE).setNanos(2_000_000_000)).build())),
        new Bug("create_time_from {seconds: Long.MAX_VALUE} -> INTERNAL (DateTimeException)",
            () -> alice.listJobs(ListJobsRequest.newBuilder().setCreateTimeFrom(Timestamp.newBuilder().setSeconds(Long.MAX_VALUE)).build())),
        new Bug("create_time_to in the year -5000 -> UNAVAILABLE (timestamp out of range in PostgreSQL)",
            () -> alice.listJobs(ListJobsRequest.newBuilder().setCreateTimeTo(Timestamp.newBuilder().setSeconds(-220_000_000_000L)).build())),
        new Bug("job_id of 32 non-ASCII digits (U+0661) -> INTERNAL (Character.digit accepts them, HexFormat does not)",
            () -> alice.getJob(GetJobRequest.newBuilder().setJobId("\u0661".repeat(32)).build())),
        new Bug("job_id of 32 full-width digits (U+FF10) -> INTERNAL",
            () -> alice.cancelJob(CancelJobRequest.newBuilder().setJobId("\uff10".repeat(32)).build())),
        new Bug("a 70,000-character job type is quoted whole in the description: a grpc-java client's connection fails",
            () -> alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"" + "z".repeat(70_000) + "\"}").build())));
    List<String> failing = new ArrayList<>();
    for (Bug bug : bugs) {
      Status s = statusOf(bug.call());
      if (s.getCode() != Status.Code.INVALID_ARGUMENT || String.valueOf(s.getDescription()).length() > 8 * 1024) {
        failing.add(bug.what() + ": got " + s.getCode() + " " + abbreviate(s.getDescription()));
      }
    }
    for (String workerId : List.of("a\u0000b")) {
      try (TestWorker w = TestWorker.open(coordinator.grpcPort(), workerKey)) {
        w.send(register(workerId, List.of("abuse-nul")));
        Status s = w.closed().orTimeout(10, TimeUnit.SECONDS).join();
        if (s.getCode() != Status.Code.INVALID_ARGUMENT) {
          failing.add("Register with a NUL in worker_id -> " + s.getCode() + " " + s.getDescription());
        }
      }
    }
    for (List<String> types : List.of(List.of("a\u0000b"))) {
      try (TestWorker w = TestWorker.open(coordinator.grpcPort(), workerKey)) {
        w.send(register("w-nul-type", types));
        Status s = w.closed().orTimeout(10, TimeUnit.SECONDS).join();
        if (s.getCode() != Status.Code.INVALID_ARGUMENT) {
          failing.add("Register with a NUL in a job type -> " + s.getCode() + " " + s.getDescription());
        }
      }
    }
    try (TestWorker w = TestWorker.connect(coordinator.grpcPort(), workerKey, "w-digits", List.of("abuse-digits"),
        List.of())) {
      w.complete("\u0661".repeat(32), 1, "{}");
      w.complete(randomId(new Random(5)), 1, "{}");
      try {
        nextAck(w);
      } catch (AssertionError e) {
        failing.add("a worker outcome for a job id of 32 U+0661 digits ends the stream (NumberFormatException in onNext): "
            + w.closed().getNow(null));
      }
    }
    assertThat(failing).as(String.join("\n", failing)).isEmpty();
    // The largest page token plus the largest skip is a valid, empty page (no int overflow).
    assertThat(alice.listJobs(ListJobsRequest.newBuilder().setPageToken(maxToken).setSkip(Integer.MAX_VALUE).build())
        .getJobsList()).isEmpty();
    // A negative TTL is one second, as in the CLI's server, whatever its size.
    Job clamped = alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse\"}")
        .setTtl(Duration.newBuilder().setSeconds(Long.MIN_VALUE).setNanos(-1)).build()).getJob();
    assertThat(clamped.getExpireTime().getSeconds() - clamped.getCreateTime().getSeconds()).isBetween(0L, 1L);
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private static void assertCoordinatorServes() {
    Job job = alice.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse-after\"}").build()).getJob();
    assertThat(alice.getJob(GetJobRequest.newBuilder().setJobId(job.getJobId()).build()).getJob().getState())
        .isEqualTo(JobState.JOB_STATE_QUEUED);
    assertThat(HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.getDefaultInstance()).getStatus())
        .isEqualTo(ServingStatus.SERVING);
  }

  private static JobServiceBlockingStub jobs(String key) {
    return GrpcClients.withKey(JobServiceGrpc.newBlockingStub(channel), key);
  }

  /** The four calls that take a job id. */
  private static List<Consumer<String>> idCalls(JobServiceBlockingStub stub) {
    JobServiceBlockingStub s = stub.withDeadlineAfter(10, TimeUnit.SECONDS);
    return List.of(
        id -> s.getJob(GetJobRequest.newBuilder().setJobId(id).build()),
        id -> s.getJobResult(GetJobResultRequest.newBuilder().setJobId(id).build()),
        id -> s.cancelJob(CancelJobRequest.newBuilder().setJobId(id).build()),
        id -> {
          Iterator<WatchJobResponse> it = s.watchJob(WatchJobRequest.newBuilder().setJobId(id).build());
          it.hasNext();
        });
  }

  /** Every JobService method, on a job id. */
  private static List<Runnable> allJobCalls(JobServiceBlockingStub stub, String jobId) {
    JobServiceBlockingStub s = stub.withDeadlineAfter(10, TimeUnit.SECONDS);
    List<Runnable> calls = new ArrayList<>();
    calls.add(() -> s.createJob(CreateJobRequest.newBuilder().setPayloadJson("{\"type\":\"abuse-keys\"}").build()));
    calls.add(() -> s.listJobs(ListJobsRequest.getDefaultInstance()));
    for (Consumer<String> c : idCalls(stub)) {
      calls.add(() -> c.accept(jobId));
    }
    return calls;
  }

  /** How a worker stream opened with this key (none when null) and a valid Register ends. */
  private static Status connect(String key) {
    WorkerServiceGrpc.WorkerServiceStub stub = WorkerServiceGrpc.newStub(channel);
    if (key != null) {
      stub = GrpcClients.withKey(stub, key);
    }
    CompletableFuture<Status> closed = new CompletableFuture<>();
    StreamObserver<ConnectRequest> out = stub.connect(new StreamObserver<>() {
      @Override
      public void onNext(ConnectResponse value) {
        closed.complete(Status.OK.withDescription("registered"));
      }

      @Override
      public void onError(Throwable t) {
        closed.complete(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        closed.complete(Status.OK);
      }
    });
    try {
      out.onNext(register("w-conn", List.of("abuse-conn")));
      Status s = closed.orTimeout(10, TimeUnit.SECONDS).join();
      if (s.isOk()) {
        out.onCompleted();
      }
      return s;
    } catch (RuntimeException e) {
      return Status.fromThrowable(e);
    }
  }

  private static Status statusOf(Runnable call) {
    try {
      call.run();
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  private static OutcomeAck nextAck(TestWorker w) {
    for (int i = 0; i < 10; i++) {
      ConnectResponse r = w.next();
      if (r.hasOutcomeAck()) {
        return r.getOutcomeAck();
      }
    }
    throw new AssertionError("no OutcomeAck");
  }

  private static Assignment nextAssignment(TestWorker w) {
    for (int i = 0; i < 10; i++) {
      ConnectResponse r = w.next();
      if (r.hasAssignment()) {
        return r.getAssignment();
      }
    }
    throw new AssertionError("no Assignment");
  }

  private static ConnectRequest register(String workerId, List<String> types) {
    return ConnectRequest.newBuilder().setRegister(Register.newBuilder().setWorkerId(workerId).setVersion("abuse")
        .setPublicKey(com.google.protobuf.ByteString.copyFrom(TestWorker.keyFor(workerId).verifyingKey().raw()))
        .setCapabilities(WorkerCapabilities.newBuilder().addAllJobTypes(types).setConcurrency(1))).build();
  }

  private static ConnectRequest heartbeat() {
    return ConnectRequest.newBuilder().setHeartbeat(Heartbeat.getDefaultInstance()).build();
  }

  private static ConnectRequest credit(int count) {
    return ConnectRequest.newBuilder().setCredit(Credit.newBuilder().setCount(count)).build();
  }

  private static String token(String text) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String randomId(Random r) {
    return HEX.toHexDigits(r.nextLong()) + HEX.toHexDigits(r.nextLong());
  }

  private static <T> T pick(Random r, List<T> list) {
    return list.get(r.nextInt(list.size()));
  }

  private static String abbreviate(String s) {
    if (s == null) {
      return "null";
    }
    String oneLine = s.replace("\n", "\\n").replace("\u0000", "\\0");
    return oneLine.length() <= 100 ? oneLine : oneLine.substring(0, 100) + "…(" + s.length() + ")";
  }

  /** Writes to two streams. */
  private static final class TeeStream extends java.io.OutputStream {
    private final java.io.OutputStream first;
    private final java.io.OutputStream second;

    TeeStream(java.io.OutputStream first, java.io.OutputStream second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public void write(int b) throws java.io.IOException {
      first.write(b);
      synchronized (second) {
        second.write(b);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws java.io.IOException {
      first.write(b, off, len);
      synchronized (second) {
        second.write(b, off, len);
      }
    }

    @Override
    public void flush() throws java.io.IOException {
      first.flush();
    }
  }
}
