package net.aitbc.grid.ops.faults;

import static net.aitbc.grid.db.Tables.BLOCK;
import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.LEDGER_HEAD;
import static net.aitbc.grid.db.Tables.LEDGER_ISSUED;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static net.aitbc.grid.db.Tables.JOB_ATTEMPT;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import net.aitbc.grid.coordinator.store.JobIds;
import net.aitbc.grid.coordinator.testing.ExecutionInvariants;
import net.aitbc.grid.coordinator.testing.PaymentInvariants;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.tables.records.JobAttemptRecord;
import net.aitbc.grid.db.tables.records.JobRecord;
import net.aitbc.grid.ledger.CompactRange;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The promises every fault test checks at its end, from the database, the client's record of
 * acknowledgements and the processes' logs: every acknowledged job exists and is terminal (none
 * lost), each has at most one recorded outcome, the stored result is the final attempt's, and no
 * API key was ever logged.
 */
final class Invariants {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<JobState> UNFINISHED = EnumSet.of(JobState.QUEUED, JobState.RUNNING);
  private static final String PREFIX = "\\[worker=([^ \\]]+) job=([0-9a-f]{32}) attempt=(\\d+)\\] ";
  private static final Pattern COMPLETED = Pattern.compile(PREFIX + "completed in ");
  private static final Pattern ACCEPTED = Pattern.compile(PREFIX + "outcome accepted");
  private static final Pattern REFUSED = Pattern.compile(PREFIX + "outcome refused: (.*)$");

  private Invariants() {}

  /** One attempt's outcome as a worker's log tells it. */
  record LoggedOutcome(String workerId, String jobId, int attempt, String detail) {}

  /**
   * What the checks found.
   *
   * @param acknowledged jobs the client was told were created
   * @param lost acknowledged jobs missing from the database, or still queued or running at the deadline
   * @param notCompleted acknowledged jobs that ended otherwise than COMPLETED, with their state and error
   * @param duplicates jobs with more than one recorded outcome (in the logs or in job_attempt)
   * @param superseded results accepted from an attempt that was not the job's final one
   * @param refusedOutcomes outcomes a coordinator refused (from the workers' logs)
   * @param keyLeaks logs that contain an API key
   * @param receipts what is wrong with the receipts and the ledger: a completed job without exactly
   *     one receipt, a receipt of a job that did not complete, a leaf out of place or sealed twice, a
   *     receipt neither sealed nor waiting for its block; and the money's (see {@link #receipts})
   * @param jobs every job row, by its API id
   */
  record Verdict(int acknowledged, List<String> lost, Map<String, String> notCompleted, List<String> duplicates,
      List<String> superseded, List<LoggedOutcome> refusedOutcomes, List<String> keyLeaks, List<String> receipts,
      Map<String, JobRecord> jobs, Map<String, List<JobAttemptRecord>> attempts) {}

  /**
   * Waits up to {@code atMost} for every acknowledged job to be terminal, then checks. It does not
   * fail by itself: {@link Report#assertHeld} does, after the numbers are written.
   */
  static Verdict check(Grid grid, Set<String> acknowledged, Duration atMost) {
    Set<UUID> ids = new HashSet<>();
    for (String id : acknowledged) {
      ids.add(JobIds.parse(id).orElseThrow(() -> new AssertionError("not a job id: " + id)));
    }
    try {
      await("every acknowledged job to be terminal").atMost(atMost).pollInterval(Duration.ofMillis(250))
          .until(() -> unfinished(grid, ids) == 0);
    } catch (ConditionTimeoutException e) {
      // Reported below as lost, with the jobs named.
    }
    Map<String, JobRecord> jobs = new HashMap<>();
    grid.query(db -> db.selectFrom(JOB).fetch()).forEach(r -> jobs.put(JobIds.format(r.getJobId()), r));
    Map<String, List<JobAttemptRecord>> attempts = new HashMap<>();
    grid.query(db -> db.selectFrom(JOB_ATTEMPT).orderBy(JOB_ATTEMPT.JOB_ID, JOB_ATTEMPT.ATTEMPT).fetch())
        .forEach(a -> attempts.computeIfAbsent(JobIds.format(a.getJobId()), k -> new ArrayList<>()).add(a));

    List<String> lost = new ArrayList<>();
    Map<String, String> notCompleted = new TreeMap<>();
    for (String id : acknowledged) {
      JobRecord job = jobs.get(id);
      if (job == null) {
        lost.add(id + " (not in the database)");
      } else if (UNFINISHED.contains(job.getState())) {
        lost.add(id + " (still " + job.getState() + ", attempt " + job.getAttempt() + " on " + job.getWorkerId() + ")");
      } else if (job.getState() != JobState.COMPLETED) {
        notCompleted.put(id, job.getState() + " after " + job.getAttempt() + " attempt(s): " + job.getError());
      }
    }

    List<String> duplicates = new ArrayList<>();
    List<String> superseded = new ArrayList<>();
    for (var e : jobs.entrySet()) {
      JobRecord job = e.getValue();
      if (job.getState() != JobState.COMPLETED) {
        continue;
      }
      String producer = resultWorker(job);
      if (!producer.equals(job.getWorkerId())) {
        superseded.add(e.getKey() + ": stored result made by " + producer + ", final attempt " + job.getAttempt()
            + " held by " + job.getWorkerId());
      }
      for (JobAttemptRecord a : attempts.getOrDefault(e.getKey(), List.of())) {
        if (a.getAttempt() >= job.getAttempt()) {
          duplicates.add(e.getKey() + ": completed at attempt " + job.getAttempt() + " but job_attempt also ends attempt "
              + a.getAttempt() + " (" + a.getError() + ")");
        }
      }
    }

    List<LoggedOutcome> accepted = new ArrayList<>();
    List<LoggedOutcome> refused = new ArrayList<>();
    for (Path log : grid.workerLogs()) {
      Set<String> completedHere = new HashSet<>();
      List<LoggedOutcome> acceptedHere = new ArrayList<>();
      for (String line : read(log).split("\n")) {
        Matcher m;
        if ((m = COMPLETED.matcher(line)).find()) {
          completedHere.add(m.group(2) + "/" + m.group(3));
        } else if ((m = ACCEPTED.matcher(line)).find()) {
          acceptedHere.add(new LoggedOutcome(m.group(1), m.group(2), Integer.parseInt(m.group(3)), log.toString()));
        } else if ((m = REFUSED.matcher(line)).find()) {
          refused.add(new LoggedOutcome(m.group(1), m.group(2), Integer.parseInt(m.group(3)), m.group(4)));
        }
      }
      // Handed-back and failed attempts are acknowledged too; only completions are results.
      acceptedHere.stream().filter(o -> completedHere.contains(o.jobId() + "/" + o.attempt())).forEach(accepted::add);
    }
    Map<String, List<LoggedOutcome>> acceptedByJob = new HashMap<>();
    accepted.forEach(o -> acceptedByJob.computeIfAbsent(o.jobId(), k -> new ArrayList<>()).add(o));
    acceptedByJob.forEach((id, outcomes) -> {
      if (outcomes.size() > 1) {
        duplicates.add(id + ": " + outcomes.size() + " completions accepted: " + outcomes);
      }
      JobRecord job = jobs.get(id);
      for (LoggedOutcome o : outcomes) {
        if (job == null || job.getState() != JobState.COMPLETED || o.attempt() != job.getAttempt()
            || !o.workerId().equals(job.getWorkerId())) {
          superseded.add(id + ": completion of attempt " + o.attempt() + " by " + o.workerId() + " accepted, but the job is "
              + (job == null ? "missing" : job.getState() + " at attempt " + job.getAttempt() + " on " + job.getWorkerId()));
        }
      }
    });

    List<String> keyLeaks = new ArrayList<>();
    try (Stream<Path> logs = Files.list(grid.logDir())) {
      // Only the files: the workers' state directories live here too.
      logs.filter(Files::isRegularFile).forEach(log -> {
        String text = read(log);
        for (String key : grid.keys()) {
          if (text.contains(key)) {
            keyLeaks.add(log.getFileName() + " contains the key starting " + key.substring(0, 12));
          }
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Verdict(acknowledged.size(), lost, notCompleted, duplicates, superseded, refused, keyLeaks,
        receipts(grid, jobs), jobs, attempts);
  }

  /**
   * The receipts and the ledger against the jobs, and the money (balances against deposits, limits,
   * escrows settled once, each settled payment with exactly one receipt of its own), and every ended
   * workflow execution with exactly one receipt: each holds at any moment, crash or not. Payments' and
   * executions' receipts are leaves too, so they count in the ledger's density.
   */
  static List<String> receipts(Grid grid, Map<String, JobRecord> jobs) {
    List<String> problems = new ArrayList<>();
    Map<UUID, Integer> perJob = new HashMap<>();
    grid.query(db -> db.select(RECEIPT.JOB_ID).from(RECEIPT)
        .where(RECEIPT.PAYMENT_ID.isNull(), RECEIPT.EXECUTION_ID.isNull()).fetch(RECEIPT.JOB_ID))
        .forEach(id -> perJob.merge(id, 1, Integer::sum));
    jobs.forEach((id, job) -> {
      int n = perJob.getOrDefault(job.getJobId(), 0);
      boolean completed = job.getState() == JobState.COMPLETED;
      if (completed && n != 1 || !completed && n != 0) {
        problems.add(id + ": " + job.getState() + " with " + n + " receipt(s)");
      }
    });
    // Receipts are the ledger's leaves: dense indexes from 0, as many as were issued, and the leaves
    // of the sealed tree hash to the root its latest block signed.
    var leaves = grid.query(db -> db.select(RECEIPT.LEAF_IDX, RECEIPT.LEAF_HASH).from(RECEIPT)
        .orderBy(RECEIPT.LEAF_IDX).fetch());
    for (int i = 0; i < leaves.size(); i++) {
      if (leaves.get(i).value1() != i) {
        problems.add("leaf " + i + " is missing (the next leaf is " + leaves.get(i).value1() + ")");
        break;
      }
    }
    long issued = grid.query(db -> db.select(LEDGER_ISSUED.LEAVES).from(LEDGER_ISSUED).fetchSingle().value1());
    if (issued != leaves.size()) {
      problems.add("the ledger says " + issued + " leaves were issued, " + leaves.size() + " receipts are stored");
    }
    var head = grid.query(db -> db.select(LEDGER_HEAD.TREE_SIZE, LEDGER_HEAD.HEIGHT).from(LEDGER_HEAD).fetchSingle());
    if (head.value1() > leaves.size()) {
      problems.add("the ledger's head seals " + head.value1() + " leaves, " + leaves.size() + " are stored");
    } else if (head.value2() > 0) {
      CompactRange tree = new CompactRange(0, List.of());
      for (int i = 0; i < head.value1(); i++) {
        tree.append(leaves.get(i).value2());
      }
      byte[] signed = grid.query(db -> db.select(BLOCK.ROOT).from(BLOCK).where(BLOCK.HEIGHT.eq(head.value2()))
          .fetchSingle().value1());
      if (!Arrays.equals(signed, tree.root())) {
        problems.add("the root of the " + head.value1() + " sealed leaves is not block " + head.value2() + "'s");
      }
    }
    try {
      grid.query(db -> {
        PaymentInvariants.check(db);
        return null;
      });
    } catch (AssertionError e) {
      problems.add("payments: " + e.getMessage());
    }
    try {
      grid.query(db -> {
        ExecutionInvariants.check(db);
        return null;
      });
    } catch (AssertionError e) {
      problems.add("executions: " + e.getMessage());
    }
    return problems;
  }

  private static int unfinished(Grid grid, Set<UUID> ids) {
    Map<UUID, JobState> states = grid.query(db -> db.select(JOB.JOB_ID, JOB.STATE).from(JOB).fetchMap(JOB.JOB_ID, JOB.STATE));
    int n = 0;
    for (UUID id : ids) {
      JobState s = states.get(id);
      if (s == null || UNFINISHED.contains(s)) {
        n++;
      }
    }
    return n;
  }

  /** The worker named in a noop result ({@code {"ok":true,"worker_id":…}}). */
  private static String resultWorker(JobRecord job) {
    if (job.getResult() == null) {
      return "(no result)";
    }
    try {
      JsonNode result = JSON.readTree(job.getResult().data());
      return result.path("worker_id").asText("(none)");
    } catch (IOException e) {
      return "(unreadable result)";
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
