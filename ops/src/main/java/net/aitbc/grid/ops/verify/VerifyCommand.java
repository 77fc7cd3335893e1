package net.aitbc.grid.ops.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.ExecutionReceipts;
import net.aitbc.grid.ledger.Hex;
import net.aitbc.grid.ledger.PaymentReceipts;
import net.aitbc.grid.ledger.SwarmReceipts;
import net.aitbc.grid.ledger.VerifyingKey;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code grid verify}: checks receipts and the ledger with the coordinator's public key alone. */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = "Checks a receipt, or the whole ledger, with the coordinator's public key alone. "
        + "Exit status 0: all verified; 1: something was altered or is missing (each problem is named); "
        + "2: bad arguments, or the files or the server could not be read.",
    subcommands = {VerifyCommand.Receipt.class, VerifyCommand.Ledger.class})
public final class VerifyCommand {
  /** Exit status when something does not verify. */
  static final int PROBLEMS = 1;
  /** Exit status when the arguments, a file or the server cannot be used. */
  static final int UNUSABLE = 2;
  /** At most this many problems are printed; the count says how many more there were. */
  private static final int PRINTED_PROBLEMS = 1000;

  private VerifyCommand() {}

  /** Runs a check; exceptions about files, keys and the server become one line and status 2. */
  private static int guarded(CommandSpec spec, Check check) {
    try {
      return check.run(spec.commandLine().getOut());
    } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
      spec.commandLine().getErr().println("grid verify: " + e.getMessage());
      return UNUSABLE;
    }
  }

  private interface Check {
    int run(PrintWriter out) throws IOException;
  }

  /** Prints the problems (at most {@value #PRINTED_PROBLEMS}) and "FAILED"; returns the exit status. */
  private static int report(PrintWriter out, List<String> problems, String ok) {
    if (problems.isEmpty()) {
      out.println("OK " + ok);
      return 0;
    }
    problems.stream().limit(PRINTED_PROBLEMS).forEach(out::println);
    if (problems.size() > PRINTED_PROBLEMS) {
      out.println("… and " + (problems.size() - PRINTED_PROBLEMS) + " more");
    }
    out.println("FAILED: " + problems.size() + (problems.size() == 1 ? " problem" : " problems"));
    return PROBLEMS;
  }

  @Command(name = "receipt", mixinStandardHelpOptions = true,
      description = "Checks a receipt's signature (a job's, a payment's, an agent execution's or a swarm task's), "
          + "a job receipt's worker signature and, given a proof (a file, or fetched with --url), that a signed block includes it. "
          + "FILE holds a receipt, what `aitbc client result`, `aitbc client payment-receipt` or `aitbc agent "
          + "receipt` prints, or an explorer item.")
  static final class Receipt implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "the receipt")
    Path file;

    @ArgGroup(exclusive = true, multiplicity = "1")
    CoordinatorKey key;

    @Option(names = "--proof", paramLabel = "PROOF_FILE",
        description = "the inclusion route's answer with the signed header of its block as \"block\"")
    @Nullable Path proof;

    @Option(names = "--url", description = "fetch the proof from this REST bridge (e.g. http://127.0.0.1:8000)")
    @Nullable String url;

    @Option(names = "--api-key", defaultValue = "${env:AITBC_API_KEY}",
        description = "the key for --url (env AITBC_API_KEY): the receipt's client's, or an admin's")
    @Nullable String apiKey;

    @Override
    public Integer call() {
      return guarded(spec, out -> {
        if (proof != null && url != null) {
          throw new IllegalArgumentException("give --proof or --url, not both");
        }
        VerifyingKey coordinator = key.load();
        ObjectNode receipt;
        try {
          receipt = ReceiptAudit.receiptIn(readJson(file));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        List<String> problems = new ArrayList<>(ReceiptAudit.check(receipt, coordinator));
        JsonNode proofJson = null;
        if (proof != null) {
          proofJson = readJson(proof);
        } else if (url != null) {
          String id = Json.text(receipt, "receipt_id");
          if (id == null) {
            problems.add("receipt: receipt_id: missing, so its proof cannot be fetched");
          } else {
            try (LedgerApi api = new LedgerApi(url, apiKey)) {
              proofJson = ReceiptAudit.fetchProof(api, id, problems);
            }
          }
        }
        String where = "";
        if (proofJson != null) {
          problems.addAll(ReceiptAudit.checkProof(receipt, proofJson, coordinator));
          where = "; leaf " + proofJson.path("leaf_index").asText("?") + " of block "
              + proofJson.path("block").path("height").asText("?") + " (tree size "
              + proofJson.path("block").path("tree_size").asText("?") + ")";
        }
        return report(out, problems, describe(receipt) + " is signed by " + coordinator.keyId() + signedBy(receipt)
            + where + (proofJson == null ? " (inclusion not checked: give --proof or --url)" : ""));
      });
    }
  }

  /**
   * "receipt R of job J"; for a payment's "payment receipt R of payment P (job J, released)"; for an
   * execution's "execution receipt R of execution E (completed, 3 step jobs)"; for a swarm task's "swarm task
   * receipt R of task T (consensus, completed, 3 member jobs)".
   */
  private static String describe(ObjectNode receipt) {
    if (SwarmReceipts.isSwarmTask(receipt)) {
      int members = receipt.path("members").size();
      return "swarm task receipt " + ReceiptAudit.idOf(receipt) + " of task " + receipt.path("task_id").asText("?")
          + " (" + receipt.path("strategy").asText("?") + ", " + receipt.path("status").asText("?") + ", " + members
          + (members == 1 ? " member job)" : " member jobs)");
    }
    if (ExecutionReceipts.isExecution(receipt)) {
      int steps = receipt.path("steps").size();
      return "execution receipt " + ReceiptAudit.idOf(receipt) + " of execution "
          + receipt.path("execution_id").asText("?") + " (" + receipt.path("status").asText("?") + ", " + steps
          + (steps == 1 ? " step job)" : " step jobs)");
    }
    String job = receipt.path("job_id").asText("?");
    if (PaymentReceipts.isPayment(receipt)) {
      return "payment receipt " + ReceiptAudit.idOf(receipt) + " of payment " + receipt.path("payment_id").asText("?")
          + " (job " + job + ", " + receipt.path("status").asText("?") + ")";
    }
    return "receipt " + ReceiptAudit.idOf(receipt) + " of job " + job;
  }

  /**
   * Who ran a job receipt's job and signed it; a payment's receipt has no worker signature, and an
   * execution's names its step jobs' receipts (which carry them) by leaf hash.
   */
  private static String signedBy(ObjectNode receipt) {
    if (PaymentReceipts.isPayment(receipt)) {
      return "";
    }
    if (ExecutionReceipts.isExecution(receipt)) {
      return "; it names its step jobs' receipts by leaf hash (verify each with its own file)";
    }
    if (SwarmReceipts.isSwarmTask(receipt)) {
      return "; it names its member jobs' receipts by leaf hash (verify each with its own file)";
    }
    JsonNode worker = receipt.path("metadata").path("worker");
    return worker.isObject()
        ? "; its worker " + receipt.path("provider").asText("?") + " signed it with key " + worker.path("key_id").asText("?")
        : "; it carries no worker signature";
  }

  @Command(name = "ledger", mixinStandardHelpOptions = true,
      description = "Reads every block header and sealed leaf from a REST bridge and checks the headers' "
          + "signatures and chaining, each leaf against its stored receipt, every block's root, and the "
          + "consistency proofs between consecutive blocks.")
  static final class Ledger implements Callable<Integer> {
    @Spec CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    CoordinatorKey key;

    @Option(names = "--url", required = true, description = "the REST bridge, e.g. http://127.0.0.1:8000")
    String url;

    @Option(names = "--api-key", defaultValue = "${env:AITBC_API_KEY}",
        description = "any valid API key (env AITBC_API_KEY): blocks and proofs reveal no content")
    @Nullable String apiKey;

    @Override
    public Integer call() {
      return guarded(spec, out -> {
        VerifyingKey coordinator = key.load();
        LedgerAudit.Summary summary;
        try (LedgerApi api = new LedgerApi(url, apiKey)) {
          summary = LedgerAudit.run(api, coordinator);
        }
        out.println(describe(summary, url));
        return report(out, summary.problems(), summary.blocks() == 0 && summary.leaves() == 0
            ? "the ledger is empty" : "every block is signed by " + coordinator.keyId() + " and chained, every leaf "
                + "matches its stored receipt, every root recomputes, consecutive blocks are consistent");
      });
    }

    private static String describe(LedgerAudit.Summary s, String url) {
      ObjectNode head = s.head();
      String headText = head == null ? "no blocks"
          : "head block " + head.path("height").asText("?") + " (hash " + Hex.encode(net.aitbc.grid.ledger.Blocks.hash(head))
              + ", tree size " + head.path("tree_size").asText("?") + ", root " + head.path("root").asText("?") + ")";
      return "ledger at " + url + ": " + s.blocks() + (s.blocks() == 1 ? " block, " : " blocks, ") + s.leaves()
          + (s.leaves() == 1 ? " leaf; " : " leaves; ") + headText;
    }
  }

  private static JsonNode readJson(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IOException(file + ": no such file", e);
    }
    try {
      return CanonicalJson.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": not JSON: " + e.getMessage(), e);
    }
  }
}
