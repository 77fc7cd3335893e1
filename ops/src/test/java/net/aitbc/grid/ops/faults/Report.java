package net.aitbc.grid.ops.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.assertj.core.api.SoftAssertions;
import org.jspecify.annotations.Nullable;

/**
 * One test's reliability numbers, printed and written to {@code target/reliability/<test>.txt}
 * before the verdict is asserted, so that a failing run still shows them.
 */
final class Report {
  private final String test;
  private final long startNanos = System.nanoTime();
  private final List<String> faults = new ArrayList<>();
  private final Map<String, Integer> refused = new TreeMap<>();
  private final List<String> notes = new ArrayList<>();
  private int runningAtFault = -1;
  private int queuedAtFault = -1;
  private @Nullable Integer lateRefused;
  private Invariants.@Nullable Verdict verdict;

  Report(String test) {
    this.test = test;
  }

  /** A fault was injected while this many jobs were running and queued (from the database, just before). */
  void fault(String what, int running, int queued) {
    faults.add(what);
    if (runningAtFault < 0) {
      runningAtFault = running;
      queuedAtFault = queued;
    }
  }

  /** Submissions refused while the fault lasted, by status. */
  void refused(Map<String, Integer> byStatus) {
    byStatus.forEach((k, v) -> refused.merge(k, v, Integer::sum));
  }

  /** Outcomes of superseded attempts that the coordinator refused. */
  void lateResultsRefused(int count) {
    lateRefused = count;
  }

  /** Anything else worth knowing about the run (an exit status, a recovery time). */
  void note(String note) {
    notes.add(note);
  }

  /** Records the verdict, then prints and writes the summary line. */
  String finish(Invariants.Verdict v) {
    verdict = v;
    String line = String.format(
        "%s: acknowledged=%d in_flight_at_fault=%d running/%d queued faults=%d %s refused_during_fault=%s lost=%d"
            + " duplicate_outcomes=%d superseded_results_accepted=%d late_results_refused=%s not_completed=%d"
            + " key_leaks=%d receipt_problems=%d wall=%.1fs%s",
        test, v.acknowledged(), runningAtFault, queuedAtFault, faults.size(), faults, refused, v.lost().size(),
        v.duplicates().size(), v.superseded().size(), lateRefused == null ? "-" : lateRefused,
        v.notCompleted().size(), v.keyLeaks().size(), v.receipts().size(), (System.nanoTime() - startNanos) / 1e9,
        notes.isEmpty() ? "" : " " + String.join(" ", notes));
    System.out.println("[reliability] " + line);
    Path dir = Grid.TARGET.resolve("reliability");
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(test + ".txt"), line + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return line;
  }

  /** Fails, naming the jobs, unless every promise held. */
  void assertHeld() {
    Invariants.Verdict v = verdict;
    assertThat(v).as("finish() first").isNotNull();
    SoftAssertions soft = new SoftAssertions();
    soft.assertThat(first(v.lost())).as("acknowledged jobs lost or never finished (%d)", v.lost().size()).isEmpty();
    soft.assertThat(first(v.notCompleted().entrySet().stream().map(Object::toString).toList()))
        .as("acknowledged noop jobs that did not complete with max_attempts 10 (%d)", v.notCompleted().size()).isEmpty();
    soft.assertThat(first(v.duplicates())).as("jobs with two recorded outcomes (%d)", v.duplicates().size()).isEmpty();
    soft.assertThat(first(v.superseded())).as("results of superseded attempts accepted (%d)", v.superseded().size())
        .isEmpty();
    soft.assertThat(v.keyLeaks()).as("API keys in logs").isEmpty();
    soft.assertThat(first(v.receipts())).as("receipts and ledger out of step with the jobs (%d)", v.receipts().size())
        .isEmpty();
    soft.assertAll();
  }

  private static List<String> first(List<String> all) {
    return all.subList(0, Math.min(20, all.size()));
  }
}
