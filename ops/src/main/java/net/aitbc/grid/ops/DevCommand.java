package net.aitbc.grid.ops;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import net.aitbc.grid.worker.WorkerNode;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code grid dev}: the whole grid in one process. */
@Command(name = "dev", mixinStandardHelpOptions = true,
    description = "Runs everything in one process for a first look: PostgreSQL (embedded unless --db-url), "
        + "the coordinator, the REST bridge on the aitbc CLI's default port, and one worker (or --workers N) with "
        + "the embedded embedding model (plus Ollama if one answers).")
final class DevCommand implements Callable<Integer> {
  @Mixin DbOptions db;
  @Mixin SigningKeyOptions signing;
  @Mixin LedgerOptions ledger;
  @Mixin EmbeddingBatchingOptions batching = new EmbeddingBatchingOptions();

  @Option(names = "--data-dir", description = "keep the embedded PostgreSQL's data, and the receipt signing key "
      + "(signing.key), here across runs (default: a throwaway folder and key)")
  @Nullable Path dataDir;

  @Option(names = "--durable", negatable = true,
      description = "put every commit of the embedded PostgreSQL on disk before it is acknowledged "
          + "(default: on with --data-dir, off for throwaway data; --no-durable is faster)")
  @Nullable Boolean durable;

  @Option(names = "--client-key", defaultValue = "${env:AITBC_DEV_CLIENT_KEY}",
      description = "accept this client key instead of making a new one (env AITBC_DEV_CLIENT_KEY)")
  @Nullable String clientKey;

  @Option(names = "--worker-key", defaultValue = "${env:AITBC_DEV_WORKER_KEY}",
      description = "accept this worker key for REST miners (aitbc miner ...) instead of making a new one "
          + "(env AITBC_DEV_WORKER_KEY); the embedded workers have keys of their own")
  @Nullable String workerKey;

  @Option(names = "--grpc-port", defaultValue = "9090", description = "coordinator port (default ${DEFAULT-VALUE})")
  int grpcPort;

  @Option(names = "--http-port", defaultValue = "8000", description = "REST bridge port (default ${DEFAULT-VALUE})")
  int httpPort;

  @Option(names = "--metrics-port", defaultValue = "9091",
      description = "Prometheus port, -1 for none (default ${DEFAULT-VALUE})")
  int metricsPort;

  @Option(names = "--ollama-url", defaultValue = "${env:AITBC_OLLAMA_URL:-http://localhost:11434}",
      description = "Ollama server the worker uses if it answers (default ${DEFAULT-VALUE})")
  String ollamaUrl;

  @Option(names = "--concurrency", defaultValue = "2", description = "jobs each worker runs at once")
  int concurrency;

  @Option(names = "--workers", defaultValue = "1", paramLabel = "N",
      description = "workers to run, 1 to " + DevWorkers.MAX + ", each with its own worker id (dev-worker, "
          + "dev-worker-2, ...), key and state directory, all on the one embedded model (default ${DEFAULT-VALUE})")
  int workers;

  @Option(names = "--worker-swarm", paramLabel = "NAME",
      description = "a swarm every worker joins by name when it registers (repeatable)")
  List<String> workerSwarms = new ArrayList<>();

  @Override
  public Integer call() {
    // Before anything starts: a bad count or name fails at once, naming its option.
    DevGrid.Workers devWorkers = new DevGrid.Workers(workers, workerSwarms, null, batching.batching());
    DevGrid.Options options = new DevGrid.Options(db.url, db.user, db.password, dataDir, clientKey, grpcPort,
        httpPort, metricsPort, ollamaUrl, concurrency, durable,
        new DevGrid.Ledger(signing.load(), ledger.blocksEvery, ledger.blockInterval, ledger.unitPrice,
            ledger.jobRetention, ledger.resultCacheTtl, ledger.resultCacheMaxBytes), devWorkers,
        workerKey);
    DevGrid grid = Startup.run("grid dev", stop -> DevGrid.start(options, stop));
    if (grid != null) {
      System.out.println(banner(grid));
      GridMain.awaitShutdown();
    }
    return 0;
  }

  /** What {@code grid dev} prints once it is up: where everything is, and how to use it. */
  static String banner(DevGrid grid) {
    String key = grid.clientKey();
    String url = "http://127.0.0.1:" + grid.httpPort();
    int port = grid.coordinator().grpcPort();
    int metrics = grid.coordinator().metricsPort();
    List<String> lines = new ArrayList<>(List.of(
        "",
        "AITBC Grid dev mode is up.",
        "  REST bridge   " + url + "   (the aitbc CLI's default URL)",
        "  coordinator   127.0.0.1:" + port + "   (gRPC with reflection)"
            + (metrics < 0 ? "" : "   metrics http://127.0.0.1:" + metrics + "/metrics"),
        "  database      " + grid.database()));
    for (WorkerNode w : grid.workers()) {
      List<String> swarms = w.config().swarms();
      lines.add("  worker        " + w.workerId() + ": " + String.join(", ", w.capabilities().getJobTypesList())
          + " with " + String.join(", ", w.capabilities().getModelsList())
          + (swarms.isEmpty() ? "" : "; swarms " + String.join(", ", swarms)));
    }
    lines.addAll(List.of(
        "  client key    " + key,
        "  worker key    " + grid.minerKey() + "   (for aitbc miner ...; owner " + DevGrid.DEV_MINERS + ")",
        "  client funds  " + grid.clientBalance() + " " + DevGrid.DEV_CURRENCY + " in " + DevGrid.DEV_CLIENT
            + "'s account (credited " + DevGrid.DEV_FUNDS + " once, at its first start)",
        "  signing key   " + grid.signingKeyId() + "   (" + grid.signingKeyOrigin() + ")",
        "  public key    " + grid.publicKeyFile(),
        "",
        "Submit an embedding job and read its result:",
        "  curl -s -H 'X-Api-Key: " + key + "' -H 'Content-Type: application/json' \\",
        "    -d '{\"payload\":{\"type\":\"embedding\",\"prompt\":\"hello grid\"},\"ttl_seconds\":60}' " + url + "/v1/jobs",
        "  curl -s -H 'X-Api-Key: " + key + "' " + url + "/v1/jobs/<job_id>/result",
        "With the aitbc CLI:",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + key
            + " aitbc --output json client submit --type embedding --prompt 'hello grid'",
        "Be a miner with the aitbc CLI (REST miners: a long poll, then the result; they run inference jobs):",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + grid.minerKey()
            + " aitbc --output json miner register --gpu RTX4090 --memory 24 --miner-id m1",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + key + " aitbc --output json client submit --prompt 'hello miner'",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + grid.minerKey()
            + " aitbc --output json miner mine --jobs 1 --miner-id m1",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + grid.minerKey() + " aitbc --output json miner earnings --miner-id m1",
        "Pay for a job (held in escrow, released to the worker's owner when it completes, refunded if not):",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + key + " aitbc --output json client pay <job_id> 1.5",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + key + " aitbc --output json client payment-status <job_id>",
        "  curl -s -H 'X-Api-Key: " + key + "' " + url + "/v1/account",
        "Run an agent workflow (workflow.json: the README's Agent workflows Example 1;"
            + " inputs.json: {\"query\":\"hi\",\"documents\":[\"a\"]}):",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + key
            + " aitbc --output json agent create --name demo --workflow-file workflow.json",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + key
            + " aitbc --output json agent execute <workflow_id> --inputs inputs.json",
        "  AITBC_URL=" + url + " AITBC_API_KEY=" + key + " aitbc --output json agent status <execution_id>",
        "With buf curl (gRPC, server reflection):",
        "  buf curl --protocol grpc --http2-prior-knowledge -H 'x-api-key: " + key + "' \\",
        "    -d '{\"payload_json\":\"{\\\"type\\\":\\\"embedding\\\",\\\"prompt\\\":\\\"hello grid\\\"}\"}' \\",
        "    http://127.0.0.1:" + port + "/aitbc.grid.v1.JobService/CreateJob",
        "Check every signed block and receipt of the ledger, or one job's receipt:",
        "  AITBC_API_KEY=" + key + " grid verify ledger --url " + url + " --public-key " + grid.publicKeyFile(),
        "  curl -s -H 'X-Api-Key: " + key + "' " + url + "/v1/jobs/<job_id>/result > result.json",
        "  AITBC_API_KEY=" + key + " grid verify receipt result.json --url " + url + " --public-key "
            + grid.publicKeyFile(),
        "",
        "Ctrl-C stops everything."));
    return String.join("\n", lines);
  }
}
