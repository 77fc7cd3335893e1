package net.aitbc.grid.ops.bench;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The benchmark's printed output: a line per phase as it ends, then a table and the targets. */
final class Report {
  private Report() {}

  /** One phase in one line, printed as soon as it ends. */
  static String line(String name, Results.Phase p) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%-18s %7d jobs %5d err %9s jobs/s", name, p.jobs(), p.errors(), thousands(p.jobsPerS())));
    Results.Latency l = p.e2e() != null ? p.e2e() : p.latency();
    if (l != null && l.n() > 0) {
      b.append(String.format(Locale.ROOT, "  %s p50/p90/p99/max %s ms", p.e2e() != null ? "e2e" : "call",
          latency(l)));
    }
    if (p.pickup() != null && p.pickup().n() > 0) {
      b.append(String.format(Locale.ROOT, "  pickup %s ms", latency(p.pickup())));
    }
    Results.Cpu c = p.cpu();
    b.append(String.format(Locale.ROOT, " | cores coord %.2f pg %.2f bench %.2f other %.2f", c.coordinatorCores(),
        c.postgresCores(), c.benchCores(), c.otherCores()));
    b.append(" | coord ").append(memory(p.coordinator()));
    if (p.noisy()) {
      b.append(" | NOISY");
    }
    if (p.timedOut()) {
      b.append(" | TIMED OUT");
    }
    if (p.errorKinds() != null) {
      b.append("\n    errors: ").append(p.errorKinds());
    }
    return b.toString();
  }

  /** The whole run as a markdown table, plus the embedding comparison and the targets. */
  static void table(PrintWriter out, Results.Run run) {
    out.println();
    out.println("| phase | what | jobs | err | jobs/s | p50 | p90 | p99 | max (ms) | cores: coord / pg / bench / other | coord RSS / heap (MB) |");
    out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|");
    for (Map.Entry<String, Results.Phase> e : run.phases().entrySet()) {
      row(out, e.getKey(), e.getValue());
    }
    for (Map.Entry<String, Results.Phase> e : run.drains().entrySet()) {
      row(out, "drain " + e.getKey(), e.getValue());
    }
    out.println();
    out.println("Latency rows: p50..max of enqueue→outcome committed (e2e); submit rows: of each call. "
        + "Cores: average busy over the phase; the host has " + run.host().get("cpus") + ".");
    Results.Phase latency = run.phases().get("latency");
    if (latency != null && latency.pickup() != null) {
      out.println("latency pickup (Assignment received − before CreateJob) p50/p90/p99/max: " + latency(latency.pickup())
          + " ms");
    }
    Results.Phase embedding = run.phases().get("embedding");
    if (embedding != null && embedding.details() != null) {
      Map<String, Object> d = embedding.details();
      out.printf(Locale.ROOT, "embedding: direct %s jobs/s, through the grid %s jobs/s, grid/direct %s (%s sentences × %s rounds, concurrency %s)%n",
          d.get("direct_jobs_per_s"), d.get("grid_jobs_per_s"), d.get("grid_over_direct"), d.get("sentences"),
          d.get("rounds"), d.get("concurrency"));
    }
    if (run.dbCheck() != null) {
      Results.DbCheck c = run.dbCheck();
      out.printf(Locale.ROOT, "database check: %d submissions acknowledged, %d jobs in the database; %d outcomes accepted, "
          + "%d jobs COMPLETED; %d unfinished%n", c.submissionsAcknowledged(), c.jobsInDb(), c.outcomesAccepted(),
          c.completedInDb(), c.unfinishedInDb());
    }
    targets(out, run);
  }

  private static void row(PrintWriter out, String name, Results.Phase p) {
    Results.Latency l = p.e2e() != null ? p.e2e() : p.latency();
    Results.Cpu c = p.cpu();
    out.printf(Locale.ROOT, "| %s%s | %s | %d | %d | %s | %s | %s | %s | %s | %.2f / %.2f / %.2f / %.2f | %s |%n", name,
        p.noisy() ? " *" : "", p.what(), p.jobs(), p.errors(), thousands(p.jobsPerS()),
        l == null ? "" : ms(l.p50Ms()), l == null ? "" : ms(l.p90Ms()), l == null ? "" : ms(l.p99Ms()),
        l == null ? "" : ms(l.maxMs()), c.coordinatorCores(), c.postgresCores(), c.benchCores(), c.otherCores(),
        memory(p.coordinator()));
  }

  /** The targets against this run; informational, the test suite never asserts timings. */
  private static void targets(PrintWriter out, Results.Run run) {
    out.println();
    out.println("Targets (this machine, informational):");
    Map<String, Results.Phase> ph = run.phases();
    target(out, "submit_grpc ≥ 25,000 jobs/s (8 closed-loop producers)", rate(ph, "submit_grpc"), 25_000, true);
    target(out, "submit_grpc_async ≥ 25,000 jobs/s (one caller, calls in flight)", rate(ph, "submit_grpc_async"), 25_000, true);
    target(out, "process ≥ 100,000 jobs/s", rate(ph, "process"), 100_000, true);
    Results.Phase lat = ph.get("latency");
    target(out, "latency p50 ≤ 1 ms", lat == null || lat.e2e() == null ? null : lat.e2e().p50Ms(), 1, false);
    target(out, "latency p99 ≤ 3 ms", lat == null || lat.e2e() == null ? null : lat.e2e().p99Ms(), 3, false);
    target(out, "REST submit ≥ 0.7 × gRPC (closed loop)", ratio(rate(ph, "submit_rest"), rate(ph, "submit_grpc")), 0.7, true);
    target(out, "REST submit ≥ 0.7 × gRPC (in flight)", ratio(rate(ph, "submit_rest_async"), rate(ph, "submit_grpc_async")), 0.7, true);
    Results.Phase emb = ph.get("embedding");
    Object ratio = emb == null || emb.details() == null ? null : emb.details().get("grid_over_direct");
    target(out, "embedding through the grid ≥ 0.9 × direct", ratio instanceof Number n ? n.doubleValue() : null, 0.9, true);
  }

  private static @Nullable Double rate(Map<String, Results.Phase> phases, String name) {
    Results.Phase p = phases.get(name);
    return p == null ? null : (double) p.jobsPerS();
  }

  private static @Nullable Double ratio(@Nullable Double a, @Nullable Double b) {
    return a == null || b == null || b == 0 ? null : Math.round(a / b * 1000) / 1000.0;
  }

  /** One target line: what, the measured value, and whether it is met. */
  static void target(PrintWriter out, String what, @Nullable Double measured, double bound, boolean atLeast) {
    if (measured == null) {
      return;
    }
    boolean met = atLeast ? measured >= bound : measured <= bound;
    out.printf(Locale.ROOT, "  %-62s %12s  %s%n", what, measured >= 100 ? thousands(Math.round(measured)) : String.valueOf(measured),
        met ? "met" : "NOT met");
  }

  /** p50 / p90 / p99 / max. */
  static String latency(Results.Latency l) {
    return ms(l.p50Ms()) + " / " + ms(l.p90Ms()) + " / " + ms(l.p99Ms()) + " / " + ms(l.maxMs());
  }

  /** Milliseconds with as many decimals as they deserve. */
  static String ms(@Nullable Double v) {
    if (v == null) {
      return "-";
    }
    return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : v >= 10 ? String.format(Locale.ROOT, "%.1f", v)
        : String.format(Locale.ROOT, "%.2f", v);
  }

  /** RSS / heap used, in MB. */
  static String memory(Results.Memory m) {
    return String.format(Locale.ROOT, "%.0f / %s", m.rssMb(), m.heapUsedMb() == null ? "-" : String.format(Locale.ROOT, "%.0f", m.heapUsedMb()));
  }

  /** 12,345. */
  static String thousands(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }
}
